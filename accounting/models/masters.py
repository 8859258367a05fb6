"""The books an organization keeps vouchers in: the organization and its members, its chart of
accounts, fiscal years and periods, parties and voucher types, and the rules on their codes."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.deconstruct import deconstructible
from simple_history.models import HistoricalRecords

# Account and party codes: typed in entry screens, written in files and reports, shown in CSV
# downloads and their file names, so plain characters only.
CODE_MAX_LENGTH = 20
CODE_PATTERN = re.compile(rf"\A[A-Za-z0-9./-]{{1,{CODE_MAX_LENGTH}}}\Z")
CODE_ALLOWED = (
    f"letters (A-Z, a-z), digits 0-9, '.', '-' and '/' only, 1 to {CODE_MAX_LENGTH} characters"
)


def code_refusal(code: str) -> str | None:
    """Why `code` cannot be an account or party code, or None when it can."""
    if CODE_PATTERN.match(code):
        return None
    return f"code {code!r} is not allowed: use {CODE_ALLOWED}"


# Named by its package in migrations, where it was defined before the models were split.
@deconstructible(path="accounting.models.CodeValidator")
class CodeValidator(RegexValidator):
    """The code rule for model and admin validation (a class, so migrations name it, not its
    message)."""

    regex = CODE_PATTERN
    message = f"Code %(value)r is not allowed: use {CODE_ALLOWED}."
    code = "invalid_code"


class DateFormat(models.TextChoices):
    """How an organization's pages write a date; the value is a strftime pattern."""

    ISO = "%Y-%m-%d", "YYYY-MM-DD"
    DAY_MONTH_YEAR = "%d/%m/%Y", "DD/MM/YYYY"
    MONTH_DAY_YEAR = "%m/%d/%Y", "MM/DD/YYYY"
    DAY_MON_YEAR = "%d %b %Y", "DD Mon YYYY"


class Organization(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    base_currency = models.CharField(max_length=3, default="USD")
    date_format = models.CharField(
        max_length=20,
        choices=DateFormat.choices,
        default=DateFormat.ISO,
        help_text="How dates are shown on this organization's pages; forms also accept ISO.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    CLERK = "clerk", "Clerk"
    ACCOUNTANT = "accountant", "Accountant"
    ADMIN = "admin", "Administrator"


# Each role can do what the roles before it can.
ROLE_RANK = {Role.VIEWER: 0, Role.CLERK: 1, Role.ACCOUNTANT: 2, Role.ADMIN: 3}
# The roles a workflow step may ask for: a viewer enters nothing.
WORKFLOW_ROLES = [(role.value, role.label) for role in Role if role != Role.VIEWER]


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLERK)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


# Accounts whose balance is normally on the debit side.
DEBIT_NATURE = {AccountType.ASSET, AccountType.EXPENSE}


class AccountSubtype(models.TextChoices):
    NONE = "", "—"
    CASH = "cash", "Cash"
    BANK = "bank", "Bank"
    RECEIVABLE = "receivable", "Receivable"
    PAYABLE = "payable", "Payable"
    TAX = "tax", "Tax"
    INVENTORY = "inventory", "Inventory"
    FIXED_ASSET = "fixed_asset", "Fixed asset"
    SALES = "sales", "Sales"
    PURCHASES = "purchases", "Purchases"


class Account(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="accounts"
    )
    code = models.CharField(max_length=CODE_MAX_LENGTH, validators=[CodeValidator()])
    name = models.CharField(max_length=200)
    account_type = models.CharField(max_length=20, choices=AccountType.choices)
    subtype = models.CharField(
        max_length=20, choices=AccountSubtype.choices, blank=True, default=""
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="account_code_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.parent_id and self.parent and self.parent.organization_id != self.organization_id:
            raise ValidationError({"parent": "The parent account belongs to another organization."})


class FiscalYear(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="fiscal_years"
    )
    code = models.CharField(max_length=20, help_text="Used in voucher numbers, e.g. 2026.")
    start_date = models.DateField()
    end_date = models.DateField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="fiscal_year_code_per_org"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")),
                name="fiscal_year_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"FY {self.code}"


class AccountingPeriod(models.Model):
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.CASCADE, related_name="periods")
    number = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    is_closed = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["fiscal_year", "number"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "number"], name="period_number_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year} P{self.number:02d} ({self.start_date}–{self.end_date})"


class PartyRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SUPPLIER = "supplier", "Supplier"
    BOTH = "both", "Customer and supplier"


class Party(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="parties")
    code = models.CharField(max_length=CODE_MAX_LENGTH, validators=[CodeValidator()])
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=PartyRole.choices)
    control_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="parties")
    tax_number = models.CharField(max_length=50, blank=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "name"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="party_code_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.control_account_id and self.control_account.organization_id != self.organization_id:
            raise ValidationError(
                {"control_account": "The control account belongs to another organization."}
            )


class VoucherType(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="voucher_types"
    )
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=100)
    numbering_pattern = models.CharField(
        max_length=60,
        help_text="Fields: {fy} fiscal year code, {seq} sequence, e.g. PV-{fy}-{seq:05}.",
    )
    is_active = models.BooleanField(default=True)
    # The type's workflow: the ledger's own facts, applied to every channel. A configuration
    # editor writes them here; no request can say otherwise.
    requires_approval = models.BooleanField(
        default=False,
        help_text="Vouchers of this type are approved by a second person before posting.",
    )
    approver_role = models.CharField(
        max_length=20,
        choices=WORKFLOW_ROLES,
        default=Role.ACCOUNTANT,
        help_text="The least role that may approve.",
    )
    poster_role = models.CharField(
        max_length=20,
        choices=WORKFLOW_ROLES,
        default=Role.ACCOUNTANT,
        help_text="The least role that may post.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="voucher_type_code_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def format_number(self, *, fiscal_year_code: str, sequence: int) -> str:
        return self.numbering_pattern.format(fy=fiscal_year_code, seq=sequence)

    def clean(self) -> None:
        try:
            self.format_number(fiscal_year_code="2026", sequence=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationError(
                {"numbering_pattern": f"Not a valid pattern ({exc}); use {{fy}} and {{seq}}."}
            ) from exc
        if "{seq" not in self.numbering_pattern:
            raise ValidationError({"numbering_pattern": "The pattern must contain {seq}."})
