"""Acting on an entered voucher: the one path every entry screen takes to save, submit, approve
or post a new or a stored voucher.

Every entry passes the rules of `entry_rules` (organization, role, status, four eyes) with its
type's workflow, so a rule added there holds for both screens, the import and every command.
Saving and the action run in one transaction: a refused post leaves a stored draft exactly as it
was, a new voucher posted at once is written in one step or not at all, and a form submitted
twice makes one voucher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from accounting.models import EntryChannel, Membership, Organization, Voucher, VoucherStatus
from accounting.services.checks import Problem, VoucherRejected
from accounting.services.drafts import (
    voucher_approve,
    voucher_cancel,
    voucher_draft_create,
    voucher_draft_delete,
    voucher_draft_update,
    voucher_submit,
)
from accounting.services.entry_rules import (
    EntryAction,
    EntryAttempt,
    EntryRefused,
    EntryWorkflow,
    entry_refusal,
    status_rule,
)
from accounting.services.inputs import LineInput, User, VoucherInput
from accounting.services.posting import voucher_create_posted, voucher_post
from accounting.services.refusal_records import entry_refusal_record


@dataclass(frozen=True)
class EntryOutcome:
    """What acting on an entry did, for the screen to report and the rollout to count."""

    action: EntryAction
    voucher: Voucher | None
    created: bool = False  # a new voucher was stored
    saved: bool = False  # the entry was written (False: the stored voucher already held it)
    failed_reason: str = ""  # the rules a refused post broke
    replayed: bool = False  # the same form was submitted before: this is what that one made

    @classmethod
    def failed(cls, action: EntryAction, rejected: VoucherRejected) -> EntryOutcome:
        return cls(action=action, voucher=None, failed_reason=rejected.reason)

    @property
    def posted(self) -> bool:
        """Whether this call posted the voucher (a replay posted nothing)."""
        return (
            not self.replayed
            and self.voucher is not None
            and self.voucher.status == VoucherStatus.POSTED
        )

    @property
    def message(self) -> str:
        voucher = self.voucher
        assert voucher is not None, "a refused entry has no message of success"
        # The voucher's name carries its status only while it is an unnumbered draft.
        label = str(voucher) if voucher.status == VoucherStatus.DRAFT else voucher.label
        if self.replayed:
            return f"{label} was already saved from this form; nothing was repeated."
        if self.posted:
            return f"{voucher.voucher_type.name} voucher {voucher.number} is posted."
        if self.action == EntryAction.SUBMIT:
            return f"{label} is submitted for approval."
        if self.action == EntryAction.APPROVE:
            return f"{label} is approved and can be posted."
        if not self.saved:
            return f"{label}: nothing had changed since it was last saved."
        return f"{label} is saved."


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
    "(the voucher returns to draft) and submit it again, or reload the page to {action} it as "
    "it stands"
)


def voucher_enter(
    *,
    organization: Organization,
    membership: Membership | None,
    user: User,
    action: EntryAction | str,
    voucher_input: VoucherInput | None,
    voucher: Voucher | None = None,
    stored: Sequence[LineInput] | None = None,
    submission_key: str | None = None,
) -> EntryOutcome:
    """Saves an entry as a new or a stored voucher, then submits, approves or posts it.

    `membership` is the acting user's in `organization` (None: an operator's command, such as
    an import). `voucher_input` None acts on the stored voucher as it stands. The workflow is
    the voucher type's (`EntryWorkflow.of`): who may approve and post, and whether approval
    comes first. An entry identical to the stored voucher is not written again, so approving or
    posting acts on exactly what was saved; a change returns a submitted or approved voucher to
    draft, and cannot itself be approved or posted. `stored` is the voucher's lines
    (`stored_lines`) when the caller has already read them.

    `submission_key` names the form the entry came from: a second submit of the same form,
    one after the other or at the same moment, returns what the first one made (`replayed`).

    Raises EntryRefused (organization, role, status, four eyes) before anything is written, and
    VoucherRejected (the ledger's checks, each problem at its line and field) with nothing
    written; either is recorded (`refusal_records.entry_refusal_record`) once the entry rolled back.
    """
    action = EntryAction.named(action)
    try:
        return _voucher_enter(
            organization=organization,
            membership=membership,
            user=user,
            action=action,
            voucher_input=voucher_input,
            voucher=voucher,
            stored=stored,
            submission_key=submission_key,
        )
    except (EntryRefused, VoucherRejected) as refusal:
        # The refused entry's transaction has rolled back: the record is written on its own.
        entered = voucher_input if voucher_input is not None else voucher
        if entered is not None:
            entry_refusal_record(
                organization=organization,
                user=user,
                voucher_type=entered.voucher_type,
                voucher=voucher,
                action=action,
                channel=entered.entry_channel,  # the stored voucher's when acting on it as it is
                refusal=refusal,
            )
        raise


def _voucher_enter(
    *,
    organization: Organization,
    membership: Membership | None,
    user: User,
    action: EntryAction,
    voucher_input: VoucherInput | None,
    voucher: Voucher | None,
    stored: Sequence[LineInput] | None,
    submission_key: str | None,
) -> EntryOutcome:
    if submission_key:
        earlier = _submitted_before(organization, submission_key)
        if earlier is not None:
            return EntryOutcome(action=action, voucher=earlier, replayed=True)
    entered = voucher if voucher is not None else voucher_input
    if entered is None:
        raise ValueError("a new voucher needs an entry")
    entered_type = entered.voucher_type
    workflow = EntryWorkflow.of(entered_type)
    refusal = entry_refusal(
        organization=organization,
        membership=membership,
        workflow=workflow,
        action=action,
        voucher=voucher,
        type_name=entered_type.name,
        voucher_input=voucher_input,
    )
    if refusal is not None:
        raise refusal
    if voucher is not None and voucher_input is not None:
        if stored is None:
            stored = stored_lines(voucher)
        if entry_matches_stored(voucher, voucher_input, stored):
            voucher_input = None
        elif action == EntryAction.APPROVE or (
            action == EntryAction.POST and voucher.status == VoucherStatus.APPROVED
        ):
            message = APPROVAL_COVERS_WHAT_WAS_SUBMITTED.format(action=action)
            raise VoucherRejected(str(voucher), [Problem(message, rule="approval_changed")])
    if voucher is not None and voucher_input is None:
        refusal = status_rule(
            EntryAttempt(organization, membership, workflow, action, voucher, None, "")
        )
        if refusal is not None:  # e.g. submitting again what is approved, unchanged
            raise refusal
    try:
        saved = _entry_write(
            organization=organization,
            user=user,
            action=action,
            voucher_input=voucher_input,
            voucher=voucher,
            submission_key=submission_key,
        )
    except IntegrityError:
        # The same form, submitted at the same moment, saved first: its voucher is the answer.
        earlier = _submitted_before(organization, submission_key) if submission_key else None
        if earlier is None:
            raise
        return EntryOutcome(action=action, voucher=earlier, replayed=True)
    if isinstance(saved, EntryOutcome):
        return saved
    saved.voucher_type = entered_type  # the message names it: no query to read it
    return EntryOutcome(
        action=action,
        voucher=saved,
        created=voucher is None,
        saved=voucher is None or voucher_input is not None,
    )


def _submitted_before(organization: Organization, submission_key: str) -> Voucher | None:
    return (
        Voucher.objects.select_related("voucher_type")
        .filter(organization=organization, submission_key=submission_key)
        .first()
    )


def _entry_write(
    *,
    organization: Organization,
    user: User,
    action: EntryAction,
    voucher_input: VoucherInput | None,
    voucher: Voucher | None,
    submission_key: str | None,
) -> Voucher | EntryOutcome:
    """The writes of one entry, in one transaction: save, then the action."""
    if voucher is None:
        assert voucher_input is not None
        if action == EntryAction.POST:
            # A new voucher posts in one step: checked first, then numbered and written.
            return voucher_create_posted(
                organization=organization,
                voucher_input=voucher_input,
                user=user,
                submission_key=submission_key,
            )
    with transaction.atomic():
        if voucher is None:
            assert voucher_input is not None
            saved = voucher_draft_create(
                organization=organization,
                voucher_input=voucher_input,
                user=user,
                submission_key=submission_key,
            )
        else:
            if submission_key:
                # Two submits of one form wait here for each other; the second finds the first's.
                locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
                if locked.submission_key == submission_key:
                    locked.voucher_type = voucher.voucher_type
                    return EntryOutcome(action=action, voucher=locked, replayed=True)
            if voucher_input is not None:
                saved = voucher_draft_update(
                    voucher=voucher,
                    voucher_input=voucher_input,
                    user=user,
                    submission_key=submission_key,
                )
            else:
                saved = voucher
                if submission_key:
                    Voucher.objects.filter(pk=voucher.pk).update(submission_key=submission_key)
        if action == EntryAction.SUBMIT:
            saved = voucher_submit(voucher=saved, user=user)
        elif action == EntryAction.APPROVE:
            saved = voucher_approve(voucher=saved, user=user)
        elif action == EntryAction.POST:
            saved = voucher_post(voucher=saved, user=user)
    return saved


# --- what an entry screen offers beside saving: a copy, and giving a draft up ---------------


def voucher_duplicate(
    *, voucher: Voucher, membership: Membership, user: User, on: date
) -> EntryOutcome:
    """A new draft with `voucher`'s header and lines, dated `on`, saved the way every entry is
    (`voucher_enter`: the role and the ledger's checks). The copy is entered with the type's
    current configuration, whatever version the original was entered with."""
    voucher_input = VoucherInput(
        voucher_type=voucher.voucher_type,
        date=on,
        lines=stored_lines(voucher),
        reference=voucher.reference,
        narration=voucher.narration,
        party_id=voucher.party_id,
        data=dict(voucher.data),
        entry_channel=(
            voucher.entry_channel
            if voucher.entry_channel in (EntryChannel.LEGACY, EntryChannel.CONFIG)
            else EntryChannel.LEGACY
        ),
    )
    return voucher_enter(
        organization=voucher.organization,
        membership=membership,
        user=user,
        action=EntryAction.SAVE,
        voucher_input=voucher_input,
    )


def _may_change(*, voucher: Voucher, membership: Membership) -> None:
    """Refuses (EntryRefused) whoever may not save `voucher`: giving a draft up is theirs."""
    refusal = entry_refusal(
        organization=voucher.organization,
        membership=membership,
        workflow=EntryWorkflow.of(voucher.voucher_type),
        action=EntryAction.SAVE,
        voucher=voucher,
        type_name=voucher.voucher_type.name,
    )
    if refusal is not None:
        raise refusal


def entry_cancel(*, voucher: Voucher, membership: Membership, user: User) -> Voucher:
    """Cancels an unposted voucher for whoever may save it; the voucher stays, cancelled, with
    its history."""
    _may_change(voucher=voucher, membership=membership)
    return voucher_cancel(voucher=voucher, user=user)


def entry_delete(*, voucher: Voucher, membership: Membership, user: User) -> None:
    """Deletes a draft never submitted, for whoever may save it (`voucher_draft_delete`)."""
    _may_change(voucher=voucher, membership=membership)
    voucher_draft_delete(voucher=voucher, user=user)
