"""Announcements: an administrator publishes a notice, each user of the organization sees it
until they dismiss it once, and a page on warm caches reads no more for it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.models import Role
from rollout.routing import FLAG_NAME
from support.announcements import announcement_publish, notices_for
from support.models import Announcement, AnnouncementDismissal
from tests.voucher_config.test_entry_helpers import new_url, seed

PAGE = reverse("support-announcements")
HOME = reverse("home")


def dismiss(pk: int) -> str:
    return reverse("announcement-dismiss", args=[pk])


def withdraw(pk: int) -> str:
    return reverse("support-announcement-withdraw", args=[pk])


def test_an_administrator_publishes_and_every_member_sees_it_until_dismissed(books, client):
    admin = books.member(Role.ADMIN)
    client.force_login(admin)
    response = client.post(
        PAGE, {"title": "New entry screen", "message": "It is on for you from Monday."}
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert announcement.published_by == admin

    clerk = books.member(Role.CLERK)
    client.force_login(clerk)
    html = client.get(HOME).content.decode()
    assert "New entry screen" in html and "It is on for you from Monday." in html
    assert 'aria-label="Dismiss the announcement' in html

    gone = client.post(dismiss(announcement.pk), {"next": "/vouchers/"})
    assert gone.status_code == 302 and gone["Location"] == "/vouchers/"
    assert "New entry screen" not in client.get(HOME).content.decode()
    assert AnnouncementDismissal.objects.filter(user=clerk).count() == 1
    # Dismissing twice stores it once.
    client.post(dismiss(announcement.pk))
    assert AnnouncementDismissal.objects.count() == 1

    # Another member still sees it.
    client.force_login(books.member(Role.VIEWER))
    assert "New entry screen" in client.get(HOME).content.decode()


def test_withdrawn_announcements_leave_every_page_and_keep_their_history(books, client):
    admin = books.member(Role.ADMIN)
    announcement = announcement_publish(
        organization=books.organization, user=admin, title="Maintenance", message="Sunday 2am"
    )
    client.force_login(admin)
    assert "Maintenance" in client.get(HOME).content.decode()
    client.post(withdraw(announcement.pk))
    announcement.refresh_from_db()
    assert announcement.withdrawn_at is not None
    assert "Sunday 2am" not in client.get(HOME).content.decode()
    reasons = list(
        announcement.history.order_by("history_date", "history_id").values_list(
            "history_change_reason", flat=True
        )
    )
    assert reasons == ["published", "withdrawn"]
    page = client.get(PAGE).content.decode()
    assert "Withdrawn" in page and "published" in page and "withdrawn" in page


def test_only_the_organizations_administrators_publish_or_withdraw(books, other_books, client):
    announcement = announcement_publish(
        organization=books.organization, user=None, title="Acme news", message="Only for Acme"
    )
    client.force_login(books.member(Role.ACCOUNTANT))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"title": "x", "message": "y"}).status_code == 403
    assert client.post(withdraw(announcement.pk)).status_code == 403

    rival_admin = other_books.member(Role.ADMIN)
    client.force_login(rival_admin)
    assert "Acme news" not in client.get(HOME).content.decode()
    assert "Acme news" not in client.get(PAGE).content.decode()
    assert client.post(withdraw(announcement.pk)).status_code == 404
    assert client.post(dismiss(announcement.pk)).status_code == 404
    announcement.refresh_from_db()
    assert announcement.withdrawn_at is None
    assert AnnouncementDismissal.objects.count() == 0


def test_an_announcement_needs_a_title_and_a_message(books, client):
    client.force_login(books.member(Role.ADMIN))
    assert client.post(PAGE, {"title": "  ", "message": "text"}).status_code == 422
    assert Announcement.objects.count() == 0


@pytest.mark.parametrize("config_screen", [True, False], ids=["config", "legacy"])
def test_on_warm_caches_a_shown_announcement_costs_an_entry_page_no_query(
    books, client, settings, config_screen, django_assert_max_num_queries
):
    settings.VOUCHER_METRICS_FLUSH_SECONDS = 3600
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    announcement_publish(
        organization=books.organization, user=None, title="Heads up", message="New screen"
    )
    client.force_login(user)
    with override_flag(FLAG_NAME, active=config_screen):
        first = client.get(new_url("PV"))
        assert "Heads up" in first.content.decode()
        with CaptureQueriesContext(connection) as captured, django_assert_max_num_queries(6):
            again = client.get(new_url("PV"))
    assert "Heads up" in again.content.decode()
    assert not [q for q in captured if "support_" in q["sql"]]


def test_publishing_and_dismissing_reach_pages_at_once(books):
    user = books.member(Role.CLERK)
    assert notices_for(user=user, organization=books.organization) == []  # cached: none
    first = announcement_publish(
        organization=books.organization, user=None, title="One", message="1"
    )
    assert [n.title for n in notices_for(user=user, organization=books.organization)] == ["One"]
    from support.announcements import announcement_dismiss

    announcement_dismiss(announcement=first, user=user)
    assert notices_for(user=user, organization=books.organization) == []
    announcement_publish(organization=books.organization, user=None, title="Two", message="2")
    assert [n.title for n in notices_for(user=user, organization=books.organization)] == ["Two"]
