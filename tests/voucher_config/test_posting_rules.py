"""The posting rules, one at a time: journal, counterpart and invoice (with tax rounding)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from accounting.models import EntryChannel, PartyRole
from tests.factories import PartyFactory
from voucher_config.posting_rules import (
    GENERATED,
    EnteredVoucher,
    PostingRuleError,
    line_tax,
    posting_plan,
    voucher_input,
)
from voucher_config.services import baseline_definitions

D = Decimal


def definition(code: str, **posting) -> dict:
    result = copy.deepcopy(baseline_definitions()[code])
    result["posting"].update(posting)
    return result


def sides(plan, books) -> list[tuple[str, Decimal, Decimal, str]]:
    codes = {account.pk: code for code, account in books.accounts.items()}
    return [
        (codes[line.account_id], line.debit, line.credit, line.data.get(GENERATED, ""))
        for line in plan.lines
    ]


@pytest.fixture
def customer(books):
    return PartyFactory(organization=books.organization, code="C1", role=PartyRole.CUSTOMER)


@pytest.fixture
def supplier(books):
    return PartyFactory(
        organization=books.organization,
        code="S1",
        role=PartyRole.SUPPLIER,
        control_account=books.account("2100"),
    )


# --- journal ---------------------------------------------------------------------------------


def test_journal_posts_each_line_on_its_own_side(books):
    a = books.account
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1)},
        lines=[
            {"account": a("5200"), "debit": D("1500.00"), "credit": None, "description": "Rent"},
            {"account": a("2300"), "debit": None, "credit": D("1500.00"), "description": ""},
        ],
    )
    plan = posting_plan(definition("JV"), entry)
    assert sides(plan, books) == [
        ("5200", D("1500.00"), D("0"), ""),
        ("2300", D("0"), D("1500.00"), ""),
    ]
    assert plan.lines[0].description == "Rent"
    assert plan.is_balanced and plan.difference == 0


def test_journal_reports_an_unbalanced_entry_without_fixing_it(books):
    a = books.account
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1)},
        lines=[
            {"account": a("5200"), "debit": D("100")},
            {"account": a("1120"), "credit": D("99.99")},
        ],
    )
    plan = posting_plan(definition("JV"), entry)
    assert not plan.is_balanced
    assert plan.difference == D("0.01")
    assert len(plan.lines) == 2  # nothing added to hide the difference


# --- counterpart -----------------------------------------------------------------------------


def test_counterpart_puts_the_total_on_the_header_account_opposite_the_lines(books):
    a = books.account
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1), "bank_account": a("1120"), "narration": "March bills"},
        lines=[
            {"account": a("5200"), "amount": D("1200.00")},
            {"account": a("5400"), "amount": D("85.50")},
        ],
    )
    plan = posting_plan(definition("PV"), entry)
    assert sides(plan, books) == [
        ("5200", D("1200.00"), D("0"), ""),
        ("5400", D("85.50"), D("0"), ""),
        ("1120", D("0"), D("1285.50"), "counterpart"),
    ]
    assert plan.lines[-1].description == "March bills"
    assert plan.is_balanced


def test_counterpart_with_credit_lines_debits_the_header_account(books):
    a = books.account
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1), "bank_account": a("1120")},
        lines=[{"account": a("1200"), "amount": D("640.00")}],
    )
    plan = posting_plan(definition("RV"), entry)
    assert sides(plan, books) == [
        ("1200", D("0"), D("640.00"), ""),
        ("1120", D("640.00"), D("0"), "counterpart"),
    ]


def test_counterpart_negative_amount_goes_to_the_other_side(books):
    a = books.account
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1), "bank_account": a("1120")},
        lines=[
            {"account": a("5200"), "amount": D("100")},
            {"account": a("5400"), "amount": D("-30")},
        ],
    )
    plan = posting_plan(definition("PV"), entry)
    assert sides(plan, books) == [
        ("5200", D("100"), D("0"), ""),
        ("5400", D("0"), D("30"), ""),
        ("1120", D("0"), D("70"), "counterpart"),
    ]
    assert plan.lines[1].data["amount"] == "-30"  # what was entered, so it reopens as entered


def test_counterpart_without_the_header_account_names_the_field(books):
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1), "bank_account": None},
        lines=[{"account": books.account("5200"), "amount": D("1")}],
    )
    with pytest.raises(PostingRuleError) as error:
        posting_plan(definition("PV"), entry)
    assert error.value.field_key == "bank_account"


# --- invoice ---------------------------------------------------------------------------------


def sales_entry(books, customer, *lines):
    return EnteredVoucher(
        header={"date": date(2026, 3, 1), "party": customer, "tax_account": books.account("2200")},
        lines=[
            {
                "description": "Item",
                "account": books.account("4200"),
                "amount": D(amount),
                "tax_rate": D(rate),
            }
            for amount, rate in lines
        ],
    )


def test_invoice_posts_the_party_control_account_against_income_and_tax(books, customer):
    plan = posting_plan(
        definition("SV"), sales_entry(books, customer, ("1000.00", "18"), ("33.33", "5"))
    )
    assert sides(plan, books) == [
        ("1200", D("1215.00"), D("0"), "party"),
        ("4200", D("0"), D("1000.00"), ""),
        ("4200", D("0"), D("33.33"), ""),
        ("2200", D("0"), D("181.67"), "tax"),
    ]
    assert plan.lines[0].party_id == customer.pk
    assert plan.lines[1].data["tax"] == "180.00" and plan.lines[2].data["tax"] == "1.67"
    assert plan.tax_lines == {"2200": D("181.67")}
    assert plan.is_balanced


def test_purchase_invoice_sides_are_the_mirror_of_sales(books, supplier):
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1), "party": supplier, "tax_account": books.account("1400")},
        lines=[{"account": books.account("5100"), "amount": D("100.00"), "tax_rate": D("10")}],
    )
    plan = posting_plan(definition("PU"), entry)
    assert sides(plan, books) == [
        ("2100", D("0"), D("110.00"), "party"),
        ("5100", D("100.00"), D("0"), ""),
        ("1400", D("10.00"), D("0"), "tax"),
    ]


def test_credit_note_reverses_the_sales_sides(books, customer):
    plan = posting_plan(definition("CN"), sales_entry(books, customer, ("50.00", "10")))
    assert sides(plan, books) == [
        ("1200", D("0"), D("55.00"), "party"),
        ("4200", D("50.00"), D("0"), ""),
        ("2200", D("5.00"), D("0"), "tax"),
    ]


def test_invoice_without_tax_has_no_tax_line(books, customer):
    plan = posting_plan(definition("SV"), sales_entry(books, customer, ("10.00", "0")))
    assert [generated for *_, generated in sides(plan, books)] == ["party", ""]
    assert plan.tax_lines == {}


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        ("33.33", "5", "1.67"),  # 1.6665 rounds half up
        ("0.05", "10", "0.01"),  # 0.005
        ("0.04", "10", "0.00"),  # 0.004
        ("19.99", "7.5", "1.50"),  # 1.49925
        ("100.00", "18", "18.00"),
    ],
)
def test_line_tax_is_rounded_half_up_to_two_decimals(amount, rate, tax):
    assert line_tax(D(amount), D(rate)) == D(tax)
    assert line_tax(D(amount), D(rate)).as_tuple().exponent == -2


def test_line_rounding_posts_the_line_taxes_and_reports_the_difference(books, customer):
    three = [("0.05", "10")] * 3  # each line's tax 0.005 → 0.01; the document's 0.015 → 0.02
    plan = posting_plan(definition("SV"), sales_entry(books, customer, *three))
    assert plan.tax_lines == {"2200": D("0.03")}
    assert plan.tax_rounding_difference == D("-0.01")
    assert plan.is_balanced  # the difference is reported, and the lines still balance


def test_document_rounding_posts_the_document_tax_and_reports_the_difference(books, customer):
    three = [("0.05", "10")] * 3
    plan = posting_plan(
        definition("SV", tax_rounding="document"), sales_entry(books, customer, *three)
    )
    assert plan.tax_lines == {"2200": D("0.02")}
    assert plan.tax_rounding_difference == D("-0.01")
    assert sides(plan, books)[0] == ("1200", D("0.17"), D("0"), "party")
    assert plan.is_balanced


def test_no_rounding_difference_when_line_and_document_tax_agree(books, customer):
    plan = posting_plan(definition("SV"), sales_entry(books, customer, ("1000.00", "18")))
    assert plan.tax_rounding_difference == 0


def test_invoice_without_its_party_names_the_field(books):
    entry = EnteredVoucher(
        header={"date": date(2026, 3, 1), "party": None, "tax_account": books.account("2200")},
        lines=[{"account": books.account("4200"), "amount": D("1"), "tax_rate": D("0")}],
    )
    with pytest.raises(PostingRuleError) as error:
        posting_plan(definition("SV"), entry)
    assert error.value.field_key == "party"


def test_invoice_with_tax_but_no_tax_account_names_the_field(books, customer):
    entry = sales_entry(books, customer, ("10.00", "10"))
    entry.header["tax_account"] = None
    with pytest.raises(PostingRuleError) as error:
        posting_plan(definition("SV"), entry)
    assert error.value.field_key == "tax_account"


# --- the voucher an entry makes --------------------------------------------------------------


def test_voucher_input_stamps_channel_version_and_keeps_extra_fields_in_data(books, supplier):
    entry = EnteredVoucher(
        header={
            "date": date(2026, 3, 1),
            "bank_account": books.account("1120"),
            "party": supplier,
            "reference": "R-1",
            "cheque_number": "0042",
            "cheque_date": date(2026, 3, 2),
            "narration": "",
        },
        lines=[{"account": books.account("5200"), "amount": D("10.00"), "description": "x"}],
    )
    pv = definition("PV")
    made, plan = voucher_input(
        definition=pv, entered=entry, voucher_type=books.types["PV"], version=7, config_hash="abc"
    )
    assert (made.entry_channel, made.config_version, made.config_hash) == (
        EntryChannel.CONFIG,
        7,
        "abc",
    )
    assert made.party_id == supplier.pk and made.reference == "R-1"
    assert made.data == {
        "bank_account": "1120",
        "cheque_number": "0042",
        "cheque_date": "2026-03-02",
    }
    assert made.lines is plan.lines
