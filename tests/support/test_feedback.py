"""Feedback: sent from any screen with where it came from, read and handled only by the
administrators of the sender's organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounting.models import EntryChannel, Role
from support.feedback import feedback_send
from support.models import Feedback
from tests.factories import post
from tests.voucher_config.test_entry_helpers import seed

SEND = reverse("feedback-new")
LIST = reverse("support-feedback")


def detail(pk: int) -> str:
    return reverse("support-feedback-detail", args=[pk])


def handled(pk: int) -> str:
    return reverse("support-feedback-handled", args=[pk])


@pytest.fixture
def clerk(books, client):
    user = books.member(Role.CLERK)
    client.force_login(user)
    return user


def test_feedback_keeps_the_screen_type_channel_and_load_time(books, client, clerk):
    seed(books)
    response = client.post(
        SEND,
        {
            "message": "The tab order skips the party field.",
            "path": "/vouchers/pv/new/",
            "channel": "config",
            "voucher_type": "PV",
            "load_ms": "840",
            "next": "/vouchers/PV/new/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/vouchers/PV/new/"
    feedback = Feedback.objects.get()
    assert feedback.organization == books.organization
    assert feedback.user == clerk
    assert feedback.message == "The tab order skips the party field."
    assert feedback.screen == "entry-new"
    assert feedback.voucher_type == "PV"
    assert feedback.channel == EntryChannel.CONFIG
    assert feedback.load_ms == 840
    assert feedback.handled is False


def test_feedback_from_a_voucher_page_names_its_type_read_on_the_server(books, client, clerk):
    voucher = post(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    client.post(
        SEND,
        {"message": "Why is it JV?", "path": f"/vouchers/{voucher.pk}/", "voucher_type": "XX"},
    )
    feedback = Feedback.objects.get()
    assert (feedback.screen, feedback.voucher_type, feedback.channel) == (
        "voucher-detail",
        "JV",
        "",
    )


def test_what_the_page_claims_is_kept_only_when_it_is_true(books, other_books, client, clerk):
    theirs = post(other_books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    client.post(
        SEND,
        {
            "message": "Forged",
            "path": f"/vouchers/{theirs.pk}/",  # another organization's voucher: no type read
            "channel": "import",  # not an entry screen
            "voucher_type": "ZZ",  # no such type
            "load_ms": "-5",
        },
    )
    feedback = Feedback.objects.get()
    assert (feedback.voucher_type, feedback.channel) == ("", "")
    assert feedback.load_ms is None


def test_an_empty_message_is_refused_and_an_outside_next_is_not_followed(books, client, clerk):
    refused = client.post(SEND, {"message": "   ", "path": "/"})
    assert refused.status_code == 422
    assert Feedback.objects.count() == 0
    sent = client.post(SEND, {"message": "Hello", "path": "/", "next": "https://evil.example/"})
    assert sent["Location"] == reverse("home")


def test_without_script_the_feedback_page_names_the_page_it_came_from(books, client, clerk):
    page = client.get(SEND, {"next": "/vouchers/"})
    assert page.status_code == 200
    assert 'value="/vouchers/"' in page.content.decode()
    client.post(SEND, {"message": "List is slow", "path": "", "next": "/vouchers/"})
    assert Feedback.objects.get().screen == "voucher-list"


def test_every_page_carries_the_keyboard_reachable_feedback_control(books, client, clerk):
    html = client.get(reverse("home")).content.decode()
    assert "data-feedback-open" in html and ">Send feedback</a>" in html
    assert '<dialog id="feedback-dialog"' in html
    assert "<script>" not in html and " style=" not in html


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.post(SEND, {"message": "hi"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Feedback.objects.count() == 0


# --- the administrators' list ----------------------------------------------------------------


def sent(books, user, message, *, channel="", type_code="", days_ago=0):
    feedback = feedback_send(
        organization=books.organization,
        user=user,
        message=message,
        path="/",
        channel=channel,
        voucher_type=type_code,
    )
    if days_ago:
        Feedback.objects.filter(pk=feedback.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return feedback


@pytest.fixture
def admin_client(books, client):
    admin = books.member(Role.ADMIN)
    client.force_login(admin)
    return client


def test_administrators_filter_feedback_by_channel_type_and_date(books, admin_client):
    seed(books)
    user = books.member(Role.CLERK)
    sent(books, user, "config PV today", channel="config", type_code="PV")
    sent(books, user, "legacy PV today", channel="legacy", type_code="PV")
    sent(books, user, "config RV old", channel="config", type_code="RV", days_ago=10)

    def shown(**query) -> set[str]:
        html = admin_client.get(LIST, query).content.decode()
        return {m for m in ("config PV today", "legacy PV today", "config RV old") if m in html}

    assert shown() == {"config PV today", "legacy PV today", "config RV old"}
    assert shown(channel="config") == {"config PV today", "config RV old"}
    assert shown(voucher_type="PV") == {"config PV today", "legacy PV today"}
    today = timezone.localdate()
    assert shown(start=(today - timedelta(days=2)).isoformat(), end=today.isoformat()) == {
        "config PV today",
        "legacy PV today",
    }
    assert shown(channel="config", voucher_type="RV") == {"config RV old"}


def test_marking_handled_is_kept_with_its_history(books, admin_client):
    user = books.member(Role.CLERK)
    feedback = sent(books, user, "Please add a shortcut")
    response = admin_client.post(handled(feedback.pk), {"handled": "1"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.handled and feedback.handled_by is not None and feedback.handled_at
    admin_client.post(handled(feedback.pk), {"handled": "0"})
    feedback.refresh_from_db()
    assert not feedback.handled and feedback.handled_by is None
    reasons = list(
        feedback.history.order_by("history_date", "history_id").values_list(
            "history_change_reason", "handled"
        )
    )
    assert reasons == [(None, False), ("handled", True), ("reopened", False)]
    page = admin_client.get(detail(feedback.pk)).content.decode()
    assert "handled" in page and "reopened" in page


def test_only_administrators_read_feedback(books, client):
    feedback = sent(books, books.member(Role.CLERK), "Secret")
    client.force_login(books.member(Role.ACCOUNTANT))
    assert client.get(LIST).status_code == 403
    assert client.get(detail(feedback.pk)).status_code == 403
    assert client.post(handled(feedback.pk)).status_code == 403
    assert not Feedback.objects.get().handled


def test_another_organizations_administrator_sees_none_of_it(books, other_books, client):
    feedback = sent(books, books.member(Role.CLERK), "Acme only", channel="config")
    rival_admin = other_books.member(Role.ADMIN)
    client.force_login(rival_admin)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "Acme only" not in listing.content.decode()
    assert client.get(detail(feedback.pk)).status_code == 404
    assert client.post(handled(feedback.pk), {"handled": "1"}).status_code == 404
    feedback.refresh_from_db()
    assert not feedback.handled
    # Nor does the filter for its channel or type reveal it.
    assert "Acme only" not in client.get(LIST, {"channel": "config"}).content.decode()


def test_the_rollout_dashboard_counts_feedback_per_channel(books, other_books, client):
    from accounting.models import Membership
    from tests.factories import UserFactory

    user = books.member(Role.CLERK)
    for channel, n in (("config", 3), ("legacy", 2), ("", 1)):
        for i in range(n):
            sent(books, user, f"{channel} {i}", channel=channel)
    sent(other_books, other_books.member(Role.CLERK), "rival", channel="config")
    staff = UserFactory(is_staff=True)
    Membership.objects.create(user=staff, organization=books.organization, role=Role.ADMIN)
    client.force_login(staff)
    html = client.get(reverse("metrics-dashboard")).content.decode()
    assert '<td class="num" data-feedback-legacy>2</td>' in html
    assert '<td class="num" data-feedback-config>3</td>' in html
