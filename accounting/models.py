"""The ledger: organizations, accounts, fiscal periods, parties, vouchers and ledger rows.

One module, past the usual few hundred lines, because the models are one schema whose
constraints and relations are read together.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

MONEY_DIGITS, MONEY_PLACES = 18, 2
ZERO = Decimal("0.00")
# What the first voucher of an organization's hash chain links back to.
CHAIN_GENESIS = "0" * 64


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


class CodeValidator(RegexValidator):
    """The code rule for model and admin validation (a class, so migrations name it, not its
    message)."""

    regex = CODE_PATTERN
    message = f"Code %(value)r is not allowed: use {CODE_ALLOWED}."
    code = "invalid_code"


class ImmutableRecordError(Exception):
    """Raised when code tries to change a posted voucher or a ledger row."""


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


class VoucherSequence(models.Model):
    """The next number per organization, voucher type and fiscal year; locked while posting."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.CASCADE)
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.CASCADE)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "voucher_type", "fiscal_year"],
                name="one_sequence_per_series",
            )
        ]

    def __str__(self) -> str:
        return f"{self.voucher_type_id}/{self.fiscal_year_id}: {self.last_value}"


class LedgerChainHead(models.Model):
    """The last link of an organization's voucher chain; locked while posting.

    Every poster of the organization takes this row last, after the voucher and its counter,
    so that no two vouchers claim the same place or the same previous hash.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_position = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=CHAIN_GENESIS)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.last_position} {self.last_hash[:12]}"


class VoucherStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"
    CANCELLED = "cancelled", "Cancelled"


EDITABLE_STATUSES = {VoucherStatus.DRAFT, VoucherStatus.SUBMITTED, VoucherStatus.APPROVED}


class EntryChannel(models.TextChoices):
    LEGACY = "legacy", "Legacy form"
    CONFIG = "config", "Configuration-driven form"
    IMPORT = "import", "Import"
    SYSTEM = "system", "System"


class Voucher(models.Model):
    # Every index the posting of a voucher updates is a cost on each voucher posted, so a
    # foreign key is indexed only where something looks vouchers up by it: the organization is
    # the first column of the composite indexes and unique constraints below; users are never
    # deleted, only deactivated, and vouchers are found by user within an organization.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="vouchers", db_index=False
    )
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.PROTECT, related_name="vouchers")
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(max_length=60, null=True, blank=True)
    date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    narration = models.TextField(blank=True)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=VoucherStatus.choices, default=VoucherStatus.DRAFT
    )
    requires_approval = models.BooleanField(default=False)
    entry_channel = models.CharField(
        max_length=20, choices=EntryChannel.choices, default=EntryChannel.LEGACY
    )
    config_version = models.PositiveIntegerField(null=True, blank=True)
    config_hash = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    reversal_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Who last saved what the voucher says: with `created_by`, the people who may not approve it.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The entry form a voucher was saved from, so a repeated submit returns it instead of a copy.
    submission_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    # The voucher's link in its organization's hash chain, written once by posting
    # (accounting/services/chain.py): its place (1, 2, 3, … in order of posting), the hash of
    # the voucher before it, and the SHA-256 of what posting froze together with that hash.
    chain_position = models.PositiveIntegerField(null=True, blank=True)
    chain_previous = models.CharField(max_length=64, blank=True, default="")
    chain_hash = models.CharField(max_length=64, blank=True, default="")
    # The chain is its own record of what was posted; its fields are written once.
    # A voucher's history is read by voucher (the history table's `id`) and by date; its other
    # columns are not searched, so they carry no index.
    history = HistoricalRecords(
        excluded_fields=["chain_position", "chain_previous", "chain_hash"],
        no_db_index=[
            "organization",
            "voucher_type",
            "fiscal_year",
            "party",
            "reversal_of",
            "created_by",
            "changed_by",
            "submitted_by",
            "approved_by",
            "posted_by",
        ],
    )

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "date"]),
            models.Index(fields=["organization", "voucher_type", "date"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "voucher_type", "fiscal_year", "sequence"],
                name="voucher_sequence_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "number"], name="voucher_number_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "submission_key"], name="voucher_submission_once"
            ),
            models.UniqueConstraint(
                fields=["organization", "chain_position"], name="voucher_chain_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "approved", "cancelled"])
                | Q(number__isnull=False, sequence__isnull=False, fiscal_year__isnull=False),
                name="posted_voucher_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.voucher_type.code} #{self.pk}"

    @property
    def label(self) -> str:
        """The voucher's name without its status: its number, or its type and id until posted."""
        return self.number or f"{self.voucher_type.code} #{self.pk}"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, *, fetch_mode: Any = None) -> Voucher:
        instance = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        instance._stored_status = instance.__dict__.get("status")  # type: ignore[assignment]
        return instance

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = getattr(self, "_stored_status", None)
        if stored in (VoucherStatus.POSTED, VoucherStatus.REVERSED, VoucherStatus.CANCELLED):
            allowed = stored == VoucherStatus.POSTED and set(kwargs.get("update_fields") or ()) <= {
                "status",
                "updated_at",
            }
            if not allowed or self.status != VoucherStatus.REVERSED:
                raise ImmutableRecordError(f"Voucher {self} is {stored} and cannot be changed.")
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_stored_status", self.status) not in EDITABLE_STATUSES | {
            VoucherStatus.CANCELLED
        }:
            raise ImmutableRecordError(f"Voucher {self} is {self.status} and cannot be deleted.")
        return super().delete(*args, **kwargs)


class VoucherLine(models.Model):
    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveIntegerField(default=0)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="voucher_lines")
    debit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=ZERO)
    credit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=ZERO)
    description = models.CharField(max_length=255, blank=True)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Line history is read by line and by voucher.
    history = HistoricalRecords(no_db_index=["account", "party"])

    class Meta:
        ordering = ["voucher", "order", "id"]

    def __str__(self) -> str:
        return f"Line {self.order} of {self.voucher_id}"

    def _refuse_unless_voucher_editable(self) -> None:
        status = Voucher.objects.filter(pk=self.voucher_id).values_list("status", flat=True).first()
        if status is not None and status not in EDITABLE_STATUSES:
            raise ImmutableRecordError(f"The lines of a {status} voucher cannot be changed.")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            self._refuse_unless_voucher_editable()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_unless_voucher_editable()
        return super().delete(*args, **kwargs)


class LedgerEntry(models.Model):
    """A general-ledger row. Written only by posting; never changed afterwards."""

    # Indexed as the first column of (organization, account, date).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="ledger_entries")
    line_order = models.PositiveIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger_entries")
    date = models.DateField()
    debit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=ZERO)
    credit = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=ZERO)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["date", "voucher_id", "line_order"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["organization", "account", "date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(debit__gte=0) & Q(credit__gte=0), name="ledger_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="ledger_exactly_one_side",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} Dr {self.debit} Cr {self.credit}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError("Ledger entries cannot be changed once posted.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRecordError("Ledger entries cannot be deleted.")


class EntryRefusal(models.Model):
    """A rule the ledger refused an entry by (one row per problem), written after the refused
    transaction rolled back: what support looks up and the usage figures count."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.CASCADE, related_name="+")
    voucher = models.ForeignKey(
        Voucher, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20)  # save, submit, approve, post
    channel = models.CharField(max_length=20, choices=EntryChannel.choices, blank=True)
    rule = models.CharField(max_length=50)
    message = models.TextField()
    refused_at = models.DateTimeField()

    class Meta:
        ordering = ["-refused_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "refused_at"]),
            models.Index(fields=["organization", "user", "refused_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} refused by {self.rule}: {self.message[:60]}"
