"""The operators' commands: set up books, close periods, import vouchers, load the demo."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from accounting.models import (
    AccountingPeriod,
    FiscalYear,
    LedgerEntry,
    Membership,
    Organization,
    Party,
    Role,
    Voucher,
    VoucherStatus,
)
from accounting.services.checks import VoucherRejected
from accounting.services.demo import DEMO_PASSWORD, demo_data_load
from accounting.services.posting import voucher_create_posted
from tests.factories import OrganizationFactory, PartyFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run(*args: str) -> str:
    """Runs a command and returns what it wrote to stdout."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# create_organization


@pytest.mark.django_db
def test_create_organization_makes_the_eight_voucher_types():
    out = run("create_organization", "acme", "--name", "Acme Ltd", "--currency", "eur")

    organization = Organization.objects.get(slug="acme")
    assert (organization.name, organization.base_currency) == ("Acme Ltd", "EUR")
    assert set(organization.voucher_types.values_list("code", flat=True)) == {
        "JV", "PV", "RV", "CV", "SV", "PU", "DN", "CN"
    }  # fmt: skip
    assert "Created organization 'acme'" in out


@pytest.mark.django_db
def test_create_organization_refuses_a_duplicate_slug():
    OrganizationFactory(slug="acme", name="Acme Ltd")

    with pytest.raises(CommandError, match=r"'acme' already exists \(Acme Ltd\)") as caught:
        run("create_organization", "acme", "--name", "Another")

    assert caught.value.returncode == 1
    assert Organization.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme", "--name", "Acme", "--currency", "DOLLARS"], "not a 3-letter code"),
        (["not a slug", "--name", "Acme"], "slug"),
        (["acme", "--name", "  "], "must not be empty"),
    ],
)
def test_create_organization_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_organization", *args)
    assert not Organization.objects.exists()


# create_fiscal_year


@pytest.mark.django_db
def test_create_fiscal_year_opens_monthly_periods():
    OrganizationFactory(slug="acme")

    out = run("create_fiscal_year", "--org", "acme", "--start", "2026-04-01", "--end", "2027-03-31")

    fiscal_year = FiscalYear.objects.get(organization__slug="acme")
    assert fiscal_year.code == "2026-27"
    periods = list(fiscal_year.periods.order_by("number"))
    assert len(periods) == 12
    assert (periods[0].start_date, periods[-1].end_date) == (date(2026, 4, 1), date(2027, 3, 31))
    assert not any(p.is_closed for p in periods)
    assert "Created fiscal year 2026-27 for acme" in out


@pytest.mark.django_db
def test_create_fiscal_year_takes_a_code_and_refuses_overlaps_and_repeats():
    OrganizationFactory(slug="acme")
    run("create_fiscal_year", "--org", "acme", "--start", "2026-01-01", "--end", "2026-12-31",
        "--code", "FY26")  # fmt: skip

    with pytest.raises(CommandError, match="overlaps FY FY26"):
        run("create_fiscal_year", "--org", "acme", "--start", "2026-07-01", "--end", "2027-06-30")
    with pytest.raises(CommandError, match="already has a fiscal year with code FY26"):
        run("create_fiscal_year", "--org", "acme", "--start", "2027-01-01", "--end", "2027-12-31",
            "--code", "FY26")  # fmt: skip
    assert FiscalYear.objects.count() == 1


@pytest.mark.django_db
def test_fiscal_years_of_one_organization_do_not_block_another():
    OrganizationFactory(slug="acme")
    OrganizationFactory(slug="rival")
    run("create_fiscal_year", "--org", "acme", "--start", "2026-01-01", "--end", "2026-12-31")

    run("create_fiscal_year", "--org", "rival", "--start", "2026-01-01", "--end", "2026-12-31")

    assert FiscalYear.objects.filter(code="2026").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nobody", "--start", "2026-01-01", "--end", "2026-12-31"], "No organization"),
        (["--org", "acme", "--start", "01/01/2026", "--end", "2026-12-31"], "--start '01/01/2026'"),
        (["--org", "acme", "--start", "2026-12-31", "--end", "2026-01-01"], "must end after"),
    ],
)
def test_create_fiscal_year_refuses_bad_input(args, message):
    OrganizationFactory(slug="acme")
    with pytest.raises(CommandError, match=message):
        run("create_fiscal_year", *args)
    assert not FiscalYear.objects.exists()


