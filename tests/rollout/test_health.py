"""check_voucher_health and the alert rules behind it."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.utils import timezone

from accounting.models import EntryChannel
from rollout.health import breaches, health_check, window_parse
from rollout.metrics.recording import metric_count, metric_observe
from rollout.metrics.summary import htmx_error_reason

LEGACY, CONFIG = EntryChannel.LEGACY, EntryChannel.CONFIG


def posts(
    *,
    channel: str,
    posted: int,
    failed: int,
    ago: timedelta = timedelta(minutes=5),
    organization=None,
):
    at = timezone.now() - ago
    labels = {"channel": channel, "voucher_type": "PV", "organization": organization, "at": at}
    metric_count(name="voucher_posted", amount=posted, **labels)
    if failed:
        metric_count(name="post_failed", reason="period closed", amount=failed, **labels)


def loads(*, channel: str, value_ms: float, times: int, browser: bool = False):
    name = "browser_load_ms" if browser else "form_load_ms"
    for _ in range(times):
        metric_observe(name=name, channel=channel, voucher_type="PV", value_ms=value_ms)


def run(*args: str) -> str:
    out = StringIO()
    call_command("check_voucher_health", *args, stdout=out)
    return out.getvalue()


def test_a_ten_percent_posting_failure_rate_exits_1_naming_the_rule(db):
    posts(channel=CONFIG, posted=90, failed=10)
    posts(channel=LEGACY, posted=100, failed=0)

    with pytest.raises(CommandError) as raised:
        run("--window", "1h")

    message = str(raised.value)
    assert "1 health rule(s) breached" in message
    assert "post_failure_rate [config]: 10.0% (threshold 5.0%)" in message
    assert "10 of 100 posts failed" in message
    assert "[legacy]" not in message


def test_healthy_figures_exit_0_and_say_healthy(db):
    posts(channel=CONFIG, posted=97, failed=3)
    loads(channel=CONFIG, value_ms=300, times=25)

    output = run("--window", "1h")

    assert output.startswith("healthy over the last 1h")
    assert "ok post_failure_rate [config]: 3.0% (threshold 5.0%)" in output
    assert "ok database_connection [database]" in output


def test_failures_outside_the_window_do_not_count(db):
    posts(channel=CONFIG, posted=90, failed=10, ago=timedelta(hours=2))

    assert "healthy" in run("--window", "1h")
    with pytest.raises(CommandError):
        run("--window", "3h")


def test_too_few_posts_are_not_judged(db, settings):
    settings.VOUCHER_HEALTH_MIN_POSTS = 20
    posts(channel=CONFIG, posted=5, failed=5)

    assert "too few to judge" in run()


def test_form_load_p95_above_five_seconds_is_a_breach(db):
    loads(channel=CONFIG, value_ms=400, times=10)
    loads(channel=CONFIG, value_ms=8000, times=20)

    with pytest.raises(
        CommandError, match=r"form_load_p95 \[config\]: \d[\d,]* ms \(threshold 5000 ms\)"
    ):
        run()


@pytest.mark.parametrize("threshold_ms", [5000, 60_000])
def test_loads_all_over_the_last_bucket_bound_are_a_breach_whatever_the_threshold(
    db, settings, threshold_ms
):
    settings.VOUCHER_HEALTH_FORM_LOAD_P95_MS = threshold_ms
    loads(channel=CONFIG, value_ms=25_000, times=25)

    with pytest.raises(CommandError) as raised:
        run()

    assert (
        f"BREACHED form_load_p95 [config]: > 10000 ms (threshold {threshold_ms} ms); 25 loads"
        in str(raised.value)
    )


def test_browser_load_p95_has_the_same_threshold(db, settings):
    settings.VOUCHER_HEALTH_FORM_LOAD_P95_MS = 2000
    loads(channel=LEGACY, value_ms=3000, times=30, browser=True)

    results = breaches(health_check(window=timedelta(hours=1)))

    assert [(r.rule, r.subject) for r in results] == [("browser_load_p95", "legacy")]
    assert results[0].measured > 2000


def test_htmx_failures_above_their_thresholds_are_breaches(db, settings):
    settings.VOUCHER_HEALTH_HTMX_ERRORS_MAX = 5
    settings.VOUCHER_HEALTH_HTMX_SERVER_ERRORS_MAX = 1
    metric_count(
        name="htmx_error",
        channel=CONFIG,
        voucher_type="PV",
        reason=htmx_error_reason(endpoint="voucher-lines", status=400),
        amount=4,
    )
    metric_count(
        name="htmx_error",
        channel=CONFIG,
        voucher_type="PV",
        reason=htmx_error_reason(endpoint="voucher-lines", status=502),
        amount=2,
    )

    results = {(r.rule, r.subject): r for r in breaches(health_check(window=timedelta(hours=1)))}

    assert set(results) == {("htmx_errors", "config"), ("htmx_server_errors", "config")}
    assert results[("htmx_errors", "config")].measured == 6
    assert results[("htmx_server_errors", "config")].measured == 2


def test_a_counted_database_error_is_a_breach(db):
    metric_count(name="db_error", channel=CONFIG, voucher_type="PV", reason="OperationalError")

    with pytest.raises(CommandError, match=r"database_errors \[database\]: 1 \(threshold 0\)"):
        run()


def test_a_database_that_does_not_answer_is_a_breach(db, monkeypatch):
    def refuse():
        raise OperationalError("connection refused")

    with monkeypatch.context() as patched, pytest.raises(CommandError) as raised:
        patched.setattr(connection, "ensure_connection", refuse)
        run()

    assert "database_connection [database]" in str(raised.value)
    assert "OperationalError: connection refused" in str(raised.value)


def test_json_format_reports_every_rule_and_still_exits_1_on_a_breach(db, capsys):
    posts(channel=CONFIG, posted=90, failed=10)

    with pytest.raises(CommandError):
        call_command("check_voucher_health", "--format", "json")

    report = json.loads(capsys.readouterr().out)
    assert report["healthy"] is False
    assert report["window"] == "1h"
    breached = [rule for rule in report["rules"] if rule["breached"]]
    assert breached == [
        {
            "rule": "post_failure_rate",
            "subject": "config",
            "measured": 0.1,
            "threshold": 0.05,
            "breached": True,
            "unit": "rate",
            "note": "10 of 100 posts failed",
        }
    ]


def test_the_window_takes_minutes_hours_or_days():
    assert window_parse("15m") == timedelta(minutes=15)
    assert window_parse("24h") == timedelta(hours=24)
    assert window_parse("7d") == timedelta(days=7)
    for wrong in ("0h", "1w", "h", "-1h"):
        with pytest.raises(ValueError, match="not a window"):
            window_parse(wrong)


def test_a_bad_window_is_a_command_error(db):
    with pytest.raises(CommandError, match="'soon' is not a window"):
        run("--window", "soon")


def test_health_of_one_organization_judges_its_figures_only(books, other_books):
    posts(channel=CONFIG, posted=18, failed=12, organization=books.organization)
    posts(channel=CONFIG, posted=40, failed=0, organization=other_books.organization)

    assert run("--org", "rival").startswith("healthy over the last 1h (rival)")
    with pytest.raises(CommandError, match=r"breached over the last 1h \(acme\)"):
        run("--org", "acme")
    with pytest.raises(CommandError, match=r"breached over the last 1h \(all organizations\)"):
        run()  # 12 of 70 posts failed, over both together
    with pytest.raises(CommandError, match=r"No organization 'nobody'; slugs: acme, rival\."):
        run("--org", "nobody")
