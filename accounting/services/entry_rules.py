"""What an entry must pass before anything is written: the actions, a type's workflow, and the
rules (organization, role, status, four eyes) that every channel's entries go through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from accounting.models import Membership, Organization, Role, Voucher, VoucherStatus, VoucherType
from accounting.services.checks import approver_problems
from accounting.services.inputs import VoucherInput


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

    @classmethod
    def of(cls, voucher_type: VoucherType) -> EntryWorkflow:
        """A type's workflow: the ledger's own facts, whatever screen or request asks."""
        return cls(
            requires_approval=voucher_type.requires_approval,
            approver_role=voucher_type.approver_role,
            poster_role=voucher_type.poster_role,
        )


class EntryRefused(Exception):
    """The user may not do this (rule "role"), or the voucher's status does not allow it (rule
    "status"); nothing was written."""

    def __init__(self, message: str, *, rule: str):
        self.message = message
        self.rule = rule
        super().__init__(message)


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
    if (
        action == EntryAction.SUBMIT
        and voucher.status == VoucherStatus.APPROVED
        and attempt.voucher_input is None
    ):
        return EntryRefused(f"{voucher} is already approved.", rule="status")
    return None


def four_eyes_rule(attempt: EntryAttempt) -> EntryRefused | None:
    voucher, membership = attempt.voucher, attempt.membership
    if attempt.action != EntryAction.APPROVE or voucher is None:
        return None
    approver_id = membership.user_id if membership is not None else None
    problems = approver_problems(
        created_by_id=voucher.created_by_id,
        changed_by_id=voucher.changed_by_id,
        approver_id=approver_id,
    )
    if problems:
        return EntryRefused(f"{voucher} {problems[0].message}.", rule="four_eyes")
    return None


# Every rule an entry must pass before anything is read or written, in the order they are asked.
# A rule added here holds for both screens, the import and every command. The ledger's writes
# check the same facts again under lock (drafts, posting), so nothing depends on this list alone.
ENTRY_RULES: tuple[EntryRule, ...] = (organization_rule, role_rule, status_rule, four_eyes_rule)


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