# close_period


def test_close_period_stops_posting_and_reopen_allows_it_again(books):
    entry = books.entry(("5200", "10.00", ""), ("1120", "", "10.00"), on=date(2026, 3, 15))

    out = run("close_period", "--org", "acme", "--period", "2026-03")

    assert "P03" in out and "is now closed" in out
    with pytest.raises(VoucherRejected, match="closed period"):
        voucher_create_posted(organization=books.organization, voucher_input=entry)

    run("close_period", "--org", "acme", "--period", "2026-03", "--reopen")

    assert voucher_create_posted(organization=books.organization, voucher_input=entry).number


def test_close_period_touches_only_that_organization(books, other_books):
    run("close_period", "--org", "acme", "--period", "2026-03")

    closed = AccountingPeriod.objects.filter(is_closed=True)
    assert [p.fiscal_year.organization.slug for p in closed] == ["acme"]


def test_closing_a_closed_period_again_says_so(books):
    run("close_period", "--org", "acme", "--period", "2026-03")

    assert "was already closed" in run("close_period", "--org", "acme", "--period", "2026-03")


@pytest.mark.parametrize(
    ("period", "message"),
    [("2026-13", "not a month"), ("March", "not a month"), ("2031-01", "No accounting period")],
)
def test_close_period_refuses_bad_months(books, period, message):
    with pytest.raises(CommandError, match=message):
        run("close_period", "--org", "acme", "--period", period)
    assert not AccountingPeriod.objects.filter(is_closed=True).exists()


# import_vouchers


@pytest.fixture
def customer(books):
    return PartyFactory(organization=books.organization, code="C001")


def test_import_vouchers_posts_and_prints_the_number_ranges(books, customer):
    out = run("import_vouchers", "--org", "acme", str(FIXTURES / "vouchers.json"), "--post")

    assert "Imported 3 posted voucher(s), 7 lines, from vouchers.json into acme." in out
    assert "Numbers: PV-2026-00001, SV-2026-00001, JV-2026-00001" in out
    assert Voucher.objects.filter(status=VoucherStatus.POSTED).count() == 3


def test_import_vouchers_creates_drafts_without_post(books, customer):
    out = run("import_vouchers", "--org", "acme", str(FIXTURES / "vouchers.csv"))

    assert "Imported 3 draft voucher(s), 7 lines, from vouchers.csv" in out
    assert "Draft ids:" in out
    assert Voucher.objects.filter(status=VoucherStatus.DRAFT).count() == 3


def test_import_vouchers_records_the_member_who_imported(books, customer, other_books):
    accountant = books.member(Role.ACCOUNTANT, username="accountant")
    other_books.member(username="outsider")
    path = str(FIXTURES / "vouchers.json")

    run("import_vouchers", "--org", "acme", path, "--post", "--user", "accountant")

    assert {(v.created_by, v.posted_by) for v in Voucher.objects.all()} == {
        (accountant, accountant)
    }
    with pytest.raises(CommandError, match="No member 'outsider' in acme"):
        run("import_vouchers", "--org", "acme", path, "--user", "outsider")


def test_a_clerk_may_import_drafts_but_not_post_them(books, customer, capsys):
    books.member(Role.CLERK, username="clerk")
    path = str(FIXTURES / "vouchers.json")

    with pytest.raises(CommandError):
        run("import_vouchers", "--org", "acme", path, "--post", "--user", "clerk")
    assert "To post a payment voucher you need the Accountant role" in capsys.readouterr().err
    assert not Voucher.objects.exists()

    run("import_vouchers", "--org", "acme", path, "--user", "clerk")
    assert set(Voucher.objects.values_list("status", flat=True)) == {"draft"}


