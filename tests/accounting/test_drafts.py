"""The draft workflow: save, replace, submit, approve, cancel, and what each refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.models import Voucher, VoucherLine, VoucherStatus
from accounting.services.checks import VoucherRejected
from accounting.services.drafts import (
    voucher_approve,
    voucher_cancel,
    voucher_draft_create,
    voucher_draft_update,
    voucher_submit,
)
from accounting.services.posting import voucher_post
from tests.factories import PartyFactory


def make_draft(books, *lines, user=None, **header) -> Voucher:
    return voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(*lines, type_code="PV", **header),
        user=user,
    )


def balanced(books, user=None, **header) -> Voucher:
    return make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"), user=user, **header)


def test_a_draft_is_saved_unnumbered_with_its_lines_in_order(books):
    clerk = books.member()
    voucher = make_draft(
        books,
        ("5200", "10.00", ""),
        ("5300", "", ""),  # not filled in yet: a draft may be incomplete
        ("1120", "", "10.00"),
        user=clerk,
        reference="INV-7",
    )
    assert (voucher.status, voucher.number, voucher.sequence) == ("draft", None, None)
    assert voucher.created_by == clerk
    assert voucher.reference == "INV-7"
    assert list(voucher.lines.values_list("order", "account__code", "debit", "credit")) == [
        (1, "5200", Decimal("10.00"), Decimal("0.00")),
        (2, "5300", Decimal("0.00"), Decimal("0.00")),
        (3, "1120", Decimal("0.00"), Decimal("10.00")),
    ]
    assert list(voucher.history.values_list("history_type", "history_user")) == [("+", clerk.pk)]
    assert VoucherLine.history.filter(voucher_id=voucher.pk, history_type="+").count() == 3


def test_submit_approve_and_post_record_who_did_each_step(books):
    clerk, approver = books.member(), books.member()
    books.require_approval("PV")
    voucher = balanced(books, user=clerk)

    submitted = voucher_submit(voucher=voucher, user=clerk)
    assert (submitted.status, submitted.submitted_by) == (VoucherStatus.SUBMITTED, clerk)
    approved = voucher_approve(voucher=voucher, user=approver)
    assert (approved.status, approved.approved_by) == (VoucherStatus.APPROVED, approver)
    assert approved.approved_at is not None
    posted = voucher_post(voucher=voucher, user=approver)
    assert (posted.status, posted.posted_by, posted.number) == ("posted", approver, "PV-2026-00001")

    assert list(
        Voucher.objects.get(pk=voucher.pk)
        .history.order_by("history_id")
        .values_list("history_type", "status", "history_user")
    ) == [
        ("+", "draft", clerk.pk),
        ("~", "submitted", clerk.pk),
        ("~", "approved", approver.pk),
        ("~", "posted", approver.pk),
    ]


@pytest.mark.parametrize(
    ("action", "status_before", "message"),
    [
        pytest.param(voucher_approve, "draft", "is draft; it must be submitted to become approved"),
        pytest.param(
            voucher_submit, "submitted", "is submitted; it must be draft to become submitted"
        ),
        pytest.param(
            voucher_cancel,
            "cancelled",
            "is cancelled; it must be approved or draft or submitted to become cancelled",
        ),
    ],
)
def test_a_transition_from_the_wrong_status_is_refused(books, action, status_before, message):
    voucher = balanced(books)
    if status_before == "submitted":
        voucher_submit(voucher=voucher, user=None)
    if status_before == "cancelled":
        voucher_cancel(voucher=voucher, user=None)
    with pytest.raises(VoucherRejected) as caught:
        action(voucher=voucher, user=None)
    assert caught.value.messages == [f"Draft PV #{voucher.pk}: {message}"]
    assert Voucher.objects.get(pk=voucher.pk).status == status_before


@pytest.mark.parametrize("steps", [[], [voucher_submit], [voucher_submit, voucher_approve]])
def test_a_draft_submitted_or_approved_voucher_can_be_cancelled(books, steps):
    voucher = balanced(books, user=books.member())
    approver = books.member()  # four eyes: not the person who entered it
    for step in steps:
        step(voucher=voucher, user=approver)
    assert voucher_cancel(voucher=voucher, user=None).status == VoucherStatus.CANCELLED


def test_a_posted_voucher_cannot_be_cancelled_submitted_or_edited(books):
    voucher = voucher_post(voucher=balanced(books), user=None)
    for action in (voucher_cancel, voucher_submit):
        with pytest.raises(VoucherRejected, match="PV-2026-00001: is posted"):
            action(voucher=voucher, user=None)
    with pytest.raises(VoucherRejected) as caught:
        voucher_draft_update(
            voucher=voucher,
            voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code="PV"),
        )
    assert caught.value.messages == ["PV-2026-00001: is posted and cannot be edited"]
    assert voucher.lines.count() == 2


def test_a_cancelled_voucher_cannot_be_posted(books):
    voucher = voucher_cancel(voucher=balanced(books), user=None)
    with pytest.raises(VoucherRejected, match="is cancelled; only a draft can be posted"):
        voucher_post(voucher=voucher, user=None)


def test_replacing_a_drafts_lines_keeps_the_old_ones_in_history(books):
    clerk = books.member()
    voucher = balanced(books, user=clerk)
    old_ids = set(voucher.lines.values_list("id", flat=True))

    updated = voucher_draft_update(
        voucher=voucher,
        voucher_input=books.entry(
            ("5300", "4.00", ""),
            ("5400", "6.00", ""),
            ("1120", "", "10.00"),
            type_code="PV",
            narration="split",
        ),
        user=clerk,
    )

    assert updated.narration == "split"
    assert list(updated.lines.values_list("order", "account__code")) == [
        (1, "5300"),
        (2, "5400"),
        (3, "1120"),
    ]
    removed = VoucherLine.history.filter(voucher_id=voucher.pk, history_type="-")
    assert {r.id for r in removed} == old_ids
    assert {r.history_change_reason for r in removed} == {"replaced"}
    assert VoucherLine.history.filter(voucher_id=voucher.pk, history_type="+").count() == 5
    assert list(updated.history.order_by("history_id").values_list("history_type", flat=True)) == [
        "+",
        "~",
    ]
    assert voucher_post(voucher=updated, user=None).number == "PV-2026-00001"


def test_editing_a_submitted_voucher_sends_it_back_to_draft(books):
    books.require_approval("PV")
    voucher = balanced(books)
    voucher_submit(voucher=voucher, user=books.member())
    updated = voucher_draft_update(
        voucher=voucher,
        voucher_input=books.entry(("5200", "12.00", ""), ("1120", "", "12.00"), type_code="PV"),
    )
    assert (updated.status, updated.submitted_by) == (VoucherStatus.DRAFT, None)
    with pytest.raises(VoucherRejected, match="needs approval"):
        voucher_post(voucher=updated, user=None)


def test_a_draft_naming_another_organizations_account_or_party_is_not_saved(books, other_books):
    rival_party = PartyFactory(organization=other_books.organization)
    voucher_input = books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code="PV")
    voucher_input.lines[0].account_id = other_books.account("5200").pk
    voucher_input.lines[1].party_id = rival_party.pk
    voucher_input.party_id = rival_party.pk
    with pytest.raises(VoucherRejected) as caught:
        voucher_draft_create(organization=books.organization, voucher_input=voucher_input)
    assert caught.value.messages == [
        "Draft PV: party belongs to another organization",
        "Draft PV: line 1: account 5200 belongs to another organization",
        "Draft PV: line 2: party belongs to another organization",
    ]
    assert not Voucher.objects.exists()


def test_a_draft_of_another_organizations_voucher_type_is_not_saved(books, other_books):
    voucher_input = books.entry(("5200", "1.00", ""), ("1120", "", "1.00"))
    voucher_input.voucher_type = other_books.types["JV"]
    with pytest.raises(VoucherRejected, match="voucher type belongs to another organization"):
        voucher_draft_create(organization=books.organization, voucher_input=voucher_input)


def test_a_draft_naming_an_account_that_does_not_exist_is_not_saved(books):
    voucher_input = books.entry(("5200", "1.00", ""), ("1120", "", "1.00"))
    voucher_input.lines[1].account_id = 987654
    with pytest.raises(VoucherRejected) as caught:
        voucher_draft_create(organization=books.organization, voucher_input=voucher_input)
    assert caught.value.messages == ["Draft JV: line 2: account #987654 does not exist"]


def test_line_data_and_descriptions_are_stored_as_given(books):
    voucher_input = books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code="PV")
    voucher_input.lines[0].data = {"tax_code": "VAT20", "rate": "0.20", "tags": ["rent", 2026]}
    voucher_input.lines[0].description = "Rent — March ‘26"
    voucher = voucher_draft_create(organization=books.organization, voucher_input=voucher_input)
    stored = list(voucher.lines.values_list("data", "description"))
    assert stored == [
        ({"tax_code": "VAT20", "rate": "0.20", "tags": ["rent", 2026]}, "Rent — March ‘26"),
        ({}, ""),
    ]
    history = VoucherLine.history.get(voucher_id=voucher.pk, order=1)
    assert history.data == stored[0][0]


def test_more_lines_than_one_statement_carries_are_written_in_order(books, monkeypatch):
    # SQLite limits the parameters of one statement; pretend the limit is two lines' worth.
    monkeypatch.setattr(type(connection.features), "max_query_params", 16)
    monkeypatch.delitem(connection.features.__dict__, "max_query_params", raising=False)
    lines = [("5200", f"{n}.00", "") for n in range(1, 6)] + [("1120", "", "15.00")]
    with CaptureQueriesContext(connection) as captured:
        voucher = make_draft(books, *lines)
    inserts = [q for q in captured if q["sql"].startswith('INSERT INTO "accounting_voucherline"')]
    assert len(inserts) == 3
    assert list(voucher.lines.values_list("order", "debit")) == [
        (n, Decimal(f"{n}.00")) for n in range(1, 6)
    ] + [(6, Decimal("0.00"))]
    assert voucher_post(voucher=voucher, user=None).ledger_entries.count() == 6
