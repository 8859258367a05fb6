"""Acting on an entered voucher: the one path every channel takes, with its role, status and
four-eyes rules, the type's workflow, and one voucher per submitted form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting.models import Membership, Role, Voucher, VoucherStatus
from accounting.services.checks import VoucherRejected
from accounting.services.entering import voucher_enter
from accounting.services.entry_rules import EntryAction, EntryRefused
from accounting.services.voucher_types import voucher_type_workflow_set
from tests.threads import in_threads

PAYMENT = (("5200", "10.00", ""), ("1120", "", "10.00"))


def enter(books, user, action, *, voucher=None, entry=True, lines=PAYMENT, key=None):
    return voucher_enter(
        organization=books.organization,
        membership=Membership.objects.get(user=user, organization=books.organization),
        user=user,
        action=action,
        voucher_input=books.entry(*lines, type_code="PV") if entry else None,
        voucher=voucher,
        submission_key=key,
    )


@pytest.fixture
def approval(books):
    """Payments need approval: a second person's, before posting."""
    return voucher_type_workflow_set(voucher_type=books.types["PV"], requires_approval=True)


def test_a_new_entry_saved_is_a_draft_and_reported_as_created(books):
    clerk = books.member(Role.CLERK)
    outcome = enter(books, clerk, EntryAction.SAVE)
    assert (outcome.created, outcome.saved, outcome.posted) == (True, True, False)
    assert outcome.voucher.status == VoucherStatus.DRAFT
    assert outcome.message == f"Draft PV #{outcome.voucher.pk} is saved."


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


def test_the_type_can_ask_more_of_the_poster(books):
    voucher_type_workflow_set(voucher_type=books.types["PV"], poster_role=Role.ADMIN)
    with pytest.raises(EntryRefused):
        enter(books, books.member(Role.ACCOUNTANT), EntryAction.POST)
    assert enter(books, books.member(Role.ADMIN), EntryAction.POST).posted


def test_a_new_entry_of_a_type_needing_approval_cannot_be_posted_directly(books, approval):
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, books.member(Role.ADMIN), EntryAction.POST)
    assert "approval" in rejected.value.rules
    assert not Voucher.objects.exists()


def test_a_draft_of_a_type_that_needs_approval_now_cannot_be_posted_unapproved(books):
    accountant = books.member(Role.ACCOUNTANT)
    draft = enter(books, accountant, EntryAction.SAVE).voucher
    voucher_type_workflow_set(voucher_type=books.types["PV"], requires_approval=True)
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, accountant, EntryAction.POST, voucher=draft)
    assert "approval" in rejected.value.rules
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.DRAFT


def test_a_new_entry_cannot_be_approved(books):
    with pytest.raises(EntryRefused) as refused:
        enter(books, books.member(Role.ACCOUNTANT), EntryAction.APPROVE)
    assert refused.value.rule == "status"


def test_four_eyes_whoever_entered_a_voucher_may_not_approve_it(books, approval):
    accountant = books.member(Role.ACCOUNTANT)
    draft = enter(books, accountant, EntryAction.SUBMIT).voucher
    with pytest.raises(EntryRefused) as refused:
        enter(books, accountant, EntryAction.APPROVE, voucher=draft, entry=False)
    assert refused.value.rule == "four_eyes"
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == (VoucherStatus.SUBMITTED, None)


def test_four_eyes_whoever_last_changed_a_voucher_may_not_approve_it(books, approval):
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(books, clerk, EntryAction.SAVE).voucher
    changed = (("5200", "12.00", ""), ("1120", "", "12.00"))
    draft = enter(books, accountant, EntryAction.SUBMIT, voucher=draft, lines=changed).voucher
    with pytest.raises(EntryRefused) as refused:
        enter(books, accountant, EntryAction.APPROVE, voucher=draft, entry=False)
    assert refused.value.rule == "four_eyes"
    approver = books.member(Role.ACCOUNTANT)
    approved = enter(books, approver, EntryAction.APPROVE, voucher=draft, entry=False).voucher
    assert (approved.status, approved.approved_by) == (VoucherStatus.APPROVED, approver)


def test_the_ledger_refuses_a_self_approval_even_past_the_rules(books, approval):
    from accounting.services.drafts import voucher_approve

    accountant = books.member(Role.ACCOUNTANT)
    draft = enter(books, accountant, EntryAction.SUBMIT).voucher
    with pytest.raises(VoucherRejected) as rejected:
        voucher_approve(voucher=draft, user=accountant)
    assert rejected.value.rules == {"four_eyes"}
    with pytest.raises(VoucherRejected):
        voucher_approve(voucher=draft, user=None)  # an approval by no one is none


def test_a_changed_entry_cannot_be_approved(books, approval):
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(books, clerk, EntryAction.SUBMIT).voucher
    changed = (("5200", "12.00", ""), ("1120", "", "12.00"))
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, accountant, EntryAction.APPROVE, voucher=draft, lines=changed)
    assert rejected.value.rules == {"approval_changed"}
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.SUBMITTED