def test_import_vouchers_dry_run_writes_nothing(books, customer):
    out = run(
        "import_vouchers", "--org", "acme", str(FIXTURES / "vouchers.json"), "--post", "--dry-run"
    )

    assert "Dry run: 3 posted voucher(s), 7 lines, from vouchers.json are valid" in out
    assert "Numbers they would take: PV-2026-00001" in out
    assert not Voucher.objects.exists()


def test_import_vouchers_lists_every_problem_and_exits_1(books, tmp_path, capsys):
    vouchers = json.loads((FIXTURES / "vouchers.json").read_text())["vouchers"]
    vouchers[0]["lines"][0]["account"] = "9999"
    vouchers[2]["date"] = "2026-02-30"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"vouchers": vouchers}))

    with pytest.raises(CommandError) as caught:
        call_command("import_vouchers", "--org", "acme", str(path), "--post")

    assert caught.value.returncode == 1
    assert str(caught.value) == "3 of 3 voucher(s) rejected, 4 problem(s); nothing was imported."
    assert capsys.readouterr().err.splitlines() == [
        "bad.json: voucher 1 (reference RENT-JAN) line 1: "
        "account '9999' is not an account of this organization",
        # No party C001 exists in these books.
        "bad.json: voucher 2 (reference INV-1001): party 'C001' is not a party of this organization",
        "bad.json: voucher 2 (reference INV-1001) line 1: "
        "party 'C001' is not a party of this organization",
        "bad.json: voucher 3 (reference ACR-02): date '2026-02-30' does not exist",
    ]
    assert not Voucher.objects.exists()


def test_importing_the_same_file_again_is_refused_unless_duplicates_are_allowed(
    books, customer, capsys
):
    path = str(FIXTURES / "vouchers.csv")
    run("import_vouchers", "--org", "acme", path, "--post")
    capsys.readouterr()

    with pytest.raises(CommandError) as caught:
        call_command("import_vouchers", "--org", "acme", path, "--post")

    assert str(caught.value) == "3 of 3 voucher(s) rejected, 3 problem(s); nothing was imported."
    assert capsys.readouterr().err.splitlines()[0] == (
        "vouchers.csv: rows 2–3 (reference RENT-JAN): reference RENT-JAN is already used by "
        "PV-2026-00001"
    )
    assert Voucher.objects.count() == 3

    out = run("import_vouchers", "--org", "acme", path, "--post", "--allow-duplicate-references")

    assert "Numbers: PV-2026-00002, SV-2026-00002, JV-2026-00002" in out
    assert Voucher.objects.count() == 6


