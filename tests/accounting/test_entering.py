"""Acting on an entered voucher: the one path both screens take, with its role and status rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting.models import Membership, Role, Voucher, VoucherStatus
from accounting.services.checks import VoucherRejected
from accounting.services.entering import (
    EntryAction,
    EntryRefused,
    EntryWorkflow,
    voucher_enter,
)

PAYMENT = (("5200", "10.00", ""), ("1120", "", "10.00"))


def enter(books, user, action, *, voucher=None, entry=True, workflow=None, lines=PAYMENT):
    return voucher_enter(
        organization=books.organization,
        membership=Membership.objects.get(user=user, organization=books.organization),
        user=user,
        action=action,
        workflow=workflow or EntryWorkflow(),
        voucher_input=books.entry(*lines, type_code="PV") if entry else None,
        voucher=voucher,
    )


def test_a_new_entry_saved_is_a_draft_and_reported_as_created(books):
    clerk = books.member(Role.CLERK)
    outcome = enter(books, clerk, EntryAction.SAVE)
    assert (outcome.created, outcome.saved, outcome.posted) == (True, True, False)
    assert outcome.voucher.status == VoucherStatus.DRAFT
    assert outcome.message == f"Draft #{outcome.voucher.pk} is saved."


def test_a_new_entry_posted_is_written_numbered_in_one_step(books):
    accountant = books.member(Role.ACCOUNTANT)
    outcome = enter(books, accountant, EntryAction.POST)
    assert outcome.posted and outcome.created
    assert outcome.voucher.number
    assert list(outcome.voucher.history.values_list("history_type", flat=True)) == ["+"]


def test_a_clerk_may_save_and_submit_but_not_approve_or_post(books):
    clerk = books.member(Role.CLERK)
    with pytest.raises(EntryRefused) as refused:
        enter(books, clerk, EntryAction.POST)
    assert refused.value.rule == "role"
    assert "Accountant role" in refused.value.message
    assert not Voucher.objects.exists()


def test_the_workflow_can_ask_more_of_the_poster(books):
    accountant = books.member(Role.ACCOUNTANT)
    with pytest.raises(EntryRefused):
        enter(books, accountant, EntryAction.POST, workflow=EntryWorkflow(poster_role=Role.ADMIN))


def test_a_new_entry_of_a_type_needing_approval_cannot_be_posted_directly(books):
    accountant = books.member(Role.ACCOUNTANT)
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, accountant, EntryAction.POST, workflow=EntryWorkflow(requires_approval=True))
    assert "approval" in rejected.value.rules
    assert not Voucher.objects.exists()


def test_a_new_entry_cannot_be_approved(books):
    accountant = books.member(Role.ACCOUNTANT)
    with pytest.raises(EntryRefused) as refused:
        enter(books, accountant, EntryAction.APPROVE)
    assert refused.value.rule == "status"


def test_a_stored_voucher_keeps_the_approval_it_was_entered_with(books):
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(
        books, clerk, EntryAction.SAVE, workflow=EntryWorkflow(requires_approval=True)
    ).voucher
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, accountant, EntryAction.POST, voucher=draft)  # a workflow without approval
    assert "approval" in rejected.value.rules
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.DRAFT


def test_an_unchanged_entry_is_not_written_again(books):
    clerk = books.member(Role.CLERK)
    draft = enter(books, clerk, EntryAction.SAVE).voucher
    history_rows = draft.history.count()
    outcome = enter(books, clerk, EntryAction.SAVE, voucher=draft)
    assert outcome.saved is False
    assert outcome.message.endswith("nothing had changed since it was last saved.")
    assert draft.history.count() == history_rows


def test_a_changed_entry_cannot_be_approved(books):
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(books, clerk, EntryAction.SUBMIT).voucher
    changed = (("5200", "12.00", ""), ("1120", "", "12.00"))
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, accountant, EntryAction.APPROVE, voucher=draft, lines=changed)
    assert rejected.value.rules == {"approval_changed"}
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.SUBMITTED


def test_approving_and_posting_act_on_the_voucher_as_submitted(books):
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    workflow = EntryWorkflow(requires_approval=True)
    draft = enter(books, clerk, EntryAction.SUBMIT, workflow=workflow).voucher
    approved = enter(
        books, accountant, EntryAction.APPROVE, voucher=draft, entry=False, workflow=workflow
    )
    assert approved.voucher.status == VoucherStatus.APPROVED
    posted = enter(books, accountant, EntryAction.POST, voucher=approved.voucher, workflow=workflow)
    assert posted.posted
    assert list(posted.voucher.lines.values_list("debit", flat=True)) == [
        Decimal("10.00"),
        Decimal("0.00"),
    ]


def test_a_refused_post_leaves_the_stored_draft_as_it_was(books):
    accountant = books.member(Role.ACCOUNTANT)
    draft = enter(books, accountant, EntryAction.SAVE).voucher
    unbalanced = (("5200", "10.00", ""), ("1120", "", "9.00"))
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, accountant, EntryAction.POST, voucher=draft, lines=unbalanced)
    assert "balanced" in rejected.value.rules
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.DRAFT
    assert list(draft.lines.values_list("credit", flat=True)) == [Decimal("0"), Decimal("10.00")]


def test_a_posted_voucher_cannot_be_entered_again(books):
    accountant = books.member(Role.ACCOUNTANT)
    posted = enter(books, accountant, EntryAction.POST).voucher
    with pytest.raises(EntryRefused) as refused:
        enter(books, accountant, EntryAction.SAVE, voucher=posted)
    assert refused.value.rule == "status"


def test_a_voucher_of_another_organization_is_refused(books, other_books):
    stranger = other_books.member(Role.ADMIN)
    draft = enter(books, books.member(Role.CLERK), EntryAction.SAVE).voucher
    with pytest.raises(EntryRefused) as refused:
        voucher_enter(
            organization=other_books.organization,
            membership=Membership.objects.get(user=stranger),
            user=stranger,
            action=EntryAction.SAVE,
            workflow=EntryWorkflow(),
            voucher_input=None,
            voucher=draft,
        )
    assert refused.value.rule == "organization"
