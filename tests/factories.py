"""factory_boy factories and small builders the tests share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from accounting.models import Account, AccountType, Membership, Organization, Party, PartyRole, Role
from accounting.services.chart import DEMO_CHART, chart_of_accounts_load, chart_rows_from_csv
from accounting.services.inputs import LineInput, VoucherInput
from accounting.services.organizations import fiscal_year_create, organization_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class OrganizationFactory(factory.django.DjangoModelFactory):
    """An organization made through the real service, so it has its eight voucher types."""

    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org{n}")
    name = factory.LazyAttribute(lambda o: f"Organization {o.slug}")
    base_currency = "USD"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return organization_create(**kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.ACCOUNTANT


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"9{n:04d}")
    name = factory.LazyAttribute(lambda a: f"Account {a.code}")
    account_type = AccountType.EXPENSE


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.LazyAttribute(lambda p: f"Party {p.code}")
    role = PartyRole.CUSTOMER
    control_account = factory.LazyAttribute(
        lambda p: Account.objects.get(organization=p.organization, code="1200")
    )


class Books:
    """An organization with the demo chart and an open fiscal year, ready for posting."""

    def __init__(self, slug: str = "acme", year: int = 2026):
        self.organization = OrganizationFactory(slug=slug, name=f"{slug.title()} Ltd")
        chart_of_accounts_load(organization=self.organization, rows=chart_rows_from_csv(DEMO_CHART))
        self.fiscal_year = fiscal_year_create(
            organization=self.organization, start=date(year, 1, 1), end=date(year, 12, 31)
        )
        self.accounts = {a.code: a for a in Account.objects.filter(organization=self.organization)}
        self.types = {t.code: t for t in self.organization.voucher_types.all()}
        self.year = year

    def account(self, code: str) -> Account:
        return self.accounts[code]

    def require_approval(self, type_code: str = "PV") -> None:
        """The type's vouchers need a second person's approval before posting."""
        from accounting.services.voucher_types import voucher_type_workflow_set

        voucher_type_workflow_set(voucher_type=self.types[type_code], requires_approval=True)

    def member(self, role: str = Role.ACCOUNTANT, username: str | None = None):
        user = UserFactory(**({"username": username} if username else {}))
        MembershipFactory(user=user, organization=self.organization, role=role)
        return user

    def entry(
        self,
        *lines: tuple[str, str, str],
        type_code: str = "JV",
        on: date | None = None,
        **header,
    ) -> VoucherInput:
        """A voucher input from (account code, debit, credit) triples."""
        return VoucherInput(
            voucher_type=self.types[type_code],
            date=on or date(self.year, 3, 15),
            lines=[
                LineInput(
                    account_id=self.accounts[code].pk,
                    debit=Decimal(dr or "0"),
                    credit=Decimal(cr or "0"),
                )
                for code, dr, cr in lines
            ],
            **header,
        )


def sign_in(client, books: Books, role: str = Role.VIEWER):
    """Logs a new member of `books` with `role` into the test client; returns the user."""
    user = books.member(role)
    client.force_login(user)
    return user


def post(
    books: Books, *lines: tuple[str, str, str], on: date | None = None, type_code="JV", **header
):
    """Creates and posts a voucher in `books` from (account code, debit, credit) triples."""
    from accounting.services.posting import voucher_create_posted

    return voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(*lines, type_code=type_code, on=on, **header),
    )
