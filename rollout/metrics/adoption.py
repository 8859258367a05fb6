"""Adoption of the configuration UI: its share of active users and of vouchers, per day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounting.models import EntryChannel, Voucher
from rollout.metrics.recording import UI_CHANNELS, metrics_flush, minute_of
from rollout.metrics.summary import ratio
from rollout.models import ChannelUserDay, MetricMinute, MetricName


@dataclass(frozen=True)
class AdoptionDay:
    day: date
    legacy_users: int = 0
    config_users: int = 0
    active_users: int = 0  # distinct over both UIs: a user on both counts once
    legacy_vouchers: int = 0
    config_vouchers: int = 0

    @property
    def user_share(self) -> float | None:
        """The share of the day's active users who used the config UI."""
        return ratio(self.config_users, self.active_users)

    @property
    def voucher_share(self) -> float | None:
        """The share of the day's vouchers entered through the config UI (imports excluded)."""
        return ratio(self.config_vouchers, self.legacy_vouchers + self.config_vouchers)


def day_start(day: date) -> datetime:
    """Midnight at the start of a day in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def adoption_series(
    *, since: date, until: date, organizations: Iterable[int] | None = None
) -> list[AdoptionDay]:
    """Per day from `since` to `until` (both included): the config UI's share of active users
    and of vouchers entered through a UI, in the organizations given by id (None: all). Three
    queries."""
    if until < since:
        raise ValueError(f"The series ends ({until}) before it starts ({since}).")
    marks = ChannelUserDay.objects.filter(day__gte=since, day__lte=until, channel__in=UI_CHANNELS)
    vouchers_entered = Voucher.objects.all()
    if organizations is not None:
        wanted = list(organizations)
        marks = marks.filter(organization_id__in=wanted)
        vouchers_entered = vouchers_entered.filter(organization_id__in=wanted)
    users: Counter[tuple[date, str]] = Counter()
    for mark in marks.values("day", "channel").annotate(n=Count("user", distinct=True)):
        users[(mark["day"], mark["channel"])] = mark["n"]
    active = dict(
        marks.values("day").annotate(n=Count("user", distinct=True)).values_list("day", "n")
    )
    vouchers: Counter[tuple[date, str]] = Counter()
    created = (
        vouchers_entered.filter(
            created_at__gte=day_start(since),
            created_at__lt=day_start(until + timedelta(days=1)),
            entry_channel__in=UI_CHANNELS,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "entry_channel")
        .annotate(n=Count("id"))
    )
    for row in created:
        vouchers[(row["day"], row["entry_channel"])] = row["n"]
    legacy, config = UI_CHANNELS
    return [
        AdoptionDay(
            day=day,
            legacy_users=users[(day, legacy)],
            config_users=users[(day, config)],
            active_users=active.get(day, 0),
            legacy_vouchers=vouchers[(day, legacy)],
            config_vouchers=vouchers[(day, config)],
        )
        for day in (since + timedelta(days=n) for n in range((until - since).days + 1))
    ]


def adoption_now(*, days: int = 7) -> tuple[float | None, float | None]:
    """The config UI's share of active users and of vouchers created over the last `days` days,
    from the metric rows alone (cheap enough for every scrape)."""
    metrics_flush()
    today = timezone.localdate()
    marks = ChannelUserDay.objects.filter(day__gt=today - timedelta(days=days))
    counts = marks.aggregate(
        active=Count("user", distinct=True),
        config=Count("user", distinct=True, filter=Q(channel=EntryChannel.CONFIG)),
    )
    created = MetricMinute.objects.filter(
        minute__gte=minute_of(timezone.now() - timedelta(days=days)),
        name=MetricName.VOUCHER_CREATED,
    ).aggregate(
        all=Sum("count", filter=Q(channel__in=UI_CHANNELS)),
        config=Sum("count", filter=Q(channel=EntryChannel.CONFIG)),
    )
    return (
        ratio(counts["config"], counts["active"]),
        ratio(created["config"] or 0, created["all"] or 0),
    )


def adoption_now_by_organization(*, days: int = 7) -> dict[int, tuple[float | None, float | None]]:
    """`adoption_now` per organization (by id), for the organizations with any mark or voucher
    in the last `days` days. Two queries."""
    metrics_flush()
    today = timezone.localdate()
    users = (
        ChannelUserDay.objects.filter(
            day__gt=today - timedelta(days=days), organization_id__isnull=False
        )
        .values("organization_id")
        .annotate(
            active=Count("user", distinct=True),
            config=Count("user", distinct=True, filter=Q(channel=EntryChannel.CONFIG)),
        )
    )
    created = (
        MetricMinute.objects.filter(
            minute__gte=minute_of(timezone.now() - timedelta(days=days)),
            name=MetricName.VOUCHER_CREATED,
            organization_id__isnull=False,
        )
        .values("organization_id")
        .annotate(
            all=Sum("count", filter=Q(channel__in=UI_CHANNELS)),
            config=Sum("count", filter=Q(channel=EntryChannel.CONFIG)),
        )
    )
    user_shares = {row["organization_id"]: ratio(row["config"], row["active"]) for row in users}
    voucher_shares = {
        row["organization_id"]: ratio(row["config"] or 0, row["all"] or 0) for row in created
    }
    return {
        organization: (user_shares.get(organization), voucher_shares.get(organization))
        for organization in {*user_shares, *voucher_shares}
    }
