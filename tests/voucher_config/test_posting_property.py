"""Whatever a configuration's forms accept, its posting rule turns into balanced ledger lines."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.models import PartyRole
from accounting.services.checks import LineFacts, line_problems
from tests.factories import PartyFactory
from voucher_config.form_factory import (
    ConfiguredForms,
    EntryLookups,
    build_form_classes,
    raw_form_data,
)
from voucher_config.posting_rules import posting_plan
from voucher_config.services import baseline_definitions
from voucher_config.validation import account_matches_filter

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
SINGLE_AMOUNT_TYPES = ["PV", "RV", "CV", "SV", "PU", "DN", "CN"]


@pytest.fixture
def setting(books):
    customer = PartyFactory(organization=books.organization, code="C1", role=PartyRole.CUSTOMER)
    supplier = PartyFactory(
        organization=books.organization,
        code="S1",
        role=PartyRole.SUPPLIER,
        control_account=books.account("2100"),
    )
    lookups = EntryLookups(books.organization)
    lookups.accounts  # noqa: B018 - load once, before hypothesis runs the examples
    lookups.parties  # noqa: B018
    return books, lookups, {"customer": customer.code, "supplier": supplier.code}


def allowed_codes(lookups, spec):
    return sorted(a.code for a in lookups.accounts.values() if account_matches_filter(a, spec))


def assert_balanced_and_postable(books, plan):
    assert plan.total_debit == plan.total_credit
    facts = [
        LineFacts(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            account=None,
        )
        for line in plan.lines
    ]
    amount_only = [
        p
        for p in line_problems(facts, organization_id=books.organization.pk)
        if p.field != "account" and "has no account" not in p.message
    ]
    assert amount_only == []


@pytest.mark.parametrize("code", SINGLE_AMOUNT_TYPES)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_accepted_entry_posts_balanced(setting, code, data):
    books, lookups, parties = setting
    definition = baseline_definitions()[code]
    fields = {spec["key"]: spec for spec in definition["line_fields"]}
    codes = allowed_codes(lookups, fields["account"])
    count = data.draw(st.integers(min_value=1, max_value=12))
    lines = []
    for _ in range(count):
        line = {
            "account": data.draw(st.sampled_from(codes)),
            "amount": str(data.draw(amounts)),
            "description": "item",
        }
        if "tax_rate" in fields:
            line["tax_rate"] = str(data.draw(rates))
        lines.append(line)
    header = {}
    party_spec = next((s for s in definition["header_fields"] if s["key"] == "party"), None)
    if party_spec:
        header["party"] = parties[
            "supplier" if party_spec.get("role") == "supplier" else "customer"
        ]
    header["supplier_invoice"] = "X-1"
    forms = ConfiguredForms(
        build_form_classes(definition),
        definition,
        lookups,
        data=raw_form_data(definition, header, lines),
    )
    assert forms.is_valid(), (forms.header.errors, [f.errors for f in forms.lines.forms])
    plan = posting_plan(definition, forms.entered_voucher())
    assert_balanced_and_postable(books, plan)
    entered = sum(Decimal(line["amount"]) for line in lines)
    assert max(plan.total_debit, plan.total_credit) >= entered


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(amounts, st.booleans()), min_size=1, max_size=15))
def test_balanced_journal_entries_post_balanced(setting, pairs):
    books, lookups, _ = setting
    definition = baseline_definitions()["JV"]
    lines = [
        {"account": "5200", "debit": str(a)} if is_debit else {"account": "1120", "credit": str(a)}
        for a, is_debit in pairs
    ]
    balance = sum(a if is_debit else -a for a, is_debit in pairs)
    lines.append(
        {"account": "3100", "credit": str(balance)}
        if balance > 0
        else {"account": "3100", "debit": str(-balance)}
    )
    if balance == 0:
        lines.pop()
    forms = ConfiguredForms(
        build_form_classes(definition),
        definition,
        lookups,
        data=raw_form_data(definition, {}, lines),
    )
    if len(lines) < 2:
        assert not forms.is_valid()
        return
    assert forms.is_valid(), [f.errors for f in forms.lines.forms]
    plan = posting_plan(definition, forms.entered_voucher())
    assert_balanced_and_postable(books, plan)


def test_an_untouched_line_with_a_default_tax_rate_is_skipped(setting):
    _books, lookups, parties = setting
    definition = baseline_definitions()["SV"]
    data = raw_form_data(
        definition,
        {"party": parties["customer"]},
        [{"account": "4100", "amount": "10.00", "description": "Widget"}, {}],
    )
    forms = ConfiguredForms(build_form_classes(definition), definition, lookups, data=data)
    assert forms.is_valid(), [f.errors for f in forms.lines.forms]
    [line] = forms.entered_voucher().lines
    assert "DELETE" not in line
    assert line["tax_rate"] == Decimal("0")
