"""The staff dashboard comparing legacy and config-driven entry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounting.models import EntryChannel, Membership, Role
from rollout.metrics.recording import metric_count, metric_observe, user_active_mark
from tests.factories import Books, UserFactory

LEGACY, CONFIG = EntryChannel.LEGACY, EntryChannel.CONFIG
DASHBOARD = "/metrics/dashboard/"


@pytest.fixture
def staff_client(db, client):
    """A superuser: sees every organization's figures, those recorded without one included."""
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
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


# --- per organization ------------------------------------------------------------------------


def created_by_organization(books, other_books):
    """Vouchers created: 12 in acme, 5 in rival, 2 recorded before metrics had organizations."""
    for organization, amount in (
        (books.organization, 12),
        (other_books.organization, 5),
        (None, 2),
    ):
        metric_count(
            name="voucher_created",
            channel=CONFIG,
            voucher_type="PV",
            organization=organization,
            amount=amount,
        )


def staff_administering(client, *ledgers):
    user = UserFactory(is_staff=True)
    for ledger in ledgers:
        Membership.objects.create(user=user, organization=ledger.organization, role=Role.ADMIN)
    client.force_login(user)
    return user


def test_an_organization_admin_sees_only_their_organizations_figures(client, books, other_books):
    created_by_organization(books, other_books)
    staff_administering(client, other_books)

    response = client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert ">5</td>" in comparison_row(html, "Vouchers created")
    assert "Rival Ltd" in html
    assert "Acme Ltd" not in html
    assert 'name="org"' not in html  # one organization: nothing to choose


def test_an_admin_of_several_organizations_chooses_among_them_only(client, books, other_books):
    created_by_organization(books, other_books)
    third = Books(slug="third")
    staff_administering(client, books, other_books)

    default = client.get(DASHBOARD).content.decode()
    rival = client.get(DASHBOARD, {"org": "rival"}).content.decode()
    everything = client.get(DASHBOARD, {"org": ""}).content.decode()
    stranger = client.get(DASHBOARD, {"org": third.organization.slug}).content.decode()

    assert '<option value="rival">Rival Ltd</option>' in default
    assert "All organizations" not in default and "Third Ltd" not in default
    assert ">12</td>" in comparison_row(default, "Vouchers created")  # acme: first by name
    assert ">5</td>" in comparison_row(rival, "Vouchers created")
    assert ">12</td>" in comparison_row(everything, "Vouchers created")
    assert "Select a valid choice" in stranger
    assert ">12</td>" in comparison_row(stranger, "Vouchers created")


def test_a_superuser_sees_all_organizations_together_or_one(staff_client, books, other_books):
    created_by_organization(books, other_books)

    everything = staff_client.get(DASHBOARD).content.decode()
    acme = staff_client.get(DASHBOARD, {"org": "acme"}).content.decode()

    assert '<option value="" selected>All organizations</option>' in everything
    assert ">19</td>" in comparison_row(everything, "Vouchers created")
    assert ">12</td>" in comparison_row(acme, "Vouchers created")


def test_adoption_is_shown_for_the_chosen_organization(client, books, other_books):
    user_active_mark(user=UserFactory(), channel=CONFIG, organization=books.organization)
    user_active_mark(user=UserFactory(), channel=LEGACY, organization=other_books.organization)
    staff_administering(client, other_books)

    series = client.get(DASHBOARD).context["adoption"]

    today = series[-1]
    assert (today.active_users, today.config_users, today.legacy_users) == (1, 0, 1)


def test_staff_administering_no_organization_are_refused(client, books):
    user = books.member(Role.ACCOUNTANT)
    user.is_staff = True
    user.save()
    client.force_login(user)

    refused = client.get(DASHBOARD)

    assert refused.status_code == 403
    assert "you administer none" in refused.content.decode()


def test_dashboard_queries_for_an_organization_admin_do_not_grow_with_the_data(
    client, books, other_books, django_assert_max_num_queries
):
    created_by_organization(books, other_books)
    for code in ("JV", "SV", "RV"):
        metric_count(
            name="voucher_created",
            channel=CONFIG,
            voucher_type=code,
            organization=other_books.organization,
        )
    staff_administering(client, books, other_books)

    with django_assert_max_num_queries(15):
        assert client.get(DASHBOARD, {"window": "30d", "org": "rival"}).status_code == 200
