"""The form factory: one builder per field type, lookups limited by filter and organization,
form classes built once per configuration version."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.models import Account, PartyRole, Role
from tests.factories import AccountFactory, Books, PartyFactory
from voucher_config.form_factory import (
    AccountField,
    ConfiguredForms,
    EntryLookups,
    FormBuilder,
    PartyField,
    form_classes_for,
    raw_form_data,
)
from voucher_config.services import baseline_definitions, config_update, seed_organization


def spec(**values):
    return {"key": "field", "label": "Field", **values}


def test_unknown_field_type_fails_listing_the_valid_ones():
    with pytest.raises(ValueError) as error:
        FormBuilder({}).formfield(spec(type="amout"))
    assert str(error.value) == (
        "Unknown field type 'amout'; valid types: account, amount, boolean, choice, date, "
        "integer, party, text, textarea"
    )


@pytest.mark.parametrize(
    ("field_type", "extra", "django_field"),
    [
        ("text", {"max_length": 20}, forms.CharField),
        ("textarea", {}, forms.CharField),
        ("date", {}, forms.DateField),
        ("amount", {}, forms.DecimalField),
        ("integer", {}, forms.IntegerField),
        ("choice", {"choices": [{"value": "a", "label": "A"}]}, forms.ChoiceField),
        ("boolean", {}, forms.BooleanField),
        ("account", {}, AccountField),
        ("party", {}, PartyField),
    ],
)
def test_each_field_type_has_its_builder(field_type, extra, django_field):
    field = FormBuilder({}).formfield(spec(type=field_type, label="Shown label", **extra))
    assert isinstance(field, django_field)
    assert field.label == "Shown label"


def test_field_options_come_from_the_definition():
    builder = FormBuilder({})
    amount = builder.formfield(
        spec(type="amount", required=True, min_value=0.01, max_value=100, help_text="Net")
    )
    assert amount.required and amount.help_text == "Net"
    assert amount.min_value == Decimal("0.01") and amount.max_value == Decimal("100")
    assert amount.decimal_places == 2
    text = builder.formfield(spec(type="text", max_length=12, read_only=True, default="X"))
    assert (text.max_length, text.disabled, text.initial) == (12, True, "X")
    optional_choice = builder.formfield(spec(type="choice", choices=[{"value": "a", "label": "A"}]))
    assert optional_choice.choices[0] == ("", "—")


def test_date_default_today_is_the_day_the_form_is_shown():
    field = FormBuilder({}).formfield(spec(type="date", default="today"))
    assert field.initial() == timezone.localdate()


def test_a_required_checkbox_is_not_required_to_be_ticked():
    assert not FormBuilder({}).formfield(spec(type="boolean", required=True)).required


# --- lookups: filter and organization ------------------------------------------------------


def account_field(books, **filter_):
    field = FormBuilder({}).formfield(spec(type="account", filter=filter_))
    field.lookups = EntryLookups(books.organization)
    return field


def test_account_field_takes_only_accounts_its_filter_allows(books):
    bank = account_field(books, subtypes=["bank", "cash"])
    assert bank.clean("1120").code == "1120"
    assert bank.clean("1120 Main bank account").code == "1120"  # as picked from the search
    with pytest.raises(forms.ValidationError) as error:
        bank.clean("5200")
    assert error.value.messages == [
        "Account 5200 is not allowed here; choose one of the bank or cash accounts."
    ]
    expense = account_field(books, account_types=["expense"])
    assert expense.clean("5200").code == "5200"
    with pytest.raises(forms.ValidationError):
        expense.clean("4100")


def test_account_field_refuses_groups_inactive_and_other_organizations_accounts(books):
    Account.objects.filter(organization=books.organization, code="5300").update(is_active=False)
    rival = Books(slug="rival")
    AccountFactory(organization=rival.organization, code="5999", account_type="expense")
    field = account_field(books)
    for code in ("5000", "5300", "5999"):  # a group, an inactive account, another org's
        with pytest.raises(forms.ValidationError, match=f"Account {code} does not exist"):
            field.clean(code)


def test_party_field_takes_only_parties_in_its_role(books):
    customer = PartyFactory(organization=books.organization, code="C1", role=PartyRole.CUSTOMER)
    PartyFactory(organization=books.organization, code="B1", role=PartyRole.BOTH)
    supplier = PartyFactory(
        organization=books.organization,
        code="S1",
        role=PartyRole.SUPPLIER,
        control_account=books.account("2100"),
    )
    field = FormBuilder({}).formfield(spec(type="party", role="customer"))
    field.lookups = EntryLookups(books.organization)
    assert field.clean("C1") == customer
    assert field.clean("B1").code == "B1"
    with pytest.raises(forms.ValidationError, match=f"{supplier.name} is not a customer"):
        field.clean("S1")
    with pytest.raises(forms.ValidationError, match="Party NOPE does not exist"):
        field.clean("NOPE")


def test_lookups_read_accounts_and_parties_once_whatever_the_number_of_lines(books):
    definition = baseline_definitions()["JV"]
    classes = form_classes_for(definition, cache_key=("test-jv",))
    lines = [{"account": "5200", "debit": "1.00"}] * 40 + [{"account": "1120", "credit": "40"}]
    data = raw_form_data(definition, {"date": "2026-03-01"}, lines)
    with CaptureQueriesContext(connection) as captured:
        entry_forms = ConfiguredForms(
            classes, definition, EntryLookups(books.organization), data=data
        )
        assert entry_forms.is_valid(), entry_forms.lines.errors
    assert len(captured) == 1  # the accounts; no party was entered


# --- form classes: cached per version ------------------------------------------------------


def test_form_classes_are_built_once_per_version_and_reused():
    definition = baseline_definitions()["PV"]
    first = form_classes_for(definition, cache_key=("reuse", 1, "h1"))
    assert form_classes_for(definition, cache_key=("reuse", 1, "h1")) is first
    changed = copy.deepcopy(definition)
    changed["header_fields"].append({"key": "extra", "label": "Extra", "type": "text"})
    second = form_classes_for(changed, cache_key=("reuse", 2, "h2"))
    assert second is not first
    assert "extra" in second[0].base_fields and "extra" not in first[0].base_fields


def test_a_configuration_change_shows_on_the_next_request(books, client):
    seed_organization(organization=books.organization)
    client.force_login(books.member(Role.CLERK))
    assert "Purpose" not in client.get("/vouchers/JV/new/").content.decode()

    config = books.organization.voucher_configs.get(voucher_type__code="JV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"].append({"key": "purpose", "label": "Purpose", "type": "text"})
    config_update(config=config, definition=definition)

    assert (
        '<label for="id_purpose">Purpose</label>'
        in client.get("/vouchers/JV/new/").content.decode()
    )


# --- the entry forms -------------------------------------------------------------------------


def journal_forms(books, lines, header=None):
    definition = baseline_definitions()["JV"]
    classes = form_classes_for(definition, cache_key=("test-jv",))
    data = raw_form_data(definition, {"date": "2026-03-01", **(header or {})}, lines)
    return ConfiguredForms(classes, definition, EntryLookups(books.organization), data=data)


def test_blank_lines_are_skipped_not_refused(books):
    entry_forms = journal_forms(
        books,
        [{"account": "5200", "debit": "5"}, {}, {"account": "1120", "credit": "5"}, {}],
    )
    assert entry_forms.is_valid()
    assert len(entry_forms.entered_voucher().lines) == 2


def test_too_few_lines_are_refused_with_the_minimum(books):
    entry_forms = journal_forms(books, [{"account": "5200", "debit": "5"}])
    assert not entry_forms.is_valid()
    assert entry_forms.line_problems == ["Enter at least 2 line(s); 1 entered."]


def test_a_journal_line_takes_one_side_only(books):
    entry_forms = journal_forms(
        books, [{"account": "5200", "debit": "5", "credit": "5"}, {"account": "1120"}]
    )
    assert not entry_forms.is_valid()
    assert entry_forms.lines.forms[0].non_field_errors() == [
        "Enter either a debit or a credit on a line, not both."
    ]
    assert entry_forms.lines.forms[1].non_field_errors() == ["Enter a debit or a credit amount."]


def test_entry_values_are_python_values_without_formset_bookkeeping(books):
    entry_forms = journal_forms(
        books,
        [{"account": "5200", "debit": "5.5"}, {"account": "1120", "credit": "5.50"}],
        header={"reference": "R1"},
    )
    assert entry_forms.is_valid()
    entry = entry_forms.entered_voucher()
    assert entry.header["date"] == date(2026, 3, 1)
    assert entry.header["reference"] == "R1"
    first = entry.lines[0]
    assert first["account"].code == "5200" and first["debit"] == Decimal("5.5")
    assert "DELETE" not in first


def test_a_read_only_field_keeps_its_default_whatever_is_posted(books):
    definition = copy.deepcopy(baseline_definitions()["JV"])
    definition["header_fields"].append(
        {"key": "source", "label": "Source", "type": "text", "read_only": True, "default": "desk"}
    )
    classes = form_classes_for(definition, cache_key=("test-jv-read-only",))
    lines = [{"account": "5200", "debit": "1"}, {"account": "1120", "credit": "1"}]
    data = raw_form_data(definition, {"date": "2026-03-01", "source": "forged"}, lines)
    entry_forms = ConfiguredForms(classes, definition, EntryLookups(books.organization), data=data)
    assert entry_forms.is_valid()
    assert entry_forms.entered_voucher().header["source"] == "desk"
