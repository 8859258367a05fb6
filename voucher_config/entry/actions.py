"""Acting on an entry: saving it as a draft, then submitting, approving or posting it.

Every state change goes through the ledger's services (`accounting.services`), which hold the
rules about vouchers; what is checked here first is what the configuration adds (the roles it
asks for) and what the screen needs (was anything changed, which version was the form built on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounting.models import Membership, Role, Voucher, VoucherStatus
from accounting.services.checks import VoucherRejected
from accounting.services.drafts import (
    voucher_approve,
    voucher_draft_create,
    voucher_draft_update,
    voucher_submit,
)
from accounting.services.inputs import LineInput, User, VoucherInput
from accounting.services.posting import voucher_post
from voucher_config.entry.definitions import (
    ACTIONS,
    APPROVE,
    POST,
    SAVE,
    SUBMIT,
    ConfigChanged,
    EntryDefinition,
    config_change,
)
from voucher_config.entry.problems import add_header_error, data_problems, place_problems
from voucher_config.form_factory import ConfiguredForms
from voucher_config.posting_rules import PostingPlan, PostingRuleError, voucher_input

ACTION_WORDS = {SAVE: "save", SUBMIT: "submit", APPROVE: "approve", POST: "post"}


class EntryInvalid(Exception):
    """The entry cannot be saved or acted on; the reasons are on the forms.

    `rejected` is the posting service's refusal when that is what stopped it.
    """

    def __init__(self, rejected: VoucherRejected | None = None):
        self.rejected = rejected
        super().__init__(str(rejected) if rejected else "the entry has errors")


class EntryRefused(Exception):
    """The user may not do this (role) or the voucher is not in a state that allows it."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def entry_voucher_input(
    *, entry_def: EntryDefinition, forms_: ConfiguredForms
) -> tuple[VoucherInput, PostingPlan]:
    """The voucher an entry makes, or EntryInvalid with the problems placed on the forms."""
    if not forms_.is_valid():
        raise EntryInvalid
    try:
        voucher_in, plan = voucher_input(
            definition=entry_def.definition,
            entry=forms_.entry(),
            voucher_type=entry_def.config.voucher_type,
            version=entry_def.version,
            config_hash=entry_def.config_hash,
        )
    except PostingRuleError as exc:
        add_header_error(forms_, exc.field_key, exc.message)
        raise EntryInvalid from exc
    problems = data_problems(entry_def, voucher_in.data)
    for key, message in problems:
        add_header_error(forms_, key, message)
    if problems:
        raise EntryInvalid
    return voucher_in, plan


def _line_key(line: LineInput) -> tuple[Any, ...]:
    return (
        line.account_id,
        line.debit,
        line.credit,
        line.description,
        line.party_id,
        line.data,
    )


def matches_stored(voucher: Voucher, voucher_in: VoucherInput, stored: Sequence[LineInput]) -> bool:
    """Whether an entry is exactly what the voucher already holds (header and every line)."""
    return (
        voucher.date == voucher_in.date
        and voucher.reference == voucher_in.reference
        and voucher.narration == voucher_in.narration
        and voucher.party_id == voucher_in.party_id
        and voucher.data == voucher_in.data
        and [_line_key(line) for line in stored] == [_line_key(line) for line in voucher_in.lines]
    )


def stored_lines(voucher: Voucher) -> list[LineInput]:
    return [
        LineInput(
            account_id=row[0],
            debit=row[1],
            credit=row[2],
            description=row[3],
            party_id=row[4],
            data=row[5],
        )
        for row in voucher.lines.order_by("order", "id").values_list(
            "account_id", "debit", "credit", "description", "party_id", "data"
        )
    ]


@dataclass
class EntryResult:
    voucher: Voucher
    action: str
    saved: bool  # False when the stored voucher already held exactly this entry

    @property
    def message(self) -> str:
        label = self.voucher.number or f"Draft #{self.voucher.pk}"
        if self.action == POST:
            return f"{self.voucher.voucher_type.name} voucher {self.voucher.number} is posted."
        if self.action == SUBMIT:
            return f"{label} is submitted for approval."
        if self.action == APPROVE:
            return f"{label} is approved and can be posted."
        if not self.saved:
            return f"{label}: nothing had changed since it was last saved."
        return f"{label} is saved."


def check_role(*, entry_def: EntryDefinition, membership: Membership, action: str) -> None:
    role = Role(entry_def.role_for(action))
    if not membership.has_role(role):
        raise EntryRefused(
            f"To {ACTION_WORDS[action]} a {entry_def.type_name} voucher you need the "
            f"{role.label} role; yours is {membership.get_role_display()}."
        )


def _refuse_status(voucher: Voucher | None, action: str) -> None:
    if voucher is None:
        if action == APPROVE:
            raise EntryRefused("Only a voucher submitted for approval can be approved.")
        return
    if not voucher.is_editable:
        raise EntryRefused(
            f"{voucher} is {voucher.get_status_display().lower()}; it cannot change."
        )
    if action == APPROVE and voucher.status != VoucherStatus.SUBMITTED:
        raise EntryRefused(
            f"{voucher} is {voucher.get_status_display().lower()}; only a voucher submitted "
            "for approval can be approved."
        )
    if action == SUBMIT and voucher.status == VoucherStatus.APPROVED:
        raise EntryRefused(f"{voucher} is already approved.")


