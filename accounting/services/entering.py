"""Acting on an entered voucher: the one path every entry screen takes to save, submit, approve
or post a new or a stored voucher.

The role rule (who may approve and post) and the status rule (what a voucher in each status
allows) live here once, so a rule added here holds for both screens alike. Saving and the action
run in one transaction: a refused post leaves a stored draft exactly as it was, and a new voucher
that is posted at once is written in one step or not at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction

from accounting.models import Membership, Organization, Role, Voucher, VoucherStatus
from accounting.services.checks import Problem, VoucherRejected
from accounting.services.drafts import (
    voucher_approve,
    voucher_draft_create,
    voucher_draft_update,
    voucher_submit,
)
from accounting.services.inputs import LineInput, User, VoucherInput
from accounting.services.posting import voucher_create_posted, voucher_post


class EntryAction(StrEnum):
    SAVE = "save"
    SUBMIT = "submit"
    APPROVE = "approve"
    POST = "post"

    @classmethod
    def named(cls, name: str) -> EntryAction:
        """The action a button names; ValueError listing the valid ones for any other name."""
        try:
            return cls(name)
        except ValueError:
            valid = ", ".join(action.value for action in cls)
            raise ValueError(f"Unknown action {name!r}; valid: {valid}") from None


@dataclass(frozen=True)
class EntryWorkflow:
    """Whether a type's vouchers need approval before posting, and the least role that may
    approve and post them; entering and submitting are a clerk's job."""

    requires_approval: bool = False
    approver_role: str = Role.ACCOUNTANT
    poster_role: str = Role.ACCOUNTANT

    def role_for(self, action: EntryAction) -> Role:
        if action == EntryAction.APPROVE:
            return Role(self.approver_role)
        if action == EntryAction.POST:
            return Role(self.poster_role)
        return Role.CLERK

    def allows(self, membership: Membership, action: EntryAction) -> bool:
        return membership.has_role(self.role_for(action))


class EntryRefused(Exception):
    """The user may not do this (rule "role"), or the voucher's status does not allow it (rule
    "status"); nothing was written."""

    def __init__(self, message: str, *, rule: str):
        self.message = message
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class EntryOutcome:
    """What acting on an entry did, for the screen to report and the rollout to count."""

    action: EntryAction
    voucher: Voucher | None
    created: bool = False  # a new voucher was stored
    saved: bool = False  # the entry was written (False: the stored voucher already held it)
    failed_reason: str = ""  # the rules a refused post broke

    @classmethod
    def failed(cls, action: EntryAction, rejected: VoucherRejected) -> EntryOutcome:
        return cls(action=action, voucher=None, failed_reason=rejected.reason)

    @property
    def posted(self) -> bool:
        return self.voucher is not None and self.voucher.status == VoucherStatus.POSTED

    @property
    def message(self) -> str:
        voucher = self.voucher
        assert voucher is not None, "a refused entry has no message of success"
        label = voucher.number or f"Draft #{voucher.pk}"
        if self.posted:
            return f"{voucher.voucher_type.name} voucher {voucher.number} is posted."
        if self.action == EntryAction.SUBMIT:
            return f"{label} is submitted for approval."
        if self.action == EntryAction.APPROVE:
            return f"{label} is approved and can be posted."
        if not self.saved:
            return f"{label}: nothing had changed since it was last saved."
        return f"{label} is saved."


@dataclass(frozen=True)
class EntryAttempt:
    """Who asks to take which action on which voucher, with what entry: what the rules judge."""

    organization: Organization
    membership: Membership | None  # None: an operator's command, which no role limits
    workflow: EntryWorkflow
    action: EntryAction
    voucher: Voucher | None  # None: a new voucher
    voucher_input: VoucherInput | None  # None: the voucher as stored
    type_name: str


# A rule looks at an attempt and says why it is refused, or None.
EntryRule = Callable[[EntryAttempt], EntryRefused | None]


def organization_rule(attempt: EntryAttempt) -> EntryRefused | None:
    membership, voucher = attempt.membership, attempt.voucher
    if membership is not None and membership.organization_id != attempt.organization.pk:
        return EntryRefused(f"You are not a member of {attempt.organization}.", rule="organization")
    if voucher is not None and voucher.organization_id != attempt.organization.pk:
        return EntryRefused(f"{voucher} belongs to another organization.", rule="organization")
    return None


def role_rule(attempt: EntryAttempt) -> EntryRefused | None:
    membership = attempt.membership
    role = attempt.workflow.role_for(attempt.action)
    if membership is not None and not membership.has_role(role):
        return EntryRefused(
            f"To {attempt.action} a {attempt.type_name.lower()} voucher you need the {role.label} "
            "role; "
            f"yours is {membership.get_role_display()}.",
            rule="role",
        )
    return None


def status_rule(attempt: EntryAttempt) -> EntryRefused | None:
    voucher, action = attempt.voucher, attempt.action
    if voucher is None:
        if action == EntryAction.APPROVE:
            return EntryRefused(
                "Only a voucher submitted for approval can be approved: save it and submit it "
                "first.",
                rule="status",
            )
        return None
    status = voucher.get_status_display().lower()
    if not voucher.is_editable:
        return EntryRefused(f"{voucher} is {status}; it cannot change.", rule="status")
    if action == EntryAction.APPROVE and voucher.status != VoucherStatus.SUBMITTED:
        return EntryRefused(
            f"{voucher} is {status}; only a voucher submitted for approval can be approved.",
            rule="status",
        )
    if action == EntryAction.SUBMIT and voucher.status == VoucherStatus.APPROVED:
        return EntryRefused(f"{voucher} is already approved.", rule="status")
    return None


