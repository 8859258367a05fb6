"""The ledger's reads for checking a new voucher: facts.accounts and facts.period in one query."""

from datetime import date

from accounting.services.facts import account_facts_for, entry_facts_read, period_for
from tests.factories import Books


def test_entry_facts_are_the_account_facts_and_the_period_read_apart(
    books, django_assert_num_queries
):
    ids = {books.account("5200").pk, books.account("1120").pk}
    on = date(2026, 3, 15)
    with django_assert_num_queries(1):
        facts = entry_facts_read(organization=books.organization, account_ids=ids, on=on)
    assert facts.accounts == account_facts_for(organization=books.organization, account_ids=ids)
    expected, period = period_for(organization_id=books.organization.pk, on=on), facts.period
    assert period is not None and expected is not None
    assert (period.pk, period.number, period.start_date, period.end_date, period.is_closed) == (
        expected.pk,
        expected.number,
        expected.start_date,
        expected.end_date,
        expected.is_closed,
    )
    assert period.fiscal_year.pk == books.fiscal_year.pk
    assert period.fiscal_year.code == books.fiscal_year.code


def test_a_date_in_no_fiscal_year_has_no_period_and_the_accounts_are_still_read(books):
    ids = {books.account("5200").pk}
    facts = entry_facts_read(organization=books.organization, account_ids=ids, on=date(2031, 1, 1))
    assert facts.period is None
    assert set(facts.accounts) == ids


def test_no_accounts_still_finds_the_period(books):
    facts = entry_facts_read(
        organization=books.organization, account_ids=set(), on=date(2026, 12, 31)
    )
    assert facts.accounts == {}
    assert facts.period is not None and facts.period.end_date == date(2026, 12, 31)


def test_another_organizations_account_is_read_with_its_own_organization(books, db):
    other = Books(slug="other")
    foreign = other.account("5200")
    facts = entry_facts_read(
        organization=books.organization, account_ids={foreign.pk}, on=date(2026, 1, 1)
    )
    assert facts.accounts[foreign.pk].organization_id == other.organization.pk


def test_an_account_id_that_does_not_exist_is_absent(books):
    facts = entry_facts_read(
        organization=books.organization, account_ids={10**9}, on=date(2026, 1, 1)
    )
    assert facts.accounts == {}
    assert facts.period is not None