def _rejected(
    forms_: ConfiguredForms,
    entry_def: EntryDefinition,
    lines: Sequence[LineInput],
    exc: VoucherRejected,
) -> EntryInvalid:
    place_problems(forms_, entry_def, lines, exc.problems)
    return EntryInvalid(exc)


def entry_act(
    *,
    action: str,
    entry_def: EntryDefinition,
    current: EntryDefinition | None,
    forms_: ConfiguredForms,
    membership: Membership,
    user: User,
    voucher: Voucher | None = None,
) -> EntryResult:
    """Saves an entry as a draft, then submits, approves or posts it as the action asks.

    `entry_def` is the configuration version the form was rendered with and is read with;
    `current` the active one (None when the type has no active configuration). A change that
    must be saved is saved under the active version only: if the form showed another one,
    ConfigChanged is raised and nothing is written. An entry identical to the stored voucher is
    not written again, so approving or posting acts on exactly what was saved.

    Saving and the action run in one transaction: a refused post leaves the draft as it was.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; valid: {', '.join(ACTIONS)}")
    check_role(entry_def=entry_def, membership=membership, action=action)
    _refuse_status(voucher, action)
    voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    stored = stored_lines(voucher) if voucher is not None else []
    unchanged = voucher is not None and matches_stored(voucher, voucher_in, stored)

    if not unchanged:
        if action == APPROVE or (voucher is not None and voucher.status == VoucherStatus.APPROVED):
            add_header_error(
                forms_,
                None,
                "You changed the voucher. An approval covers what was submitted: save the "
                "changes as a draft and submit it again, or reload the page to "
                f"{ACTION_WORDS[action]} it as it stands.",
            )
            raise EntryInvalid
        if current is None:
            raise EntryRefused(
                f"{entry_def.type_name} vouchers can no longer be entered: the configuration "
                "is inactive. Ask an administrator."
            )
        if current.version != entry_def.version:
            raise ConfigChanged(config_change(entry_def, current), current)

    organization = membership.organization
    lines: Sequence[LineInput] = stored if unchanged else voucher_in.lines
    try:
        with transaction.atomic():
            if unchanged:
                assert voucher is not None
                saved = voucher
            elif voucher is None:
                saved = voucher_draft_create(
                    organization=organization, voucher_input=voucher_in, user=user
                )
            else:
                saved = voucher_draft_update(voucher=voucher, voucher_input=voucher_in, user=user)
            if action == SUBMIT:
                saved = voucher_submit(voucher=saved, user=user)
            elif action == APPROVE:
                saved = voucher_approve(voucher=saved, user=user)
            elif action == POST:
                saved = voucher_post(voucher=saved, user=user)
    except VoucherRejected as exc:
        raise _rejected(forms_, entry_def, lines, exc) from exc
    saved.voucher_type = entry_def.config.voucher_type
    return EntryResult(voucher=saved, action=action, saved=not unchanged)


# --- what the user may do next ---------------------------------------------------------------


@dataclass
class AvailableActions:
    """Which workflow buttons the user sees; `entry_act` checks the same rules again."""

    save: bool = False
    submit: bool = False
    approve: bool = False
    post: bool = False
    read_only: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def primary(self) -> str:
        for name in (POST, APPROVE, SUBMIT, SAVE):
            if getattr(self, name):
                return name
        return ""


def available_actions(
    *, entry_def: EntryDefinition, membership: Membership, voucher: Voucher | None
) -> AvailableActions:
    """What the user may do with a new or stored voucher, and why any other step is not theirs."""
    status = voucher.status if voucher is not None else VoucherStatus.DRAFT
    needs_approval = (
        voucher.requires_approval if voucher is not None else entry_def.requires_approval
    )
    actions = AvailableActions(
        save=status in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED),
        submit=needs_approval and status == VoucherStatus.DRAFT,
        approve=status == VoucherStatus.SUBMITTED and entry_def.may(membership, APPROVE),
        read_only=status == VoucherStatus.APPROVED,
    )
    would_post = status == VoucherStatus.APPROVED or (
        status == VoucherStatus.DRAFT and not needs_approval
    )
    actions.post = would_post and entry_def.may(membership, POST)
    for action, shown, wanted in (
        (POST, actions.post, would_post),
        (APPROVE, actions.approve, status == VoucherStatus.SUBMITTED),
    ):
        if wanted and not shown:
            role = Role(entry_def.role_for(action)).label
            actions.notes.append(
                f"{'Posting' if action == POST else 'Approving'} a {entry_def.type_name} voucher "
                f"needs the {role} role; save it and someone with that role can "
                f"{'post' if action == POST else 'approve'} it."
            )
    if needs_approval and status == VoucherStatus.DRAFT:
        approver = Role(entry_def.role_for(APPROVE)).label
        actions.notes.append(
            f"{entry_def.type_name} vouchers are approved by an {approver.lower()} before posting."
        )
    return actions