# Every rule an entry must pass before anything is read or written, in the order they are asked.
# A rule added here holds for both screens, the import and every command.
ENTRY_RULES: tuple[EntryRule, ...] = (organization_rule, role_rule, status_rule)


def entry_refusal(
    *,
    organization: Organization,
    membership: Membership | None,
    workflow: EntryWorkflow,
    action: EntryAction,
    voucher: Voucher | None,
    type_name: str,
    voucher_input: VoucherInput | None = None,
) -> EntryRefused | None:
    """Why `membership` may not take `action` on `voucher` (None: a new one) with the entry
    `voucher_input` (None: as stored), or None if it may: the first of ENTRY_RULES to refuse.

    Screens ask this to offer only the buttons that will work; `voucher_enter` enforces it.
    """
    attempt = EntryAttempt(
        organization=organization,
        membership=membership,
        workflow=workflow,
        action=action,
        voucher=voucher,
        voucher_input=voucher_input,
        type_name=type_name,
    )
    for rule in ENTRY_RULES:
        refused = rule(attempt)
        if refused is not None:
            return refused
    return None


def stored_lines(voucher: Voucher) -> list[LineInput]:
    """A stored voucher's lines as they were entered, in order."""
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


def _line_key(line: LineInput) -> tuple[Any, ...]:
    return (line.account_id, line.debit, line.credit, line.description, line.party_id, line.data)


def entry_matches_stored(
    voucher: Voucher, voucher_input: VoucherInput, stored: Sequence[LineInput]
) -> bool:
    """Whether an entry is exactly what the voucher already holds (header and every line)."""
    return (
        voucher.date == voucher_input.date
        and voucher.reference == voucher_input.reference
        and voucher.narration == voucher_input.narration
        and voucher.party_id == voucher_input.party_id
        and voucher.data == voucher_input.data
        and [_line_key(line) for line in stored]
        == [_line_key(line) for line in voucher_input.lines]
    )


APPROVAL_COVERS_WHAT_WAS_SUBMITTED = (
    "was changed after it was submitted. An approval covers what was submitted: save the changes "
    "as a draft and submit it again, or reload the page to {action} it as it stands"
)


def voucher_enter(
    *,
    organization: Organization,
    membership: Membership | None,
    user: User,
    action: EntryAction,
    workflow: EntryWorkflow,
    voucher_input: VoucherInput | None,
    voucher: Voucher | None = None,
    stored: Sequence[LineInput] | None = None,
) -> EntryOutcome:
    """Saves an entry as a new or a stored voucher, then submits, approves or posts it.

    `membership` is the acting user's in `organization` (None: an operator's command, such as
    an import). `voucher_input` None acts on the stored voucher as it stands. An entry identical
    to the stored voucher is not written again, so approving or posting acts on exactly what was
    saved; a changed entry cannot be approved, nor saved over an approved voucher. A new voucher
    takes `workflow.requires_approval`; a stored one keeps what it was entered with. `stored`
    is the voucher's lines (`stored_lines`) when the caller has already read them.

    Raises EntryRefused (role, status) before anything is read, and VoucherRejected (the ledger's
    rules, each problem at its line and field) with nothing written.
    """
    action = EntryAction.named(action)
    type_name = (
        voucher.voucher_type.name
        if voucher is not None
        else (voucher_input.voucher_type.name if voucher_input is not None else "")
    ).lower()
    refusal = entry_refusal(
        organization=organization,
        membership=membership,
        workflow=workflow,
        action=action,
        voucher=voucher,
        type_name=type_name,
        voucher_input=voucher_input,
    )
    if refusal is not None:
        raise refusal
    if voucher is None:
        if voucher_input is None:
            raise ValueError("a new voucher needs an entry")
        voucher_input = dataclasses.replace(
            voucher_input, requires_approval=workflow.requires_approval
        )
        if action == EntryAction.POST:
            posted = voucher_create_posted(
                organization=organization, voucher_input=voucher_input, user=user
            )
            return EntryOutcome(action=action, voucher=posted, created=True, saved=True)
    elif voucher_input is not None:
        voucher_input = dataclasses.replace(
            voucher_input, requires_approval=voucher.requires_approval
        )
        if stored is None:
            stored = stored_lines(voucher)
        if entry_matches_stored(voucher, voucher_input, stored):
            voucher_input = None
        elif action == EntryAction.APPROVE or voucher.status == VoucherStatus.APPROVED:
            message = APPROVAL_COVERS_WHAT_WAS_SUBMITTED.format(action=action)
            raise VoucherRejected(str(voucher), [Problem(message, rule="approval_changed")])

    with transaction.atomic():
        if voucher is None:
            assert voucher_input is not None
            saved = voucher_draft_create(
                organization=organization, voucher_input=voucher_input, user=user
            )
        elif voucher_input is not None:
            saved = voucher_draft_update(voucher=voucher, voucher_input=voucher_input, user=user)
        else:
            saved = voucher
        if action == EntryAction.SUBMIT:
            saved = voucher_submit(voucher=saved, user=user)
        elif action == EntryAction.APPROVE:
            saved = voucher_approve(voucher=saved, user=user)
        elif action == EntryAction.POST:
            saved = voucher_post(voucher=saved, user=user)
    entered = voucher if voucher is not None else voucher_input
    if entered is not None and saved.voucher_type_id == entered.voucher_type.pk:
        saved.voucher_type = entered.voucher_type  # the message names it: no query to read it
    return EntryOutcome(
        action=action,
        voucher=saved,
        created=voucher is None,
        saved=voucher is None or voucher_input is not None,
    )
