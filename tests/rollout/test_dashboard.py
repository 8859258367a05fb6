"""The staff dashboard comparing legacy and config-driven entry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounting.models import EntryChannel
from rollout.metrics.recording import metric_count, metric_observe, user_active_mark
from tests.factories import UserFactory

LEGACY, CONFIG = EntryChannel.LEGACY, EntryChannel.CONFIG
DASHBOARD = "/metrics/dashboard/"


@pytest.fixture
def staff_client(db, client):
    client.force_login(UserFactory(is_staff=True))
    return client


def parallel_run(*, config_load_ms: float = 100, config_failed: int = 0):
    for channel, failed, load in ((LEGACY, 0, 100), (CONFIG, config_failed, config_load_ms)):
        metric_count(name="voucher_created", channel=channel, voucher_type="PV", amount=12)
        metric_count(name="voucher_posted", channel=channel, voucher_type="PV", amount=10)
        if failed:
            metric_count(
                name="post_failed",
                channel=channel,
                voucher_type="PV",
                reason="unbalanced",
                amount=failed,
            )
        for _ in range(20):  # VOUCHER_HEALTH_MIN_LOADS: fewer are too few to compare
            metric_observe(name="form_load_ms", channel=channel, voucher_type="PV", value_ms=load)
            metric_observe(name="browser_load_ms", channel=channel, voucher_type="PV", value_ms=900)
        user_active_mark(user=UserFactory(), channel=channel)


def comparison_row(html: str, label: str) -> str:
    match = re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{label}</th>.*?</tr>", html, re.S)
    assert match, f"no row {label!r}"
    return match.group(0)


def test_dashboard_shows_both_channels_side_by_side_for_staff(staff_client):
    parallel_run()

    response = staff_client.get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<th scope="col" class="num">Legacy</th>' in html
    assert '<th scope="col" class="num">Config</th>' in html
    created = comparison_row(html, "Vouchers created")
    assert created.count(">12</td>") == 2
    assert "100.0%" in comparison_row(html, "Post success rate")
    assert html.count("<svg") == 4  # volume, load time, success rate, adoption
    assert 'class="bar bar-config"' in html
    assert 'class="line line-users"' in html
    assert "No-go hints" not in html


def test_dashboard_flags_config_slower_by_more_than_a_fifth_or_failing_more(staff_client):
    parallel_run(config_load_ms=4000, config_failed=2)

    html = staff_client.get(DASHBOARD).content.decode()

    assert "No-go hints" in html
    p95 = comparison_row(html, "Server load p95")
    assert 'class="no-go"' in p95
    assert "slower" in p95
    assert "config lower than legacy" in comparison_row(html, "Post success rate")
    assert 'class="no-go"' not in comparison_row(html, "Browser load p95")
    assert "unbalanced" in html  # failures by reason


def test_too_few_page_loads_give_no_speed_hint(staff_client):
    for channel, load in ((LEGACY, 100), (CONFIG, 4000)):
        for _ in range(5):
            metric_observe(name="form_load_ms", channel=channel, voucher_type="PV", value_ms=load)
    html = staff_client.get(DASHBOARD).content.decode()
    assert 'class="no-go"' not in comparison_row(html, "Server load p95")


def test_dashboard_window_leaves_out_older_activity(staff_client):
    metric_count(
        name="voucher_created",
        channel=CONFIG,
        voucher_type="JV",
        at=timezone.now() - timedelta(hours=3),
        amount=7,
    )

    hour = staff_client.get(DASHBOARD, {"window": "1h"}).content.decode()
    day = staff_client.get(DASHBOARD, {"window": "24h"}).content.decode()

    assert "No entry activity in this window." in hour
    assert '<th scope="row">JV</th>' in day


def test_dashboard_takes_a_from_to_date_range(staff_client):
    today = timezone.localdate()
    metric_count(name="voucher_posted", channel=LEGACY, voucher_type="PV", amount=4)

    response = staff_client.get(
        DASHBOARD,
        {
            "window": "dates",
            "start": (today - timedelta(days=2)).isoformat(),
            "end": today.isoformat(),
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f"{today:%d %b %Y}" in html
    assert html.count('<th scope="row">') >= 3 + 1  # three adoption days and the PV row
    assert ">4</td>" in comparison_row(html, "Vouchers posted")


def test_a_to_date_before_the_from_date_is_explained_and_the_default_window_shown(staff_client):
    today = timezone.localdate()

    response = staff_client.get(
        DASHBOARD,
        {
            "window": "dates",
            "start": today.isoformat(),
            "end": (today - timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 200
    assert "is before From" in response.content.decode()
    assert "Last 24 hours" in response.content.decode()


def test_dashboard_needs_no_inline_script_or_style(staff_client):
    parallel_run()

    html = staff_client.get(DASHBOARD).content.decode()

    assert " style=" not in html
    assert "<style" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "css/dashboard.css" in html


def test_dashboard_sends_anonymous_users_to_login_and_refuses_non_staff(db, client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")

    client.force_login(UserFactory())
    refused = client.get(DASHBOARD)
    assert refused.status_code == 403
    assert "for staff" in refused.content.decode()


def test_dashboard_queries_do_not_grow_with_the_data(staff_client, django_assert_max_num_queries):
    parallel_run()
    for code in ("JV", "SV", "RV"):
        metric_count(name="voucher_created", channel=CONFIG, voucher_type=code, amount=3)

    with django_assert_max_num_queries(15):
        assert staff_client.get(DASHBOARD, {"window": "30d"}).status_code == 200