def test_a_change_to_an_approved_voucher_returns_it_to_draft_and_clears_the_approval(
    books, approval
):
    clerk, approver = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(books, clerk, EntryAction.SUBMIT).voucher
    approved = enter(books, approver, EntryAction.APPROVE, voucher=draft, entry=False).voucher
    changed = (("5200", "99.00", ""), ("1120", "", "99.00"))

    saved = enter(books, clerk, EntryAction.SAVE, voucher=approved, lines=changed).voucher

    assert (saved.status, saved.approved_by, saved.approved_at) == (VoucherStatus.DRAFT, None, None)
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, approver, EntryAction.POST, voucher=saved, entry=False)
    assert "approval" in rejected.value.rules


def test_a_changed_approved_voucher_cannot_be_posted_as_changed(books, approval):
    clerk, approver = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(books, clerk, EntryAction.SUBMIT).voucher
    approved = enter(books, approver, EntryAction.APPROVE, voucher=draft, entry=False).voucher
    changed = (("5200", "99.00", ""), ("1120", "", "99.00"))
    with pytest.raises(VoucherRejected) as rejected:
        enter(books, approver, EntryAction.POST, voucher=approved, lines=changed)
    assert rejected.value.rules == {"approval_changed"}
    approved.refresh_from_db()
    assert approved.status == VoucherStatus.APPROVED


def test_approving_and_posting_act_on_the_voucher_as_submitted(books, approval):
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    draft = enter(books, clerk, EntryAction.SUBMIT).voucher
    approved = enter(books, accountant, EntryAction.APPROVE, voucher=draft, entry=False)
    assert approved.voucher.status == VoucherStatus.APPROVED
    posted = enter(books, accountant, EntryAction.POST, voucher=approved.voucher)
    assert posted.posted
    assert list(posted.voucher.lines.values_list("debit", flat=True)) == [
        Decimal("10.00"),
        Decimal("0.00"),
    ]


def test_an_unchanged_entry_is_not_written_again(books):
    clerk = books.member(Role.CLERK)
    draft = enter(books, clerk, EntryAction.SAVE).voucher
    history_rows = draft.history.count()
    outcome = enter(books, clerk, EntryAction.SAVE, voucher=draft)
    assert outcome.saved is False
    assert outcome.message.endswith("nothing had changed since it was last saved.")
    assert draft.history.count() == history_rows


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
            voucher_input=None,
            voucher=draft,
        )
    assert refused.value.rule == "organization"


def test_a_form_submitted_twice_posts_once_and_the_second_gets_the_first_voucher(books):
    accountant = books.member(Role.ACCOUNTANT)
    first = enter(books, accountant, EntryAction.POST, key="form-1")
    again = enter(books, accountant, EntryAction.POST, key="form-1")
    assert again.replayed and not again.posted and not again.created
    assert again.voucher.pk == first.voucher.pk
    assert Voucher.objects.count() == 1
    assert "already saved from this form" in again.message


def test_a_stored_voucher_posted_twice_from_one_form_is_posted_once(books):
    accountant = books.member(Role.ACCOUNTANT)
    draft = enter(books, accountant, EntryAction.SAVE, key="form-1").voucher
    posted = enter(books, accountant, EntryAction.POST, voucher=draft, key="form-2")
    again = enter(books, accountant, EntryAction.POST, voucher=draft, key="form-2")
    assert posted.posted and again.replayed
    assert again.voucher.number == posted.voucher.number


def test_another_organization_cannot_replay_a_submission_key(books, other_books):
    enter(books, books.member(Role.ACCOUNTANT), EntryAction.POST, key="form-1")
    stranger = other_books.member(Role.ACCOUNTANT)
    outcome = voucher_enter(
        organization=other_books.organization,
        membership=Membership.objects.get(user=stranger),
        user=stranger,
        action=EntryAction.POST,
        voucher_input=other_books.entry(*PAYMENT, type_code="PV"),
        submission_key="form-1",
    )
    assert outcome.created and not outcome.replayed
    assert outcome.voucher.organization == other_books.organization


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", [EntryAction.POST, EntryAction.SAVE])
def test_two_simultaneous_submits_of_one_new_voucher_make_one_voucher(action):
    from tests.factories import Books

    books = Books()
    accountant = books.member(Role.ACCOUNTANT)
    outcomes = []
    errors = in_threads(
        2, lambda _: outcomes.append(enter(books, accountant, action, key="same-form"))
    )

    assert errors == []
    assert Voucher.objects.count() == 1
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert {o.voucher.pk for o in outcomes} == {Voucher.objects.get().pk}
    if action == EntryAction.POST:
        assert Voucher.objects.get().number == "PV-2026-00001"
