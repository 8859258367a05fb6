"""Parallel-run metrics: per-minute counters and histograms, and active users per channel, per
organization; the history of the rollout flags; and each organization's own rollout state."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history import register
from simple_history.models import HistoricalRecords
from waffle.models import Flag

from accounting.models import Organization

# Every change of a rollout flag is recorded (who, when, the values before and after): the
# historical table lives in this app, since waffle is a third-party app.
register(
    Flag,
    app="rollout",
    table_name="rollout_historicalflag",
    m2m_fields=["groups", "users"],
    excluded_fields=["modified"],
)


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
    """One minute of one metric for one organization, channel, voucher type and reason.

    Counters keep `bucket` at -1. A histogram keeps one row per bucket it has seen that minute,
    not cumulated: `count` observations at or below `bucket` ms and above the next lower bound,
    `total` their sum. Percentiles and Prometheus buckets are rebuilt from these rows on read.
    `organization` is empty for rows recorded before metrics were kept per organization and for
    events of a user with no organization.
    """

    COUNTER = -1
    # The +Inf bucket: the largest value the integer column holds on every backend.
    INF_BUCKET = 2_147_483_647

    minute = models.DateTimeField()
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=30, choices=MetricName.choices)
    channel = models.CharField(max_length=20, blank=True)
    voucher_type = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    bucket = models.IntegerField(default=COUNTER)
    count = models.PositiveBigIntegerField(default=0)
    total = models.FloatField(default=0)

    class Meta:
        # The table keeps the name it was created with in voucher_config: no data moved.
        db_table = "voucher_config_metricminute"
        verbose_name = "metric minute"
        constraints = [
            # Leading with `minute`, its index also serves the window queries and pruning.
            models.UniqueConstraint(
                fields=[
                    "minute",
                    "organization",
                    "name",
                    "channel",
                    "voucher_type",
                    "reason",
                    "bucket",
                ],
                name="one_metric_row_per_minute_and_labels",
            ),
            # NULLs are distinct in a unique index: rows without an organization need their own.
            models.UniqueConstraint(
                fields=["minute", "name", "channel", "voucher_type", "reason", "bucket"],
                condition=Q(organization__isnull=True),
                name="one_metric_row_per_minute_and_labels_no_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.name} {self.channel} {self.voucher_type}"


class ChannelUserDay(models.Model):
    """A user entered vouchers of an organization through a channel on a day: the base of the
    adoption share."""

    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20)

    class Meta:
        db_table = "voucher_config_channeluserday"
        verbose_name = "active user per channel and day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "user", "organization", "channel"],
                name="one_active_mark_per_user_day_channel",
            ),
            models.UniqueConstraint(
                fields=["day", "user", "channel"],
                condition=Q(organization__isnull=True),
                name="one_active_mark_per_user_day_channel_no_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.channel}"


class RolloutMode(models.TextChoices):
    """Who in an organization gets the configuration screen."""

    INHERIT = "inherit", "Follow the global default"
    OFF = "off", "Legacy screen for everyone"
    GROUPS = "groups", "Members of chosen groups"
    PERCENT = "percent", "A sticky percentage of members"
    EVERYONE = "everyone", "Configuration screen for everyone"


class RolloutGroup(models.Model):
    """A named set of one organization's members, for rolling out to them first."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="rollout_groups"
    )
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    history = HistoricalRecords(m2m_fields=[members])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="one_rollout_group_name_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationRollout(models.Model):
    """One organization's rollout of the configuration screen; it overrides the global flag
    unless its mode is `inherit`. No row means `inherit`."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="rollout"
    )
    mode = models.CharField(max_length=10, choices=RolloutMode.choices, default=RolloutMode.INHERIT)
    percent = models.DecimalField(max_digits=3, decimal_places=1, default=0)
    groups = models.ManyToManyField(RolloutGroup, blank=True, related_name="+")
    history = HistoricalRecords(m2m_fields=[groups])

    class Meta:
        verbose_name = "organization rollout"
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=Decimal("99.9")),
                name="organization_rollout_percent_0_to_99_9",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.get_mode_display()}"
