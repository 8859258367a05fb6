"""Legacy entry forms: choices limited to the organization, and the exact lines each type makes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from accounting.models import Account, AccountType, EntryChannel, Party, PartyRole
from accounting.services.checks import Problem, VoucherRejected
from accounting.services.drafts import voucher_draft_create
from accounting.services.inputs import VoucherInput
from legacy_entry.forms import VOUCHER_FORMS
from legacy_entry.screen_forms import LegacyForms
from legacy_entry.vouchers import (
    LineSource,
    legacy_initial,
    legacy_voucher,
    legacy_voucher_input,
    rejection_place,
)
from tests.factories import AccountFactory, PartyFactory

ON = "2026-03-15"
D = Decimal


def lines_of(books, voucher_input: VoucherInput) -> list[tuple[Any, ...]]:
    codes = {account.pk: code for code, account in books.accounts.items()}
    party_codes = dict(Party.objects.values_list("pk", "code"))
    return [
        (
            codes[line.account_id],
            line.debit,
            line.credit,
            line.description,
            party_codes.get(line.party_id),
            line.data,
        )
        for line in voucher_input.lines
    ]


def entry(books, type_code: str, header: dict[str, str], lines: list[dict[str, str]]):
    return legacy_voucher_input(
        organization=books.organization,
        type_code=type_code,
        header={"date": ON, **header},
        lines=lines,
    )


# The lines each type makes


def test_journal_lines_are_posted_as_entered(books, parties):
    made = entry(
        books,
        "JV",
        {"reference": "ACC-01", "narration": "Rent accrual"},
        [
            {"account": "5200", "debit": "1500.00", "description": "March rent"},
            {"account": "2300", "credit": "1500.00", "party": "S001"},
        ],
    )

    assert made.entry_channel == EntryChannel.LEGACY
    assert (made.date, made.reference, made.narration) == (
        date(2026, 3, 15),
        "ACC-01",
        "Rent accrual",
    )
    assert made.party_id is None and made.data == {}
    assert lines_of(books, made) == [
        ("5200", D("1500.00"), D("0"), "March rent", None, {}),
        ("2300", D("0"), D("1500.00"), "", "S001", {}),
    ]


def test_payment_debits_the_lines_and_credits_the_bank_with_their_total(books, parties):
    made = entry(
        books,
        "PV",
        {
            "bank_account": "1130",
            "party": "S001",
            "narration": "March bills",
            "cheque_number": "000123",
            "cheque_date": "2026-03-14",
        },
        [
            {"account": "5200", "amount": "1200.00", "description": "Office rent"},
            {"account": "5400", "amount": "85.50", "description": "Electricity"},
        ],
    )

    supplier = parties["supplier"]
    assert made.party_id == supplier.pk
    assert made.data == {
        "bank_account": "1130",
        "cheque_number": "000123",
        "cheque_date": "2026-03-14",
    }
    assert lines_of(books, made) == [
        ("5200", D("1200.00"), D("0"), "Office rent", None, {"amount": "1200.00"}),
        ("5400", D("85.50"), D("0"), "Electricity", None, {"amount": "85.50"}),
        ("1130", D("0"), D("1285.50"), "March bills", "S001", {"generated": "counterpart"}),
    ]


def test_receipt_credits_the_lines_and_debits_the_bank(books, parties):
    made = entry(
        books,
        "RV",
        {"party": "C001", "payment_method": "cheque"},
        [
            {"account": "1200", "amount": "640.00", "description": "Invoice settled"},
            {"account": "4300", "amount": "12.34", "description": "Interest"},
        ],
    )

    assert made.data == {"bank_account": "1120", "payment_method": "cheque"}
    assert lines_of(books, made) == [
        ("1200", D("0"), D("640.00"), "Invoice settled", None, {"amount": "640.00"}),
        ("4300", D("0"), D("12.34"), "Interest", None, {"amount": "12.34"}),
        ("1120", D("652.34"), D("0"), "", "C001", {"generated": "counterpart"}),
    ]


def test_contra_debits_the_lines_and_credits_the_account_transferred_from(books):
    narration = "Float top-up " + "x" * 300
    made = entry(
        books,
        "CV",
        {"bank_account": "1120", "narration": narration},
        [{"account": "1110", "amount": "200", "description": "Petty cash"}],
    )

    assert lines_of(books, made) == [
        ("1110", D("200"), D("0"), "Petty cash", None, {"amount": "200"}),
        ("1120", D("0"), D("200"), narration[:255], None, {"generated": "counterpart"}),
    ]


def test_sales_invoice_puts_the_customer_first_and_rounds_each_lines_tax_half_up(books, parties):
    made = entry(
        books,
        "SV",
        {"party": "C001", "customer_po": "PO-9", "due_date": "2026-04-14"},
        [
            {
                "description": "Consulting, March",
                "account": "4200",
                "amount": "1000.00",
                "tax_rate": "18",
            },
            # 33.33 × 5% = 1.6665 → 1.67; 0.10 × 5% = 0.005 → 0.01 (half-up, not to even).
            {"description": "Materials", "account": "4100", "amount": "33.33", "tax_rate": "5"},
            {"description": "Postage", "account": "4100", "amount": "0.10", "tax_rate": "5"},
        ],
    )

    assert made.party_id == parties["customer"].pk
    assert made.data == {"due_date": "2026-04-14", "customer_po": "PO-9", "tax_account": "2200"}
    assert lines_of(books, made) == [
        ("1200", D("1215.11"), D("0"), "Northwind Traders", "C001", {"generated": "party"}),
        ("4200", D("0"), D("1000.00"), "Consulting, March", None,
         {"amount": "1000.00", "tax_rate": "18", "tax": "180.00"}),
        ("4100", D("0"), D("33.33"), "Materials", None,
         {"amount": "33.33", "tax_rate": "5", "tax": "1.67"}),
        ("4100", D("0"), D("0.10"), "Postage", None,
         {"amount": "0.10", "tax_rate": "5", "tax": "0.01"}),
        ("2200", D("0"), D("181.68"), "Tax", None, {"generated": "tax"}),
    ]  # fmt: skip


def test_purchase_credits_the_supplier_and_debits_recoverable_tax(books, parties):
    made = entry(
        books,
        "PU",
        {"party": "S001", "supplier_invoice": "INV-7731", "narration": "March stock"},
        [
            {"description": "Stock", "account": "5100", "amount": "1000.00", "tax_rate": "18"},
            {"description": "Printer", "account": "1500", "amount": "250.00", "tax_rate": "5"},
        ],
    )

    assert made.data == {
        "supplier_invoice": "INV-7731",
        "due_date": None,
        "tax_account": "1400",
    }
    assert lines_of(books, made) == [
        ("2100", D("0"), D("1442.50"), "March stock", "S001", {"generated": "party"}),
        ("5100", D("1000.00"), D("0"), "Stock", None,
         {"amount": "1000.00", "tax_rate": "18", "tax": "180.00"}),
        ("1500", D("250.00"), D("0"), "Printer", None,
         {"amount": "250.00", "tax_rate": "5", "tax": "12.50"}),
        ("1400", D("192.50"), D("0"), "Tax", None, {"generated": "tax"}),
    ]  # fmt: skip


def test_debit_note_debits_the_supplier(books, parties):
    made = entry(
        books,
        "DN",
        {"party": "S001", "reason": "price", "original_invoice": "INV-7731"},
        [
            {
                "description": "Price correction",
                "account": "5100",
                "amount": "100.00",
                "tax_rate": "18",
            }
        ],
    )

    assert made.data == {"original_invoice": "INV-7731", "reason": "price", "tax_account": "1400"}
    assert lines_of(books, made) == [
        ("2100", D("118.00"), D("0"), "Acme Supplies", "S001", {"generated": "party"}),
        ("5100", D("0"), D("100.00"), "Price correction", None,
         {"amount": "100.00", "tax_rate": "18", "tax": "18.00"}),
        ("1400", D("0"), D("18.00"), "Tax", None, {"generated": "tax"}),
    ]  # fmt: skip


def test_credit_note_credits_the_customer(books, parties):
    made = entry(
        books,
        "CN",
        {"party": "C001"},
        [{"description": "Returned goods", "account": "4100", "amount": "50.00", "tax_rate": "5"}],
    )

    assert made.data == {"original_invoice": "", "reason": "return", "tax_account": "2200"}
    assert lines_of(books, made) == [
        ("1200", D("0"), D("52.50"), "Northwind Traders", "C001", {"generated": "party"}),
        ("4100", D("50.00"), D("0"), "Returned goods", None,
         {"amount": "50.00", "tax_rate": "5", "tax": "2.50"}),
        ("2200", D("2.50"), D("0"), "Tax", None, {"generated": "tax"}),
    ]  # fmt: skip


def test_untaxed_invoice_has_no_tax_line(books, parties):
    made = entry(
        books,
        "SV",
        {"party": "C001"},
        [{"description": "Consulting", "account": "4200", "amount": "10.00"}],
    )

    assert [line.data.get("generated") for line in made.lines] == ["party", None]
    assert made.lines[1].data == {"amount": "10.00", "tax_rate": "0", "tax": "0.00"}


def test_blank_and_removed_lines_are_skipped(books):
    data = LegacyForms.raw_data(
        type_code="PV",
        header={"date": ON},
        lines=[
            {"account": "5200", "amount": "10.00"},
            {},
            {"account": "5400", "amount": "99.00"},
            {"account": "5500", "amount": "5.00"},
        ],
    )
    data["lines-2-DELETE"] = "on"
    forms = LegacyForms(organization=books.organization, type_code="PV", data=data)
    assert forms.is_valid(), forms.error_list()

    made = legacy_voucher(legacy_forms=forms, voucher_type=books.types["PV"]).voucher_input

    assert [line.debit for line in made.lines] == [D("10.00"), D("5.00"), D("0")]
    assert made.lines[-1].credit == D("15.00")


# What the forms refuse, and where they say so


def errors_of(books, type_code, header, lines) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        entry(books, type_code, header, lines)
    return refused.value.messages


def test_bank_field_offers_only_bank_and_cash_accounts(books):
    form = LegacyForms(organization=books.organization, type_code="PV").header
    codes = [code for code, _ in form.fields["bank_account"].choices if code]
    assert codes == ["1110", "1120", "1130"]

    messages = errors_of(
        books, "PV", {"bank_account": "5200"}, [{"account": "5400", "amount": "1"}]
    )
    assert messages == [
        "Paid from: Account 5200 cannot be used here; choose one of the bank or cash accounts "
        "(active, and not a group account)."
    ]


def test_line_accounts_are_filtered_by_type(books):
    messages = errors_of(
        books,
        "SV",
        {"party": ""},
        [{"description": "Rent?", "account": "5200", "amount": "1"}],
    )
    assert "Customer: This field is required." in messages
    assert (
        "line 1, Account: Account 5200 cannot be used here; choose one of the income accounts "
        "(active, and not a group account)."
    ) in messages


def test_group_inactive_and_other_organizations_accounts_are_refused(books, other_books):
    AccountFactory(organization=books.organization, code="5990", is_active=False)
    AccountFactory(organization=other_books.organization, code="5991")
    for code in ["5000", "5990", "5991"]:
        messages = errors_of(
            books,
            "JV",
            {},
            [{"account": code, "debit": "1"}, {"account": "2300", "credit": "1"}],
        )
        assert messages == [
            f"line 1, Account: Account {code} cannot be used here; choose one of the posting "
            "accounts (active, and not a group account)."
        ]


def test_parties_are_offered_by_role_and_organization(books, other_books, parties):
    PartyFactory(organization=books.organization, code="B001", role=PartyRole.BOTH)
    PartyFactory(
        organization=other_books.organization,
        code="X001",
        control_account=other_books.account("1200"),
    )
    form = LegacyForms(organization=books.organization, type_code="SV").header
    assert [code for code, _ in form.fields["party"].choices if code] == ["B001", "C001"]

    for code in ["S001", "X001"]:
        messages = errors_of(
            books, "SV", {"party": code}, [{"description": "x", "account": "4100", "amount": "1"}]
        )
        assert messages == [
            f"Customer: Party {code} is not one of the organization's active customers."
        ]


def test_journal_line_takes_exactly_one_positive_side(books):
    messages = errors_of(
        books,
        "JV",
        {},
        [
            {"account": "5200", "debit": "1", "credit": "1"},
            {"account": "2300"},
            {"account": "2300", "debit": "-5"},
        ],
    )
    assert messages == [
        "line 1: Enter either a debit or a credit on a line, not both.",
        "line 2: Enter a debit or a credit amount.",
        "line 3, Debit: Amounts must be positive; use the other column instead.",
    ]


def test_amounts_tax_rates_and_line_counts_are_checked(books, parties):
    messages = errors_of(
        books,
        "SV",
        {"party": "C001"},
        [
            {"description": "a", "account": "4100", "amount": "0", "tax_rate": "101"},
            {"description": "b", "account": "4100", "amount": "1.005"},
        ],
    )
    assert messages == [
        "line 1, Amount: Ensure this value is greater than or equal to 0.01.",
        "line 1, Tax %: Ensure this value is less than or equal to 100.",
        "line 2, Amount: Ensure that there are no more than 2 decimal places.",
    ]
    assert errors_of(books, "JV", {}, [{"account": "5200", "debit": "1"}]) == [
        "Enter at least 2 line(s); 1 entered."
    ]
    assert errors_of(books, "PV", {"date": "15/03/2026"}, []) == [
        "Date: Enter a valid date.",
        "Enter at least 1 line(s); 0 entered.",
    ]


def test_unknown_voucher_type_is_refused(books):
    with pytest.raises(ValidationError, match="no voucher type XX"):
        entry(books, "XX", {}, [])


def test_line_inputs_carry_their_line_number_in_an_aria_label(books):
    forms = LegacyForms(organization=books.organization, type_code="SV")
    html = str(forms.lines.forms[1]["account"])
    assert 'aria-label="Account, line 2"' in html
    assert 'aria-label="Remove, line 2"' in str(forms.lines.forms[1]["DELETE"])


def test_many_lines_read_each_choice_list_once(books, django_assert_max_num_queries):
    lines = [{"account": "5200", "debit": "1.00"} for _ in range(100)]
    lines.append({"account": "2300", "credit": "100.00"})
    # The voucher type, then the accounts and parties of the header form and of the lines.
    with django_assert_max_num_queries(4):
        made = entry(books, "JV", {}, lines)
    assert len(made.lines) == 101


# A refused voucher's problems, put back on the form


def test_posting_problems_land_on_the_line_or_the_header_field_that_made_the_line(books, parties):
    forms = LegacyForms(
        organization=books.organization,
        type_code="SV",
        data=LegacyForms.raw_data(
            type_code="SV",
            header={"date": ON, "party": "C001"},
            lines=[
                {},
                {"description": "a", "account": "4100", "amount": "10", "tax_rate": "5"},
            ],
        ),
    )
    assert forms.is_valid(), forms.error_list()
    made = legacy_voucher(legacy_forms=forms, voucher_type=books.types["SV"])
    assert made.sources == [
        LineSource(field="party"),
        LineSource(line=1),
        LineSource(field="tax_account"),
    ]
    rejected = VoucherRejected(
        "New SV",
        [
            Problem("account 1200 is inactive", 1, "account"),
            Problem("debit 1 is too large", 2, "debit"),
            Problem("account 2200 is inactive", 3, "account"),
            Problem("date 2027-01-01 is in no fiscal year", None, "date"),
            Problem("is not balanced", None, None),
        ],
    )

    rest = rejection_place(legacy_forms=forms, sources=made.sources, rejected=rejected)

    assert rest == ["New SV: is not balanced"]
    assert forms.header.errors["party"] == ["account 1200 is inactive"]
    assert forms.header.errors["tax_account"] == ["account 2200 is inactive"]
    assert forms.header.errors["date"] == ["date 2027-01-01 is in no fiscal year"]
    assert forms.lines.forms[1].errors["amount"] == ["debit 1 is too large"]
    assert not forms.lines.forms[0].errors


# A stored draft, back in the form


def test_a_saved_draft_reopens_with_the_values_it_was_entered_with(books, parties):
    header = {
        "date": ON,
        "party": "S001",
        "supplier_invoice": "INV-1",
        "tax_account": "1400",
        "narration": "Stock",
    }
    lines = [
        {"description": "Stock", "account": "5100", "amount": "100.00", "tax_rate": "18"},
        {"description": "Cable", "account": "5500", "amount": "9.99", "tax_rate": "0"},
    ]
    made = entry(books, "PU", header, lines)
    draft = voucher_draft_create(organization=books.organization, voucher_input=made)

    initial_header, initial_lines = legacy_initial(voucher=draft)

    assert initial_header == {
        "date": date(2026, 3, 15),
        "reference": "",
        "narration": "Stock",
        "party": "S001",
        "supplier_invoice": "INV-1",
        "tax_account": "1400",
    }
    assert initial_lines == lines
    again = entry(books, "PU", {**initial_header, "date": ON}, initial_lines)
    assert lines_of(books, again) == lines_of(books, made)


# The same input makes the same lines as the configuration-driven entry of the baseline


PARITY_CASES = {
    "JV": (
        {"narration": "Accrual", "reference": "R1"},
        [
            {"account": "5200", "debit": "1500", "description": "Rent", "party": "S001"},
            {"account": "2300", "credit": "1500.00"},
        ],
    ),
    "PV": (
        {"bank_account": "1130", "party": "S001", "cheque_number": "7", "narration": "Bills"},
        [
            {"account": "5200", "amount": "1200.00", "description": "Office rent"},
            {"account": "2100", "amount": "85.5"},
        ],
    ),
    "RV": ({"party": "C001"}, [{"account": "1200", "amount": "640.00", "description": "Paid"}]),
    "CV": ({"bank_account": "1120"}, [{"account": "1110", "amount": "0.01"}]),
    "SV": (
        {"party": "C001", "due_date": "2026-04-01"},
        [
            {"description": "Consulting", "account": "4200", "amount": "1000.00", "tax_rate": "18"},
            {"description": "Materials", "account": "4100", "amount": "33.33", "tax_rate": "5"},
        ],
    ),
    "PU": (
        {"party": "S001", "supplier_invoice": "INV-7731", "narration": "Stock"},
        [{"description": "Stock", "account": "5100", "amount": "99.99", "tax_rate": "12.5"}],
    ),
    "DN": (
        {"party": "S001", "reason": "damage"},
        [{"description": "Broken", "account": "1300", "amount": "10", "tax_rate": "7"}],
    ),
    "CN": (
        {"party": "C001", "original_invoice": "SV-1"},
        [{"description": "Return", "account": "4100", "amount": "40.00"}],
    ),
}


def config_voucher_input(books, type_code, header, lines) -> VoucherInput:
    from voucher_config.form_factory import (
        ConfiguredForms,
        EntryLookups,
        build_form_classes,
        raw_form_data,
    )
    from voucher_config.posting_rules import voucher_input

    path = Path(settings.BASE_DIR) / "voucher_config" / "baseline" / f"{type_code.lower()}.json"
    definition = json.loads(path.read_text())
    forms = ConfiguredForms(
        build_form_classes(definition),
        definition,
        EntryLookups(books.organization),
        data=raw_form_data(definition, header, lines),
    )
    assert forms.is_valid(), (forms.header.errors, forms.lines.errors)
    made, _ = voucher_input(
        definition=definition,
        entered=forms.entered_voucher(),
        voucher_type=books.types[type_code],
        version=None,
        config_hash="",
        channel=EntryChannel.LEGACY,
    )
    return made


def comparable(books, made: VoucherInput) -> dict[str, Any]:
    lines = [
        # The formset's removal flag is not an entered value; leave it out if present.
        (*line[:5], {k: v for k, v in line[5].items() if k != "DELETE"})
        for line in lines_of(books, made)
    ]
    return {
        "lines": lines,
        "header": (made.date, made.reference, made.narration, made.party_id, made.data),
    }


@pytest.mark.parametrize("type_code", sorted(VOUCHER_FORMS))
def test_same_input_makes_the_same_lines_as_the_baseline_configuration(books, parties, type_code):
    header, lines = PARITY_CASES[type_code]
    header = {"date": ON, **header}

    legacy = legacy_voucher_input(
        organization=books.organization, type_code=type_code, header=header, lines=lines
    )
    config = config_voucher_input(books, type_code, header, lines)

    assert comparable(books, legacy) == comparable(books, config)


def test_every_account_filter_matches_the_baseline_configuration(books, parties):
    AccountFactory(organization=books.organization, code="6100", account_type=AccountType.EQUITY)
    from voucher_config.form_factory import EntryLookups

    lookups = EntryLookups(books.organization)
    for type_code in VOUCHER_FORMS:
        path = Path(settings.BASE_DIR) / "voucher_config" / "baseline" / f"{type_code.lower()}.json"
        definition = json.loads(path.read_text())
        forms = LegacyForms(organization=books.organization, type_code=type_code)
        for section, form in (
            ("header_fields", forms.header),
            ("line_fields", forms.lines.forms[0]),
        ):
            for spec in definition[section]:
                field = form.fields[spec["key"]]
                assert field.label == spec["label"], (type_code, spec["key"])
                assert field.required == bool(spec.get("required")), (type_code, spec["key"])
                if spec["type"] == "account":
                    offered = {code for code, _ in field.choices if code}
                    assert offered == {a.code for a in lookups.accounts_for(spec)}, (
                        type_code,
                        spec,
                    )
                if spec["type"] == "party":
                    offered = {code for code, _ in field.choices if code}
                    assert offered == {p.code for p in lookups.parties_for(spec)}, (type_code, spec)
        assert list(forms.header.fields) == [s["key"] for s in definition["header_fields"]]
        assert [n for n in forms.lines.forms[0].fields if n != "DELETE"] == [
            s["key"] for s in definition["line_fields"]
        ]
    assert Account.objects.filter(code="6100").exists()