def test_import_vouchers_refuses_unknown_organization_and_unreadable_file(books, tmp_path):
    with pytest.raises(CommandError, match="No organization 'nobody'"):
        run("import_vouchers", "--org", "nobody", str(FIXTURES / "vouchers.json"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_vouchers", "--org", "acme", str(tmp_path / "absent.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(CommandError, match="the file was rejected"):
        run("import_vouchers", "--org", "acme", str(broken))


def test_import_vouchers_never_reaches_into_another_organization(books, other_books, customer):
    with pytest.raises(CommandError, match="rejected"):
        run("import_vouchers", "--org", "rival", str(FIXTURES / "vouchers.json"))

    assert not Voucher.objects.exists()


# load_demo_data


@pytest.fixture
def without_seed_command(monkeypatch):
    """The demo on its own: the voucher configuration seeding is tested with its app."""
    monkeypatch.setattr("accounting.management.commands.load_demo_data.get_commands", lambda: {})


def demo_snapshot() -> dict[str, object]:
    organization = Organization.objects.get(slug="demo")
    return {
        "organizations": Organization.objects.count(),
        "accounts": organization.accounts.count(),
        "fiscal_years": list(FiscalYear.objects.values_list("code", flat=True)),
        "parties": sorted(Party.objects.values_list("code", flat=True)),
        "users": sorted(get_user_model().objects.values_list("username", "password")),
        "memberships": sorted(Membership.objects.values_list("user__username", "role")),
        "vouchers": sorted(Voucher.objects.values_list("number", flat=True)),
        "ledger": LedgerEntry.objects.count(),
        "history": sum(
            model.history.count()  # type: ignore[attr-defined]
            for model in (Party, Voucher, FiscalYear)
        ),
    }


@pytest.mark.django_db
def test_load_demo_data_twice_changes_nothing_the_second_time(without_seed_command):
    first = run("load_demo_data")
    before = demo_snapshot()

    second = run("load_demo_data")

    assert "Log in as admin or clerk with the password ledger-demo" in first
    assert "already complete; nothing changed" in second
    assert demo_snapshot() == before


@pytest.mark.django_db
def test_demo_data_is_a_usable_set_of_books(without_seed_command):
    run("load_demo_data")

    organization = Organization.objects.get(slug="demo")
    assert (organization.name, organization.base_currency) == ("Demo Trading Ltd", "USD")
    today = timezone.localdate()
    fiscal_year = FiscalYear.objects.get(organization=organization)
    assert (fiscal_year.start_date, fiscal_year.end_date) == (
        date(today.year, 1, 1),
        date(today.year, 12, 31),
    )
    assert not fiscal_year.periods.filter(is_closed=True).exists()
    parties = Party.objects.filter(organization=organization)
    assert (
        sorted((p.role, p.control_account.code) for p in parties)
        == [("customer", "1200")] * 3 + [("supplier", "2100")] * 3
    )

    admin = get_user_model().objects.get(username="admin")
    clerk = get_user_model().objects.get(username="clerk")
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert not clerk.is_staff and clerk.check_password(DEMO_PASSWORD)
    assert Membership.objects.get(user=admin, organization=organization).role == Role.ADMIN
    assert Membership.objects.get(user=clerk, organization=organization).role == Role.CLERK

    vouchers = Voucher.objects.filter(organization=organization)
    assert vouchers.count() >= 10
    assert {v.status for v in vouchers} == {VoucherStatus.POSTED}
    assert {"PV", "RV", "JV", "SV", "PU"} <= {v.voucher_type.code for v in vouchers}
    assert all(date(today.year, 1, 1) <= v.date <= today for v in vouchers)
    totals = LedgerEntry.objects.aggregate(debit=Sum("debit"), credit=Sum("credit"))
    assert totals["debit"] == totals["credit"] > 0


@pytest.mark.django_db
def test_demo_vouchers_are_not_in_the_future_early_in_january():
    result = demo_data_load(today=date(2027, 1, 1))

    dates = set(
        Voucher.objects.filter(organization=result.organization).values_list("date", flat=True)
    )
    assert dates == {date(2027, 1, 1)}


@pytest.mark.django_db
def test_load_demo_data_keeps_an_existing_password_and_adds_no_vouchers_to_used_books(
    without_seed_command,
):
    run("load_demo_data")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-the-owner")
    admin.save()
    vouchers = Voucher.objects.count()

    run("load_demo_data")

    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-owner")
    assert Voucher.objects.count() == vouchers


@pytest.mark.django_db
def test_load_demo_data_seeds_voucher_configurations_when_that_command_exists(monkeypatch):
    calls = []
    module = "accounting.management.commands.load_demo_data"
    monkeypatch.setattr(f"{module}.get_commands", lambda: {"seed_voucher_configs": "x"})
    monkeypatch.setattr(f"{module}.call_command", lambda name, **kw: calls.append((name, kw)))

    run("load_demo_data")

    assert [(name, kw["org"]) for name, kw in calls] == [("seed_voucher_configs", "demo")]


def test_an_import_of_a_type_that_needs_approval_comes_in_submitted_not_posted(books, customer):
    books.require_approval("PV")
    books.member(Role.ACCOUNTANT, username="accountant")

    out = run(
        "import_vouchers",
        "--org",
        "acme",
        str(FIXTURES / "vouchers.json"),
        "--post",
        "--user",
        "accountant",
    )

    assert "1 voucher(s) of PV need approval: submitted for a second person" in out
    payment = Voucher.objects.get(voucher_type__code="PV")
    assert (payment.status, payment.number) == ("submitted", None)
    assert not payment.ledger_entries.exists()
    assert set(Voucher.objects.exclude(pk=payment.pk).values_list("status", flat=True)) == {
        "posted"
    }
