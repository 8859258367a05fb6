"""Demo books for trying the product: an organization, its chart, parties, users and vouchers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounting.models import (
    Account,
    EntryChannel,
    FiscalYear,
    Membership,
    Organization,
    Party,
    PartyRole,
    Role,
)
from accounting.services.chart import DEMO_CHART, chart_of_accounts_load, chart_rows_from_csv
from accounting.services.history import NO_STAMP, HistoryStamp
from accounting.services.inputs import LineInput, VoucherInput
from accounting.services.organizations import (
    fiscal_year_create,
    membership_grant,
    organization_create,
)
from accounting.services.posting import voucher_create_posted

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Trading Ltd"
DEMO_CURRENCY = "USD"
DEMO_PASSWORD = "ledger-demo"

# code, name, role, control account
DEMO_PARTIES = [
    ("C001", "Northwind Retail", PartyRole.CUSTOMER, "1200"),
    ("C002", "Blue Harbor Cafe", PartyRole.CUSTOMER, "1200"),
    ("C003", "Summit Outfitters", PartyRole.CUSTOMER, "1200"),
    ("S001", "Acme Wholesale Supplies", PartyRole.SUPPLIER, "2100"),
    ("S002", "Metro Office Products", PartyRole.SUPPLIER, "2100"),
    ("S003", "City Power & Water", PartyRole.SUPPLIER, "2100"),
]

# username, role in the demo organization, Django superuser
DEMO_USERS = [("admin", Role.ADMIN, True), ("clerk", Role.CLERK, False)]

# type, reference, narration, party, lines as (account, debit, credit); in date order.
DEMO_VOUCHERS: list[tuple[str, str, str, str, list[tuple[str, str, str]]]] = [
    (
        "JV",
        "CAP-001",
        "Owner's capital introduced",
        "",
        [("1120", "50000", ""), ("3100", "", "50000")],
    ),
    ("CV", "TRF-001", "Cash drawn for petty cash", "", [("1110", "500", ""), ("1120", "", "500")]),
    (
        "PU",
        "ACME-4411",
        "Stock purchased on credit",
        "S001",
        [("5100", "8000", ""), ("1400", "800", ""), ("2100", "", "8800")],
    ),
    ("PV", "RENT-01", "Office rent", "", [("5200", "2500", ""), ("1120", "", "2500")]),
    (
        "SV",
        "INV-1001",
        "Goods sold on credit",
        "C001",
        [("1200", "11000", ""), ("4100", "", "10000"), ("2200", "", "1000")],
    ),
    (
        "RV",
        "RCPT-501",
        "Payment of INV-1001",
        "C001",
        [("1120", "11000", ""), ("1200", "", "11000")],
    ),
    (
        "PV",
        "CHQ-2001",
        "Payment of ACME-4411",
        "S001",
        [("2100", "8800", ""), ("1120", "", "8800")],
    ),
    (
        "SV",
        "INV-1002",
        "Catering equipment service",
        "C002",
        [("1200", "4400", ""), ("4200", "", "4000"), ("2200", "", "400")],
    ),
    (
        "PU",
        "MOP-778",
        "Office supplies on credit",
        "S002",
        [("5500", "300", ""), ("1400", "30", ""), ("2100", "", "330")],
    ),
    (
        "PV",
        "UTIL-03",
        "Electricity, water and internet",
        "S003",
        [("5400", "450.75", ""), ("5700", "120.00", ""), ("1120", "", "570.75")],
    ),
    (
        "RV",
        "RCPT-502",
        "Part payment of INV-1002",
        "C002",
        [("1120", "2000", ""), ("1200", "", "2000")],
    ),
    ("JV", "ACR-001", "Salaries accrued", "", [("5300", "6000", ""), ("2300", "", "6000")]),
]


@dataclass
class DemoDataResult:
    organization: Organization
    created: list[str] = field(default_factory=list)  # what this run added, for the operator


def _user_ensure(username: str, *, superuser: bool, result: DemoDataResult) -> AbstractBaseUser:
    model = get_user_model()
    user = model.objects.filter(username=username).first()
    if user is not None:
        return user
    # The password and flags are set only here: an existing user is never changed.
    if superuser:
        user = model.objects.create_superuser(username, f"{username}@example.com", DEMO_PASSWORD)
    else:
        user = model.objects.create_user(username, f"{username}@example.com", DEMO_PASSWORD)
    result.created.append(f"user {username}")
    return user


def _voucher_dates(start: date, today: date, count: int) -> list[date]:
    """Dates spread evenly from start to today, never in the future."""
    if count < 2 or today <= start:
        return [start] * count
    return [start + (today - start) * i // (count - 1) for i in range(count)]


@transaction.atomic
def demo_data_load(*, today: date | None = None, stamp: HistoryStamp = NO_STAMP) -> DemoDataResult:
    """Sets up the demo books; anything already there is left as it is, so it can run again.

    The organization, its memberships and parties are recorded in their history with `stamp`.
    """
    today = today or timezone.localdate()
    organization = Organization.objects.filter(slug=DEMO_SLUG).first()
    if organization is None:
        organization = organization_create(
            slug=DEMO_SLUG, name=DEMO_NAME, base_currency=DEMO_CURRENCY, stamp=stamp
        )
        result = DemoDataResult(organization, [f"organization {DEMO_SLUG}"])
    else:
        result = DemoDataResult(organization)

    if not Account.objects.filter(organization=organization).exists():
        loaded = chart_of_accounts_load(
            organization=organization, rows=chart_rows_from_csv(DEMO_CHART)
        )
        result.created.append(f"{loaded.created} accounts")

    fiscal_year = FiscalYear.objects.filter(
        organization=organization, start_date__lte=today, end_date__gte=today
    ).first()
    if fiscal_year is None:
        fiscal_year = fiscal_year_create(
            organization=organization,
            start=date(today.year, 1, 1),
            end=date(today.year, 12, 31),
        )
        result.created.append(f"fiscal year {fiscal_year.code}")

    accounts = {a.code: a for a in Account.objects.filter(organization=organization)}
    existing_parties = set(
        Party.objects.filter(organization=organization).values_list("code", flat=True)
    )
    for code, name, role, control in DEMO_PARTIES:
        if code not in existing_parties:
            party = Party(
                organization=organization,
                code=code,
                name=name,
                role=role,
                control_account=accounts[control],
            )
            stamp.apply(party).save()
            result.created.append(f"party {code}")

    users = {}
    for username, member_role, superuser in DEMO_USERS:
        user = _user_ensure(username, superuser=superuser, result=result)
        users[username] = user
        if not Membership.objects.filter(user_id=user.pk, organization=organization).exists():
            membership_grant(user=user, organization=organization, role=member_role, stamp=stamp)
            result.created.append(f"{member_role} membership for {username}")

    if not organization.vouchers.exists():
        _vouchers_post(organization, accounts, users["admin"], fiscal_year, today, result)
    return result


def _vouchers_post(
    organization: Organization,
    accounts: dict[str, Account],
    user: AbstractBaseUser,
    fiscal_year: FiscalYear,
    today: date,
    result: DemoDataResult,
) -> None:
    types = {t.code: t for t in organization.voucher_types.all()}
    parties = dict(Party.objects.filter(organization=organization).values_list("code", "pk"))
    start = max(fiscal_year.start_date, date(today.year, 1, 1))
    dates = _voucher_dates(start, today, len(DEMO_VOUCHERS))
    for on, (type_code, reference, narration, party, lines) in zip(
        dates, DEMO_VOUCHERS, strict=True
    ):
        voucher_create_posted(
            organization=organization,
            voucher_input=VoucherInput(
                voucher_type=types[type_code],
                date=on,
                reference=reference,
                narration=narration,
                party_id=parties.get(party),
                entry_channel=EntryChannel.SYSTEM,
                lines=[
                    LineInput(
                        account_id=accounts[code].pk,
                        debit=Decimal(debit or "0").quantize(Decimal("0.01")),
                        credit=Decimal(credit or "0").quantize(Decimal("0.01")),
                    )
                    for code, debit, credit in lines
                ],
            ),
            user=user,
        )
    result.created.append(f"{len(DEMO_VOUCHERS)} posted vouchers")
