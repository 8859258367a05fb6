"""Voucher types' own facts that a configuration sets: the workflow every channel applies."""

from __future__ import annotations

from accounting.models import Role, VoucherType
from accounting.services.history import history_user
from accounting.services.inputs import User

WORKFLOW_FIELDS = ("requires_approval", "approver_role", "poster_role")


def voucher_type_workflow_set(
    *,
    voucher_type: VoucherType,
    requires_approval: bool | None = None,
    approver_role: str | None = None,
    poster_role: str | None = None,
    user: User = None,
    reason: str = "",
) -> VoucherType:
    """Sets whether a type's vouchers need approval and which roles approve and post them
    (None: as it is).

    Only what changed is written, with its history row (who, when, old and new values). A
    viewer's role is refused: a workflow step is someone's job.
    """
    wanted = {
        "requires_approval": voucher_type.requires_approval
        if requires_approval is None
        else bool(requires_approval),
        "approver_role": Role(approver_role or voucher_type.approver_role),
        "poster_role": Role(poster_role or voucher_type.poster_role),
    }
    for role in (wanted["approver_role"], wanted["poster_role"]):
        if role == Role.VIEWER:
            raise ValueError("A viewer cannot approve or post; choose clerk, accountant or admin.")
    changed = [name for name, value in wanted.items() if getattr(voucher_type, name) != value]
    if not changed:
        return voucher_type
    for name in changed:
        setattr(voucher_type, name, wanted[name])
    voucher_type._history_user = history_user(user)  # type: ignore[attr-defined]
    voucher_type._change_reason = reason or "workflow changed"  # type: ignore[attr-defined]
    voucher_type.save(update_fields=changed)
    return voucher_type
