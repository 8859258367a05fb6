"""Voucher type configurations: what a type's entry form holds and how it posts, as data."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from accounting.models import Organization, VoucherType


def definition_hash(definition: dict[str, Any]) -> str:
    """A stable fingerprint of a definition: the same content always gives the same hash."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class VoucherTypeConfig(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="voucher_configs"
    )
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.CASCADE, related_name="configs")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    definition = models.JSONField()
    definition_hash = models.CharField(max_length=64, editable=False)
    # The hash of the shipped baseline this config was last seeded from: when the definition's
    # hash differs, an administrator has customised it and seeding leaves it alone.
    baseline_hash = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "voucher_type__code"]
        verbose_name = "voucher type configuration"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "voucher_type"], name="one_config_per_voucher_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.voucher_type.code} {self.name} v{self.version}"

    @property
    def is_customised(self) -> bool:
        return bool(self.baseline_hash) and self.baseline_hash != self.definition_hash

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Every save validates, whoever saves: admin, command, import or code."""
        from voucher_config.validation import validate_definition

        validate_definition(self.definition, organization=self.organization)
        self.definition_hash = definition_hash(self.definition)
        super().save(*args, **kwargs)


# --- parallel-run metrics ------------------------------------------------------------------


class MetricName(models.TextChoices):
    """What the rollout counts per channel and voucher type; `*_ms` names are histograms."""

    VOUCHER_CREATED = "voucher_created", "Vouchers created"
    VOUCHER_POSTED = "voucher_posted", "Vouchers posted"
    POST_FAILED = "post_failed", "Posts that failed"
    HTMX_ERROR = "htmx_error", "HTMX endpoint errors"
    FALLBACK = "fallback", "Fallbacks to the legacy UI"
    DB_ERROR = "db_error", "Database errors"
    FORM_LOAD_MS = "form_load_ms", "Form load, server (ms)"
    BROWSER_LOAD_MS = "browser_load_ms", "Form load, browser (ms)"
    SESSION_MS = "session_ms", "Time on an entry page (ms)"


class MetricMinute(models.Model):
    """One minute of one metric for one channel, voucher type and reason.

    Counters keep `bucket` at -1. A histogram keeps one row per bucket it has seen that minute,
    not cumulated: `count` observations at or below `bucket` ms and above the next lower bound,
    `total` their sum. Percentiles and Prometheus buckets are rebuilt from these rows on read.
    """

    COUNTER = -1
    # The +Inf bucket: the largest value the integer column holds on every backend.
    INF_BUCKET = 2_147_483_647

    minute = models.DateTimeField()
    name = models.CharField(max_length=30, choices=MetricName.choices)
    channel = models.CharField(max_length=20, blank=True)
    voucher_type = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    bucket = models.IntegerField(default=COUNTER)
    count = models.PositiveBigIntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        verbose_name = "metric minute"
        constraints = [
            # Leading with `minute`, its index also serves the window queries and pruning.
            models.UniqueConstraint(
                fields=["minute", "name", "channel", "voucher_type", "reason", "bucket"],
                name="one_metric_row_per_minute_and_labels",
            )
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.name} {self.channel} {self.voucher_type}"


class ChannelUserDay(models.Model):
    """A user entered vouchers through a channel on a day: the base of the adoption share."""

    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20)

    class Meta:
        verbose_name = "active user per channel and day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "user", "channel"], name="one_active_mark_per_user_day_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.channel}"
