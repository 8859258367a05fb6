"""Acting on an entry: saving it as a draft, then submitting, approving or posting it.

Every state change goes through the ledger's entry service (`accounting.services.entering`),
which holds the rules about vouchers; the configuration supplies the workflow (approval, the
roles that approve and post), and the screen checks what only it knows: which configuration
version the form was built on, and whether that is still the one to save under.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from accounting.models import Membership, Voucher, VoucherStatus
from accounting.services.checks import VoucherRejected
from accounting.services.entering import (
    EntryOutcome,
    entry_matches_stored,
    stored_lines,
    voucher_enter,
)
from accounting.services.entry_rules import EntryAction, EntryRefused, entry_refusal
from accounting.services.inputs import User, VoucherInput, data_kept
from voucher_config.entry.definitions import (
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


class EntryInvalid(Exception):
    """The entry cannot be saved or acted on; the reasons are on the forms.

    `rejected` is the ledger's refusal when that is what stopped it.
    """

    def __init__(self, rejected: VoucherRejected | None = None):
        self.rejected = rejected
        super().__init__(str(rejected) if rejected else "the entry has errors")


def entry_voucher_input(
    *, entry_def: EntryDefinition, forms_: ConfiguredForms
) -> tuple[VoucherInput, PostingPlan]:
    """The voucher an entry makes, or EntryInvalid with the problems placed on the forms."""
    if not forms_.is_valid():
        raise EntryInvalid
    try:
        voucher_in, plan = voucher_input(
            definition=entry_def.definition,
            entered=forms_.entered_voucher(),
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


def entry_act(
    *,
    action: str,
    entry_def: EntryDefinition,
    current: EntryDefinition | None,
    forms_: ConfiguredForms,
    membership: Membership,
    user: User,
    voucher: Voucher | None = None,
    submission_key: str | None = None,
) -> EntryOutcome:
    """Saves an entry as a draft, then submits, approves or posts it, through the ledger's entry
    service (which holds the role and status rules and runs it all in one transaction).

    `entry_def` is the configuration version the form was rendered with and is read with;
    `current` the active one (None when the type has no active configuration). A change is
    saved under the active version only: if the form showed another one, ConfigChanged is
    raised and nothing is written. The ledger's refusals are placed on the forms (EntryInvalid).
    """
    entry_action = EntryAction.named(action)
    workflow = entry_def.entry_workflow
    refusal = entry_refusal(
        organization=membership.organization,
        membership=membership,
        workflow=workflow,
        action=entry_action,
        voucher=voucher,
        type_name=entry_def.type_name,
    )
    if refusal is not None:
        raise refusal
    voucher_in: VoucherInput | None
    if voucher is not None and voucher.status == VoucherStatus.APPROVED:
        # Shown read-only, an approved voucher sends none of its fields: approval covered what
        # was saved, so the ledger acts on the stored voucher as it stands.
        voucher_in, stored, changed = None, stored_lines(voucher), False
    else:
        voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
        if voucher is not None:  # what the other screen or another version took is kept
            voucher_in = replace(
                voucher_in, data=data_kept(stored=voucher.data, entered=voucher_in.data)
            )
        stored = stored_lines(voucher) if voucher is not None else []
        changed = voucher is None or not entry_matches_stored(voucher, voucher_in, stored)
    # A change to what is being approved is refused by the ledger, whatever the version.
    if changed and entry_action != EntryAction.APPROVE:
        if current is None:
            raise EntryRefused(
                f"{entry_def.type_name} vouchers can no longer be entered: the configuration "
                "is inactive. Ask an administrator.",
                rule="status",
            )
        if current.version != entry_def.version:
            raise ConfigChanged(config_change(entry_def, current), current)
    try:
        return voucher_enter(
            organization=membership.organization,
            membership=membership,
            user=user,
            action=entry_action,
            voucher_input=voucher_in,
            voucher=voucher,
            stored=stored,
            submission_key=submission_key,
        )
    except VoucherRejected as exc:
        lines = voucher_in.lines if changed and voucher_in is not None else stored
        place_problems(forms_, entry_def, lines, exc.problems)
        raise EntryInvalid(exc) from exc


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
    """What the user may do with a new or stored voucher, and why any other step is not theirs.

    The ledger's entry rules decide (`entry_refusal`), so a button is shown only where the
    action would be accepted.
    """
    workflow = entry_def.entry_workflow
    status = voucher.status if voucher is not None else VoucherStatus.DRAFT
    needs_approval = workflow.requires_approval or (
        voucher is not None and voucher.requires_approval
    )

    def refusal(action: EntryAction) -> EntryRefused | None:
        return entry_refusal(
            organization=membership.organization,
            membership=membership,
            workflow=workflow,
            action=action,
            voucher=voucher,
            type_name=entry_def.type_name,
        )

    wants_approval = status == VoucherStatus.SUBMITTED
    would_post = status == VoucherStatus.APPROVED or (
        status == VoucherStatus.DRAFT and not needs_approval
    )
    approve_refused = refusal(EntryAction.APPROVE) if wants_approval else None
    post_refused = refusal(EntryAction.POST) if would_post else None
    actions = AvailableActions(
        save=status in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED),
        submit=needs_approval and status == VoucherStatus.DRAFT,
        approve=wants_approval and approve_refused is None,
        post=would_post and post_refused is None,
        read_only=status == VoucherStatus.APPROVED,
    )
    for action, refused in ((POST, post_refused), (APPROVE, approve_refused)):
        if refused is None:
            continue
        if refused.rule == "role":
            role = workflow.role_for(EntryAction(action)).label
            actions.notes.append(
                f"{'Posting' if action == POST else 'Approving'} a {entry_def.type_name} voucher "
                f"needs the {role} role; save it and someone with that role can "
                f"{'post' if action == POST else 'approve'} it."
            )
        else:
            actions.notes.append(refused.message)
    if needs_approval and status == VoucherStatus.DRAFT:
        approver = workflow.role_for(EntryAction.APPROVE).label
        actions.notes.append(
            f"{entry_def.type_name} vouchers are approved by an {approver.lower()} (not the "
            "person who entered them) before posting."
        )
    return actions
