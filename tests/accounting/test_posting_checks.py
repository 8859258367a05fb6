"""Every posting refusal names the voucher, the line and the rule, and changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounting.models import (
    AccountingPeriod,
    LedgerEntry,
    Voucher,
    VoucherLine,
    VoucherSequence,
    VoucherStatus,
)
from accounting.services.checks import VoucherRejected
from accounting.services.drafts import (
    voucher_approve,
    voucher_cancel,
    voucher_draft_create,
    voucher_submit,
)
from accounting.services.inputs import LineInput
from accounting.services.organizations import period_set_closed
from accounting.services.posting import voucher_create_posted, voucher_post, voucher_reverse

NEW_PV = "New PV voucher dated 2026-03-15"


def database_state() -> dict[str, object]:
    """What a refused posting must leave exactly as it was."""
    return {
        "ledger": list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        "vouchers": list(
            Voucher.objects.order_by("pk").values_list("pk", "status", "number", "sequence")
        ),
        "lines": VoucherLine.objects.count(),
        "counters": list(VoucherSequence.objects.order_by("pk").values_list("pk", "last_value")),
        "voucher_history": Voucher.history.count(),
        "line_history": VoucherLine.history.count(),
    }


@pytest.fixture
def unchanged(books):
    """Asserts at the end of the test that the database is as it was when the test began."""
    holder: dict[str, object] = {}

    def snapshot() -> None:
        holder["before"] = database_state()

    yield snapshot
    assert database_state() == holder["before"]


def draft(books, *lines, user=None, **kwargs) -> Voucher:
    return voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(*lines, type_code="PV", **kwargs),
        user=user,
    )


def refusal(action) -> VoucherRejected:
    with pytest.raises(VoucherRejected) as caught:
        action()
    return caught.value


# ---------------------------------------------------------------- through voucher_create_posted


CREATE_REFUSALS = [
    pytest.param(
        [("5200", "100.00", "")],
        None,
        "min_lines",
        "has 1 line(s); a voucher needs at least 2",
        id="fewer-than-2-lines",
    ),
    pytest.param(
        [("5200", "100.00", "100.00"), ("1120", "", "100.00"), ("5300", "100.00", "")],
        1,
        "one_side",
        "has both a debit and a credit",
        id="both-debit-and-credit",
    ),
    pytest.param(
        [("5200", "100.00", ""), ("5300", "", ""), ("1120", "", "100.00")],
        2,
        "no_amount",
        "has neither a debit nor a credit",
        id="neither-debit-nor-credit",
    ),
    pytest.param(
        [("5200", "100.00", ""), ("5300", "0.00", "0.00"), ("1120", "", "100.00")],
        2,
        "no_amount",
        "amount must not be zero",
        id="zero-amount",
    ),
    pytest.param(
        [("5200", "100.00", ""), ("5300", "-5.00", ""), ("1120", "", "95.00")],
        2,
        "positive",
        "debit -5.00 is negative",
        id="negative-amount",
    ),
    pytest.param(
        [("5200", "100.001", ""), ("1120", "", "100.001")],
        1,
        "two_places",
        "debit 100.001 has more than 2 decimal places",
        id="more-than-2-decimals",
    ),
    pytest.param(
        [("5200", "100.00", ""), ("1120", "", "99.99")],
        None,
        "balanced",
        "is not balanced: debits 100.00 ≠ credits 99.99 (difference 0.01)",
        id="unbalanced-by-a-cent",
    ),
    pytest.param(
        [("5200", "10000000000000.00", ""), ("1120", "", "10000000000000.00")],
        1,
        "too_large",
        "debit 10000000000000.00 is larger than 9999999999999.99",
        id="too-large-to-keep-exactly",
    ),
    pytest.param(
        [("5200", "NaN", ""), ("1120", "", "100.00"), ("5300", "100.00", "")],
        1,
        "number",
        "debit NaN is not a number",
        id="not-a-number",
    ),
    pytest.param(
        [("1100", "100.00", ""), ("1120", "", "100.00")],
        1,
        "account_group",
        "account 1100 is a group account",
        id="group-account",
    ),
]


@pytest.mark.parametrize(("lines", "line", "rule", "message"), CREATE_REFUSALS)
def test_create_posted_refuses_a_broken_rule_and_changes_nothing(
    books, unchanged, lines, line, rule, message
):
    unchanged()
    rejected = refusal(
        lambda: voucher_create_posted(
            organization=books.organization, voucher_input=books.entry(*lines, type_code="PV")
        )
    )
    problem = next(p for p in rejected.problems if p.rule == rule)
    assert problem.line == line
    where = f"line {line}: " if line else ""
    shown = rejected.messages[rejected.problems.index(problem)]
    assert shown.startswith(f"{NEW_PV}: {where}")
    assert message in shown
    assert str(rejected).startswith(NEW_PV)


def test_create_posted_refuses_an_account_of_another_organization(books, other_books, unchanged):
    unchanged()
    voucher_input = books.entry(("5200", "10.00", ""), ("1120", "", "10.00"), type_code="PV")
    voucher_input.lines[1].account_id = other_books.account("1120").pk
    rejected = refusal(
        lambda: voucher_create_posted(organization=books.organization, voucher_input=voucher_input)
    )
    assert rejected.rules == {"account_organization"}
    assert rejected.messages == [f"{NEW_PV}: line 2: account 1120 belongs to another organization"]


def test_create_posted_refuses_an_inactive_account(books, unchanged):
    account = books.account("5300")
    account.is_active = False
    account.save()
    unchanged()
    rejected = refusal(
        lambda: voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5300", "10.00", ""), ("1120", "", "10.00"), type_code="PV"),
        )
    )
    assert rejected.messages == [f"{NEW_PV}: line 1: account 5300 is inactive"]
    assert rejected.rules == {"account_inactive"}


def test_create_posted_refuses_a_date_in_no_fiscal_year(books, unchanged):
    unchanged()
    rejected = refusal(
        lambda: voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(
                ("5200", "10.00", ""), ("1120", "", "10.00"), type_code="PV", on=date(2027, 1, 5)
            ),
        )
    )
    assert rejected.messages == [
        "New PV voucher dated 2027-01-05: date 2027-01-05 is in no fiscal year"
    ]
    assert rejected.rules == {"fiscal_year"}


def test_create_posted_refuses_a_date_in_a_closed_period(books, unchanged):
    period_set_closed(period=AccountingPeriod.objects.get(number=3), closed=True)
    unchanged()
    rejected = refusal(
        lambda: voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00"), type_code="PV"),
        )
    )
    assert rejected.rules == {"closed_period"}
    assert rejected.messages[0].startswith(f"{NEW_PV}: date 2026-03-15 is in closed period FY 2026")


def test_create_posted_refuses_a_voucher_that_needs_approval(books, unchanged):
    books.require_approval("PV")
    unchanged()
    rejected = refusal(
        lambda: voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00"), type_code="PV"),
        )
    )
    assert rejected.messages == [f"{NEW_PV}: needs approval before it can be posted"]


def test_create_posted_lists_every_problem_of_a_voucher_at_once(books, unchanged):
    unchanged()
    rejected = refusal(
        lambda: voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(
                ("1100", "10.00", "5.00"),
                ("5200", "-1.00", ""),
                type_code="PV",
                on=date(2030, 1, 1),
            ),
        )
    )
    assert {"one_side", "account_group", "positive", "balanced", "fiscal_year"} <= rejected.rules
    # Each rule is reported once, even though drafts and posting both check amounts.
    assert len(rejected.problems) == len({(p.line, p.field, p.rule) for p in rejected.problems})


def test_amounts_are_compared_exactly_without_tolerance(books):
    voucher_input = books.entry(
        ("5200", "0.10", ""), ("5300", "0.20", ""), ("1120", "", "0.30"), type_code="PV"
    )
    posted = voucher_create_posted(organization=books.organization, voucher_input=voucher_input)
    assert posted.status == VoucherStatus.POSTED
    off_by_a_cent = books.entry(
        ("5200", "0.10", ""), ("5300", "0.20", ""), ("1120", "", "0.31"), type_code="PV"
    )
    rejected = refusal(
        lambda: voucher_create_posted(organization=books.organization, voucher_input=off_by_a_cent)
    )
    assert rejected.rules == {"balanced"}


# ---------------------------------------------------------------- drafts refuse malformed lines


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        pytest.param(
            [("5200", "-1.00", ""), ("1120", "", "1.00")],
            "Draft PV: line 1: debit -1.00 is negative; amounts must be positive",
            id="negative",
        ),
        pytest.param(
            [("5200", "1.005", ""), ("1120", "", "1.005")],
            "Draft PV: line 1: debit 1.005 has more than 2 decimal places",
            id="three-decimals",
        ),
        pytest.param(
            [("5200", "1.00", "1.00"), ("1120", "", "1.00")],
            "Draft PV: line 1: has both a debit and a credit; a line takes one side only",
            id="both-sides",
        ),
    ],
)
def test_a_draft_with_a_malformed_line_is_not_saved(books, unchanged, lines, message):
    unchanged()
    rejected = refusal(lambda: draft(books, *lines))
    assert message in rejected.messages


def test_a_draft_line_without_an_account_is_not_saved(books, unchanged):
    unchanged()
    voucher_input = books.entry(("5200", "1.00", ""), type_code="PV")
    voucher_input.lines = [*voucher_input.lines, LineInput(account_id=None, credit=Decimal("1"))]
    rejected = refusal(
        lambda: voucher_draft_create(organization=books.organization, voucher_input=voucher_input)
    )
    assert rejected.messages == ["Draft PV: line 2: has no account"]


# ---------------------------------------------------------------- through voucher_post of a draft


def test_posting_a_draft_with_one_line_is_refused_and_changes_nothing(books, unchanged):
    voucher = draft(books, ("5200", "100.00", ""))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert f"Draft PV #{voucher.pk}: has 1 line(s); a voucher needs at least 2" in rejected.messages
    assert rejected.rules == {"min_lines", "balanced"}


def test_posting_a_draft_with_an_empty_line_is_refused_and_changes_nothing(books, unchanged):
    voucher = draft(books, ("5200", "100.00", ""), ("5300", "", ""), ("1120", "", "100.00"))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [
        f"Draft PV #{voucher.pk}: line 2: has neither a debit nor a credit (amount must not be zero)"
    ]


def test_posting_an_unbalanced_draft_is_refused_and_changes_nothing(books, unchanged):
    voucher = draft(books, ("5200", "100.00", ""), ("1120", "", "99.99"))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [
        f"Draft PV #{voucher.pk}: is not balanced: debits 100.00 ≠ credits 99.99 (difference 0.01)"
    ]


def test_posting_a_draft_whose_account_became_inactive_is_refused(books, unchanged):
    voucher = draft(books, ("5300", "10.00", ""), ("1120", "", "10.00"))
    account = books.account("5300")
    account.is_active = False
    account.save()
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [f"Draft PV #{voucher.pk}: line 1: account 5300 is inactive"]


def test_posting_a_draft_on_a_group_account_is_refused(books, unchanged):
    voucher = draft(books, ("5200", "10.00", ""), ("1100", "", "10.00"))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [
        f"Draft PV #{voucher.pk}: line 2: account 1100 is a group account; "
        "post to one of its sub-accounts"
    ]


def test_posting_a_draft_whose_line_names_another_organizations_account_is_refused(
    books, other_books, unchanged
):
    voucher = draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    # Only a bug or a hand edit could store such a line; posting still refuses it.
    VoucherLine.objects.filter(voucher=voucher, order=2).update(account=other_books.account("1120"))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [
        f"Draft PV #{voucher.pk}: line 2: account 1120 belongs to another organization"
    ]


def test_posting_a_draft_dated_in_no_fiscal_year_is_refused(books, unchanged):
    voucher = draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"), on=date(2025, 12, 31))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [f"Draft PV #{voucher.pk}: date 2025-12-31 is in no fiscal year"]


def test_posting_a_draft_dated_in_a_closed_period_is_refused(books, unchanged):
    voucher = draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    period_set_closed(period=AccountingPeriod.objects.get(number=3), closed=True)
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.rules == {"closed_period"}
    assert rejected.messages[0].startswith(
        f"Draft PV #{voucher.pk}: date 2026-03-15 is in closed period FY 2026 P03"
    )


def test_posting_a_draft_that_needs_approval_is_refused_until_approved(books, unchanged):
    books.require_approval("PV")
    voucher = draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [f"Draft PV #{voucher.pk}: needs approval before it can be posted"]


def test_posting_a_submitted_voucher_is_refused_until_approved(books):
    clerk, approver = books.member(), books.member()
    books.require_approval("PV")
    voucher = draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"), user=clerk)
    voucher_submit(voucher=voucher, user=clerk)
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=approver))
    assert rejected.messages == [
        f"Draft PV #{voucher.pk}: is submitted and must be approved before it can be posted"
    ]
    voucher_approve(voucher=voucher, user=approver)
    posted = voucher_post(voucher=voucher, user=approver)
    assert posted.status == VoucherStatus.POSTED
    assert posted.number == "PV-2026-00001"


def posted_voucher(books) -> Voucher:
    return voucher_post(voucher=draft(books, ("5200", "5.00", ""), ("1120", "", "5.00")), user=None)


@pytest.mark.parametrize(
    ("make", "status"),
    [
        pytest.param(posted_voucher, "posted", id="posted"),
        pytest.param(
            lambda books: voucher_cancel(
                voucher=draft(books, ("5200", "5.00", ""), ("1120", "", "5.00")), user=None
            ),
            "cancelled",
            id="cancelled",
        ),
        pytest.param(
            lambda books: Voucher.objects.get(
                pk=voucher_reverse(
                    reason="Entered in error", voucher=posted_voucher(books), user=None
                ).reversal_of_id
            ),
            "reversed",
            id="reversed",
        ),
    ],
)
def test_posting_a_voucher_that_is_not_a_draft_is_refused(books, unchanged, make, status):
    voucher = make(books)
    unchanged()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.rules == {"status"}
    assert rejected.messages == [f"{voucher}: is {status}; only a draft can be posted"]


def test_posting_a_deleted_draft_is_refused(books):
    voucher = draft(books, ("5200", "5.00", ""), ("1120", "", "5.00"))
    Voucher.objects.filter(pk=voucher.pk).delete()
    rejected = refusal(lambda: voucher_post(voucher=voucher, user=None))
    assert rejected.messages == [f"Draft PV #{voucher.pk}: no longer exists"]
