"""Vouchers and the ledger: a voucher, its lines and the ledger rows posting makes of them, the
counters that number them, the head of each organization's hash chain, and the entries the
ledger refused. One module past the usual few hundred lines, because a voucher's constraints,
relations and immutability are read together."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounting.models.masters import (
    Account,
    FiscalYear,
    Organization,
    Party,
    VoucherType,
)

MONEY_DIGITS, MONEY_PLACES = 18, 2
ZERO = Decimal("0.00")

# What the first voucher of an organization's hash chain links back to.
CHAIN_GENESIS = "0" * 64


class ImmutableRecordError(Exception):
    """Raised when code tries to change a posted voucher or a ledger row."""


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


def _acting_user() -> Any:
    """Who created, changed, submitted, approved or posted a voucher. Users are deactivated,
    never deleted, and a voucher is found by its organization first, so these carry no index."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )


class Voucher(models.Model):
    # Every index the posting of a voucher updates is a cost on each voucher posted, so a
    # foreign key is indexed only where something looks vouchers up by it: the organization is
    # the first column of the composite indexes and unique constraints below.
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
    created_by = _acting_user()
    created_at = models.DateTimeField(auto_now_add=True)
    # Who last saved what the voucher says: with `created_by`, the people who may not approve it.
    changed_by = _acting_user()
    updated_at = models.DateTimeField(auto_now=True)
    # The entry form a voucher was saved from, so a repeated submit returns it instead of a copy.
    submission_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    submitted_by = _acting_user()
    approved_by = _acting_user()
    approved_at = models.DateTimeField(null=True, blank=True)
    posted_by = _acting_user()
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
