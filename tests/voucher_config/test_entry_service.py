"""The entry service alone: where ledger problems land on the form, and how versions compare."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from accounting.models import Role
from accounting.services.checks import Problem
from tests.voucher_config.test_entry_helpers import config_for, entry_data, seed
from voucher_config.entry.actions import entry_act, entry_voucher_input
from voucher_config.entry.definitions import ConfigChange, config_change, entry_definition
from voucher_config.entry.forms import entry_forms_bound
from voucher_config.entry.preview import entry_totals
from voucher_config.entry.problems import data_problems, place_problems
from voucher_config.form_factory import EntryLookups
from voucher_config.services import config_update


@pytest.fixture
def seeded(books):
    seed(books)
    return books


def bound(books, type_code, **kwargs):
    entry_def = entry_definition(organization=books.organization, type_code=type_code)
    data = entry_data(books, type_code, **kwargs)
    forms_ = entry_forms_bound(
        entry_def=entry_def, lookups=EntryLookups(books.organization), data=data
    )
    return entry_def, forms_


def test_a_line_problem_lands_on_the_entered_line_past_the_lines_the_rule_added(seeded):
    entry_def, forms_ = bound(seeded, "SV")
    voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    # Ledger line 1 is the customer's (added by the rule); line 3 is the second entered line.
    place_problems(
        forms_,
        entry_def,
        voucher_in.lines,
        [Problem("account 4200 is inactive", line=3, field="account")],
    )
    assert forms_.lines.forms[1].errors["account"] == ["Account 4200 is inactive."]
    assert not forms_.lines.forms[0].errors


def test_a_problem_on_a_line_the_rule_added_lands_on_the_field_that_made_it(seeded):
    entry_def, forms_ = bound(seeded, "PV")
    voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    counterpart = len(voucher_in.lines)
    place_problems(
        forms_,
        entry_def,
        voucher_in.lines,
        [Problem("account 1120 is inactive", line=counterpart, field="account")],
    )
    assert forms_.header.errors["bank_account"] == [
        "The counterpart line made from Paid from: account 1120 is inactive."
    ]


def test_voucher_problems_land_on_the_header_field_or_above_the_form(seeded):
    entry_def, forms_ = bound(seeded, "JV")
    voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    place_problems(
        forms_,
        entry_def,
        voucher_in.lines,
        [
            Problem("date 2026-03-15 is in closed period P03", field="date"),
            Problem("is not balanced: debits 1 ≠ credits 2 (difference -1)"),
        ],
    )
    assert forms_.header.errors["date"] == ["Date 2026-03-15 is in closed period P03."]
    assert forms_.header.non_field_errors() == [
        "The voucher is not balanced: debits 1 ≠ credits 2 (difference -1)."
    ]


def test_journal_debit_and_credit_problems_land_on_their_columns(seeded):
    entry_def, forms_ = bound(seeded, "JV")
    voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    place_problems(
        forms_,
        entry_def,
        voucher_in.lines,
        [Problem("credit 1.001 has more than 2 decimal places", line=2, field="credit")],
    )
    assert "credit" in forms_.lines.forms[1].errors


def test_data_that_breaks_the_generated_schema_is_reported_at_its_field(seeded):
    entry_def = entry_definition(organization=seeded.organization, type_code="CN")
    problems = data_problems(entry_def, {"reason": "bogus", "tax_account": "2200"})
    assert [key for key, _ in problems] == ["reason"]


def test_config_change_names_what_was_added_removed_and_changed(seeded):
    config = config_for(seeded, "PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"] = [
        f for f in definition["header_fields"] if f["key"] != "cheque_date"
    ]
    definition["layout"]["header_sections"][1]["fields"] = ["cheque_number"]
    definition["header_fields"].append({"key": "memo", "label": "Memo", "type": "text"})
    definition["line_fields"][2]["label"] = "Net amount"
    config_update(config=config, definition=definition)
    old = entry_definition(organization=seeded.organization, type_code="PV", version=1)
    new = entry_definition(organization=seeded.organization, type_code="PV")
    change = config_change(old, new)
    assert change == ConfigChange(
        type_name="Payment",
        old_version=1,
        new_version=2,
        added=["Memo"],
        removed=["Cheque date"],
        changed=["Net amount"],
    )
    assert "(added Memo; removed Cheque date; changed Net amount)" in change.explain()


def test_an_old_version_no_longer_in_history_gives_the_current_one(seeded):
    entry_def = entry_definition(organization=seeded.organization, type_code="PV", version=99)
    assert entry_def.version == config_for(seeded, "PV").version


def test_unknown_action_is_a_programming_error(seeded):
    entry_def, forms_ = bound(seeded, "JV")
    membership = seeded.organization.memberships.model(
        organization=seeded.organization, role=Role.ADMIN
    )
    with pytest.raises(ValueError, match="Unknown action 'publish'; valid: save, submit"):
        entry_act(
            action="publish",
            entry_def=entry_def,
            current=entry_def,
            forms_=forms_,
            membership=membership,
            user=None,
        )


def test_totals_keep_amounts_exact(seeded):
    lines = [
        {"account": "5200", "debit": "0.10"},
        {"account": "5300", "debit": "0.20"},
        {"account": "1120", "credit": "0.30"},
    ]
    entry_def, forms_ = bound(seeded, "JV", lines=lines)
    totals = entry_totals(entry_def=entry_def, forms_=forms_)
    assert (totals.total_debit, totals.total_credit) == (Decimal("0.30"), Decimal("0.30"))
    assert totals.is_balanced and totals.line_count == 3
