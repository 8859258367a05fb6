"""The rollout's alert rules, evaluated over a window of the parallel-run metrics.

`health_check` is what `check_voucher_health` (for cron or a monitoring agent) and the staff
dashboard report: posting failure rate, form load p95, HTMX endpoint failures and database
errors, each per channel where that makes sense, with thresholds from the VOUCHER_HEALTH_*
settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection
from django.utils import timezone

from rollout.metrics.recording import UI_CHANNELS, metrics_setting, minute_of
from rollout.metrics.summary import AboveLastBound, EntryFigures, MetricsSummary, metrics_summary

WINDOW_PATTERN = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
WINDOW_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

RATE, MS, COUNT = "rate", "ms", "count"


def window_parse(text: str) -> timedelta:
    """'15m', '1h', '7d' as a timedelta."""
    match = WINDOW_PATTERN.match(text)
    if not match or int(match[1]) == 0:
        raise ValueError(
            f"'{text}' is not a window: use a positive number and m, h or d (15m, 1h, 7d)."
        )
    return timedelta(**{WINDOW_UNITS[match[2]]: int(match[1])})


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == RATE:
        return f"{value:.1%}"
    if unit == MS:
        over = "> " if isinstance(value, AboveLastBound) else ""
        return f"{over}{value:.0f} ms"
    return f"{value:g}"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    subject: str  # the channel, or "database"
    measured: float | None
    threshold: float
    breached: bool
    unit: str = COUNT
    note: str = ""

    @property
    def measured_shown(self) -> str:
        return _shown(self.measured, self.unit)

    @property
    def threshold_shown(self) -> str:
        return _shown(self.threshold, self.unit)

    def __str__(self) -> str:
        state = "BREACHED" if self.breached else "ok"
        text = (
            f"{state} {self.rule} [{self.subject}]: {self.measured_shown} "
            f"(threshold {self.threshold_shown})"
        )
        return f"{text}; {self.note}" if self.note else text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def database_check() -> RuleResult:
    """Actively asks the database for SELECT 1: a rule the metrics themselves cannot show, since
    they live in that database."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return RuleResult(
            "database_connection",
            "database",
            measured=1,
            threshold=0,
            breached=True,
            note=f"{type(exc).__name__}: {exc}".strip(),
        )
    return RuleResult(
        "database_connection",
        "database",
        measured=0,
        threshold=0,
        breached=False,
        note="SELECT 1 answered",
    )


def _post_failure_rule(figures: EntryFigures) -> RuleResult:
    threshold = float(metrics_setting("VOUCHER_HEALTH_POST_FAILURE_RATE"))
    minimum = int(metrics_setting("VOUCHER_HEALTH_MIN_POSTS"))
    attempts = figures.post_attempts
    note = f"{figures.failed} of {attempts} posts failed"
    enough = attempts >= minimum
    if not enough:
        note += f"; fewer than {minimum}, too few to judge"
    rate = figures.failure_rate
    breached = enough and rate is not None and rate > threshold
    return RuleResult(
        "post_failure_rate", figures.channel, rate, threshold, breached, unit=RATE, note=note
    )


def _load_rule(rule: str, figures: EntryFigures, *, browser: bool) -> RuleResult:
    threshold = float(metrics_setting("VOUCHER_HEALTH_FORM_LOAD_P95_MS"))
    minimum = int(metrics_setting("VOUCHER_HEALTH_MIN_LOADS"))
    histogram = figures.browser_load if browser else figures.form_load
    p95 = histogram.quantile(0.95)
    note = f"{histogram.count} loads"
    enough = histogram.count >= minimum
    if not enough:
        note += f"; fewer than {minimum}, too few for a p95"
    # Past the last bucket bound the p95 is unknown but over it: a breach whatever the threshold.
    over = p95 is not None and (p95 > threshold or isinstance(p95, AboveLastBound))
    breached = enough and over
    return RuleResult(rule, figures.channel, p95, threshold, breached, unit=MS, note=note)


def _count_rule(rule: str, subject: str, measured: int, setting: str, note: str) -> RuleResult:
    threshold = int(metrics_setting(setting))
    return RuleResult(rule, subject, measured, threshold, measured > threshold, note=note)


def minute_ceiling(at: datetime) -> datetime:
    """The end of the minute `at` falls in, so a window ending now includes the current minute."""
    return minute_of(at - timedelta(microseconds=1)) + timedelta(minutes=1)


def health_check(
    *, window: timedelta, now: datetime | None = None, organizations: Iterable[int] | None = None
) -> list[RuleResult]:
    """Every rule over the window ending at `now` (default: now, the current minute included),
    over the metrics of the organizations given by id (None: all of them together)."""
    database = database_check()
    if database.breached:
        # The metrics live in the database too: nothing else can be measured.
        return [database]
    now = now or timezone.now()
    summary = metrics_summary(
        since=now - window, until=minute_ceiling(now), organizations=organizations
    )
    return [database, *summary_rules(summary)]


def summary_rules(summary: MetricsSummary) -> list[RuleResult]:
    """The rules the metrics decide, over whatever window `summary` covers."""
    results = [
        _count_rule(
            "database_errors",
            "database",
            summary.db_errors,
            "VOUCHER_HEALTH_DB_ERRORS_MAX",
            "errors counted while serving entry requests",
        )
    ]
    channels = sorted({*UI_CHANNELS, *summary.channels} - {""})
    for channel in channels:
        figures = summary.channel(channel)
        results += [
            _post_failure_rule(figures),
            _load_rule("form_load_p95", figures, browser=False),
            _load_rule("browser_load_p95", figures, browser=True),
            _count_rule(
                "htmx_errors",
                channel,
                figures.htmx_errors,
                "VOUCHER_HEALTH_HTMX_ERRORS_MAX",
                _top_reasons(figures),
            ),
            _count_rule(
                "htmx_server_errors",
                channel,
                figures.htmx_server_errors,
                "VOUCHER_HEALTH_HTMX_SERVER_ERRORS_MAX",
                "5xx responses or no response",
            ),
        ]
    return results


def _top_reasons(figures: EntryFigures) -> str:
    top = figures.htmx_error_reasons.most_common(3)
    return ", ".join(f"{reason} ×{n}" for reason, n in top)


def breaches(results: list[RuleResult]) -> list[RuleResult]:
    return [result for result in results if result.breached]
