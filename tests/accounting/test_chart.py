"""Loading a chart of accounts: any row order, every bad row reported, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounting.models import Account
from accounting.services.chart import (
    DEMO_CHART,
    ChartRejected,
    RowError,
    chart_of_accounts_load,
    chart_rows_from_csv,
)
from tests.factories import OrganizationFactory, post

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def rows(*lines: str) -> list[dict[str, str]]:
    """Chart rows from "code,name,type,parent,subtype" strings."""
    keys = ("code", "name", "type", "parent", "subtype")
    return [dict(zip(keys, line.split(","), strict=True)) for line in lines]


@pytest.fixture
def organization(db):
    return OrganizationFactory(slug="fresh")


def test_demo_chart_loads_in_reverse_order_with_its_tree(organization):
    reversed_rows = list(reversed(chart_rows_from_csv(DEMO_CHART)))

    result = chart_of_accounts_load(organization=organization, rows=reversed_rows)

    assert (result.created, result.updated) == (len(reversed_rows), 0)
    petty_cash = Account.objects.get(organization=organization, code="1110")
    assert (petty_cash.parent.code, petty_cash.parent.parent.code) == ("1100", "1000")
    assert petty_cash.subtype == "cash"
    assert Account.objects.get(organization=organization, code="1000").parent is None


def test_loading_again_updates_by_code_and_creates_nothing(organization):
    chart_of_accounts_load(organization=organization, rows=chart_rows_from_csv(DEMO_CHART))
    renamed = rows("5200,Office rent,expense,5000,")

    result = chart_of_accounts_load(organization=organization, rows=renamed)

    assert (result.created, result.updated) == (0, 1)
    assert Account.objects.get(organization=organization, code="5200").name == "Office rent"


def test_a_parent_may_be_an_account_already_in_the_books(organization):
    chart_of_accounts_load(organization=organization, rows=rows("5000,Expenses,expense,,"))
    chart_of_accounts_load(organization=organization, rows=rows("5100,Fuel,expense,5000,"))

    assert Account.objects.get(organization=organization, code="5100").parent.code == "5000"


def test_every_bad_row_is_reported_with_its_row_number_and_nothing_is_saved(organization):
    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(
            organization=organization, rows=chart_rows_from_csv(FIXTURES / "chart_bad.csv")
        )

    assert caught.value.errors == [
        RowError(4, "code 1100 repeats row 3"),
        RowError(5, "type 'assets' is not one of asset, equity, expense, income, liability"),
        RowError(6, "parent 9999 is not in the chart"),
        RowError(7, "parents form a loop: 1410 → 1420"),
        RowError(8, "parents form a loop: 1420 → 1410"),
    ]
    assert not Account.objects.filter(organization=organization).exists()


def test_an_account_that_is_its_own_parent_is_refused(organization):
    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(organization=organization, rows=rows("1000,Assets,asset,1000,"))

    assert RowError(2, "account 1000 is its own parent") in caught.value.errors
    assert not Account.objects.exists()


def test_unknown_subtype_and_missing_name_are_refused(organization):
    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(
            organization=organization,
            rows=rows("1000,Assets,asset,,", "1010,,asset,1000,", "1020,Till,asset,1000,till"),
        )

    assert [e.row for e in caught.value.errors] == [3, 4]
    assert "has no name" in caught.value.errors[0].message
    assert "subtype 'till' is not one of" in caught.value.errors[1].message


def test_a_chart_only_touches_its_own_organization(organization):
    other = OrganizationFactory(slug="other")
    chart_of_accounts_load(organization=other, rows=rows("1000,Their assets,asset,,"))

    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(organization=organization, rows=rows("1100,Cash,asset,1000,"))

    assert caught.value.errors == [RowError(2, "parent 1000 is not in the chart")]
    chart_of_accounts_load(organization=organization, rows=rows("1000,Our assets,asset,,"))
    assert Account.objects.get(organization=other, code="1000").name == "Their assets"


def test_command_loads_a_file_in_any_order(organization, capsys):
    call_command("load_chart_of_accounts", "--org", "fresh", str(FIXTURES / "chart_any_order.csv"))

    assert "7 created, 0 updated" in capsys.readouterr().out
    accounts = {a.code: a for a in Account.objects.filter(organization=organization)}
    assert accounts["1110"].parent == accounts["1100"]
    assert accounts["1100"].parent == accounts["1000"]
    assert accounts["4100"].parent == accounts["4000"]


def test_command_lists_every_bad_row_and_exits_1(organization, capsys):
    with pytest.raises(CommandError) as caught:
        call_command("load_chart_of_accounts", "--org", "fresh", str(FIXTURES / "chart_bad.csv"))

    assert caught.value.returncode == 1
    assert str(caught.value) == "5 problem(s) in chart_bad.csv; nothing was saved."
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "chart_bad.csv: row 4: code 1100 repeats row 3"
    assert [line.split(":")[1].strip() for line in err] == [f"row {n}" for n in (4, 5, 6, 7, 8)]
    assert not Account.objects.filter(organization=organization).exists()


def test_command_refuses_missing_columns_unknown_organization_and_missing_file(
    organization, tmp_path
):
    no_type = tmp_path / "no_type.csv"
    no_type.write_text("code,name\n1000,Assets\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_chart_of_accounts", "--org", "fresh", str(no_type))
    with pytest.raises(CommandError, match="No organization 'nobody'"):
        call_command("load_chart_of_accounts", "--org", "nobody", str(no_type))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_chart_of_accounts", "--org", "fresh", str(tmp_path / "absent.csv"))


# Codes


@pytest.mark.parametrize(
    "code",
    ["11\n00", '1100"', "=1+2", "1 100", "1100,", "A" * 21, "١١٠٠", "11\t00"],
)
def test_a_code_outside_letters_digits_dot_dash_slash_is_refused_at_its_row(organization, code):
    chart = [{"code": "1000", "name": "Assets", "type": "asset"}]
    chart.append({"code": code, "name": "Cash", "type": "asset", "parent": "1000"})

    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(organization=organization, rows=chart)

    [error] = caught.value.errors
    assert error.row == 3
    assert error.message == (
        f"code {code!r} is not allowed: use letters (A-Z, a-z), digits 0-9, '.', '-' and '/' "
        "only, 1 to 20 characters"
    )
    assert not Account.objects.filter(organization=organization).exists()


def test_codes_with_dots_dashes_and_slashes_load(organization):
    chart_of_accounts_load(
        organization=organization,
        rows=rows("1000,Assets,asset,,", "1.10-A/2,Cash,asset,1000,", f"{'9' * 20},Long,asset,,"),
    )

    assert Account.objects.filter(organization=organization).count() == 3


# The tree the file would leave, with the accounts already in the books


def snapshot(organization) -> list[tuple]:
    return list(
        Account.objects.filter(organization=organization)
        .order_by("code")
        .values_list("code", "name", "account_type", "parent__code")
    )


@pytest.fixture
def posted_books(books):
    """The demo chart with entries on 5200 (expense) and 1120 (bank)."""
    post(books, ("5200", "100.00", ""), ("1120", "", "100.00"))
    return books


def refusals(books, *lines: str) -> list[RowError]:
    before = snapshot(books.organization)
    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(organization=books.organization, rows=rows(*lines))
    assert snapshot(books.organization) == before
    return caught.value.errors


def test_a_loop_through_accounts_already_in_the_books_is_refused(organization):
    chart_of_accounts_load(
        organization=organization, rows=rows("1000,Assets,asset,,", "1100,Cash,asset,1000,")
    )
    before = snapshot(organization)

    with pytest.raises(ChartRejected) as caught:
        chart_of_accounts_load(
            organization=organization, rows=rows("1200,Bank,asset,,", "1000,Assets,asset,1100,")
        )

    assert caught.value.errors == [RowError(3, "parents form a loop: 1000 → 1100")]
    assert snapshot(organization) == before


def test_an_account_with_ledger_entries_cannot_become_a_group(posted_books):
    errors = refusals(posted_books, "5250,Rent deposit,expense,5200,", "5960,Fuel,expense,5000,")

    assert errors == [
        RowError(
            2,
            "parent 5200 has ledger entries; an account with entries cannot become a group: "
            "give 5250 another parent",
        )
    ]
    assert not Account.objects.filter(code__in=["5250", "5960"]).exists()


def test_an_account_with_ledger_entries_cannot_be_retyped(posted_books):
    errors = refusals(posted_books, "5200,Rent,income,4000,", "5300,Salaries,income,4000,")

    assert errors == [
        RowError(2, "account 5200 has ledger entries as expense; it cannot become income")
    ]


def test_an_account_cannot_sit_under_a_parent_of_another_type(posted_books):
    errors = refusals(
        posted_books, "1130,Savings bank account,asset,2000,bank", "2400,Loan,liability,1000,"
    )

    assert errors == [
        RowError(
            2,
            "account 1130 is asset but its parent 2000 is liability; "
            "an account has its parent's type",
        ),
        RowError(
            3,
            "account 2400 is liability but its parent 1000 is asset; "
            "an account has its parent's type",
        ),
    ]


def test_a_group_retyped_away_from_its_sub_accounts_is_refused(posted_books):
    errors = refusals(posted_books, "4000,Income,expense,,")

    assert [e.row for e in errors] == [2, 2, 2]
    assert {e.message for e in errors} == {
        f"account 4000 would become expense but its sub-account {code} is income; "
        "an account has its parent's type"
        for code in ("4100", "4200", "4300")
    }


def test_reloading_the_chart_of_books_with_entries_changes_nothing_and_is_accepted(posted_books):
    result = chart_of_accounts_load(
        organization=posted_books.organization, rows=chart_rows_from_csv(DEMO_CHART)
    )

    assert (result.created, result.updated) == (0, len(chart_rows_from_csv(DEMO_CHART)))
