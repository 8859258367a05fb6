"""The one entry URL per type, end to end: which UI answers, what is counted, and the rollback."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.urls import reverse
from waffle.models import Flag

from accounting.models import LedgerEntry, Membership, Role, Voucher, VoucherStatus
from accounting.services.drafts import voucher_draft_create
from accounting.services.organizations import period_set_closed
from legacy_entry.screen_forms import LegacyForms
from rollout.models import ChannelUserDay, MetricMinute
from rollout.routing import FLAG_NAME
from tests.voucher_config.test_entry_helpers import edit_url, entry_data, new_url
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_update, seed_organization


@pytest.fixture
def accountant(books, client):
    seed_organization(organization=books.organization)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def set_flag(**fields):
    Flag.objects.filter(name=FLAG_NAME).update(**fields)
    Flag.objects.get(name=FLAG_NAME).flush()  # update() skips the save that clears the cache


def channel_of(response) -> str:
    body = response.content.decode()
    assert response.status_code == 200, body[:500]
    channel = response["X-Entry-Channel"]
    assert type(channel) is str  # a WSGI server refuses any other header type with a 500
    assert f'data-entry-channel="{channel}"' in body
    return channel


def counted(name, channel, **filters) -> int:
    rows = MetricMinute.objects.filter(name=name, channel=channel, **filters)
    return rows.aggregate(n=Sum("count"))["n"] or 0


def legacy_post_data(type_code="PV", action="post", **header):
    data = LegacyForms.raw_data(
        type_code=type_code,
        header={"date": "2026-03-15", "bank_account": "1120", **header},
        lines=[{"account": "5200", "amount": "125.00", "description": "Rent"}],
    )
    data["action"] = action
    return data


def test_flag_off_serves_legacy_everywhere(accountant, client):
    for code in ["JV", "PV", "RV", "CV", "SV", "PU", "DN", "CN"]:
        assert channel_of(client.get(new_url(code))) == "legacy"
    assert counted("form_load_ms", "legacy") == 8


def test_flag_for_a_group_serves_that_group_the_config_ui(books, client, accountant):
    testers = Group.objects.get(name="Voucher UI testers")
    Flag.objects.get(name=FLAG_NAME).groups.add(testers)
    assert channel_of(client.get(new_url("PV"))) == "legacy"
    accountant.groups.add(testers)
    assert channel_of(client.get(new_url("PV"))) == "config"


def test_an_inactive_config_falls_back_to_legacy_and_is_counted(books, client, accountant):
    set_flag(everyone=True)
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    config_update(config=config, definition=config.definition, is_active=False)
    assert channel_of(client.get(new_url("PV"))) == "legacy"
    assert counted("fallback", "legacy", voucher_type="PV", reason="no active config") == 1
    assert channel_of(client.get(new_url("RV"))) == "config"


def test_created_and_posted_vouchers_are_counted_per_channel(books, client, accountant):
    set_flag(everyone=True)
    response = client.post(new_url("PV"), entry_data(books, "PV", action="post"))
    assert response.status_code == 302
    set_flag(everyone=False)
    response = client.post(new_url("PV"), legacy_post_data())
    assert response.status_code == 302
    for channel in ("config", "legacy"):
        assert counted("voucher_created", channel, voucher_type="PV") == 1
        assert counted("voucher_posted", channel, voucher_type="PV") == 1
    assert set(Voucher.objects.values_list("entry_channel", flat=True)) == {"config", "legacy"}


def test_every_metric_of_an_entry_request_is_recorded_under_its_organization(
    books, other_books, client, accountant
):
    set_flag(everyone=True)
    client.get(new_url("PV"))
    client.post(new_url("PV"), entry_data(books, "PV", action="post"))
    client.post(
        "/metrics/beacon/", {"kind": "load", "channel": "config", "type": "PV", "ms": "300"}
    )
    client.post("/logout/")

    assert set(MetricMinute.objects.values_list("name", flat=True)) == {
        "form_load_ms",
        "voucher_created",
        "voucher_posted",
        "browser_load_ms",
        "session_ms",
    }
    assert set(MetricMinute.objects.values_list("organization", flat=True)) == {
        books.organization.pk
    }
    assert list(ChannelUserDay.objects.values_list("organization", flat=True)) == [
        books.organization.pk
    ]


def test_a_user_entering_in_two_organizations_is_marked_active_in_each(
    books, other_books, client, accountant
):
    from accounting.middleware import SESSION_KEY

    seed_organization(organization=other_books.organization)
    Membership.objects.create(
        user=accountant, organization=other_books.organization, role=Role.ACCOUNTANT
    )
    set_flag(everyone=False)
    client.get(new_url("PV"))
    session = client.session
    session[SESSION_KEY] = other_books.organization.pk
    session.save()
    client.get(new_url("PV"))

    assert set(ChannelUserDay.objects.values_list("organization", "channel")) == {
        (books.organization.pk, "legacy"),
        (other_books.organization.pk, "legacy"),
    }


@pytest.mark.parametrize("flag_on", [True, False], ids=["config", "legacy"])
def test_a_failed_post_is_counted_with_its_reason(books, client, accountant, flag_on):
    set_flag(everyone=flag_on)
    march = books.fiscal_year.periods.get(number=3)
    period_set_closed(period=march, closed=True)
    data = entry_data(books, "PV", action="post") if flag_on else legacy_post_data()
    response = client.post(new_url("PV"), data)
    assert response.status_code == 422
    assert "closed period" in response.content.decode()
    channel = "config" if flag_on else "legacy"
    assert counted("post_failed", channel, voucher_type="PV", reason="closed_period") == 1
    assert counted("voucher_posted", channel) == 0
    assert not LedgerEntry.objects.exists()


def test_rollback_config_draft_opens_and_posts_in_legacy(books, client, accountant):
    set_flag(everyone=True)
    client.post(new_url("PV"), entry_data(books, "PV", action="save"))
    draft = Voucher.objects.get()
    assert (draft.entry_channel, draft.status) == ("config", VoucherStatus.DRAFT)

    set_flag(everyone=False)  # the immediate rollback: one toggle
    page = client.get(edit_url(draft.pk))
    assert channel_of(page) == "legacy"
    assert 'value="1120"' in page.content.decode()

    data = LegacyForms.raw_data(
        type_code="PV",
        header={"date": draft.date.isoformat(), "bank_account": "1120"},
        lines=[
            {
                "account": line.account.code,
                "amount": line.data["amount"],
                "description": line.description,
            }
            for line in draft.lines.exclude(data__has_key="generated")
        ],
    )
    data["action"] = "post"
    response = client.post(edit_url(draft.pk), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.POSTED and draft.number == "PV-2026-00001"


def test_both_screens_refuse_a_clerk_s_post_with_the_same_rule(books, client):
    seed_organization(organization=books.organization)
    client.force_login(books.member(Role.CLERK))
    for flag_on, data in (
        (True, entry_data(books, "PV", action="post")),
        (False, legacy_post_data()),
    ):
        set_flag(everyone=flag_on)
        response = client.post(new_url("PV"), data)
        assert served_by(response) == ("config" if flag_on else "legacy")
        assert response.status_code == 403
        assert "To post a payment voucher you need the Accountant role" in response.content.decode()
    assert not Voucher.objects.exists()


def test_a_viewer_is_turned_away_before_either_screen(books, client):
    seed_organization(organization=books.organization)
    client.force_login(books.member(Role.VIEWER))
    for flag_on in (True, False):
        set_flag(everyone=flag_on)
        response = client.get(new_url("PV"))
        assert response.status_code == 403
        assert "X-Entry-Channel" not in response  # the router answered; no screen ran


def test_neither_screen_acts_on_another_organizations_draft(rf, books, other_books):
    """The router finds no such voucher (404); and were a screen handed one, the ledger's entry
    service refuses it, so neither screen relies on the router alone."""
    from django.contrib.messages.storage.fallback import FallbackStorage

    from legacy_entry.views import legacy_entry_page
    from voucher_config.views.page import config_entry_page

    seed_organization(organization=other_books.organization)
    theirs = voucher_draft_create(
        organization=other_books.organization,
        voucher_input=other_books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code="JV"),
    )
    user = books.member(Role.ADMIN)

    def request_for(data):
        request = rf.post(edit_url(theirs.pk), data)
        request.user, request.organization = user, books.organization
        request.membership = user.memberships.get()
        request.session, request.htmx = {}, False
        request._messages = FallbackStorage(request)
        return request

    lines = [{"account": "5200", "debit": "1.00"}, {"account": "1120", "credit": "1.00"}]
    legacy = LegacyForms.raw_data(type_code="JV", header={"date": "2026-03-15"}, lines=lines)
    response = legacy_entry_page(
        request_for({**legacy, "action": "save"}), voucher_type=theirs.voucher_type, voucher=theirs
    )
    assert response.status_code == 403
    assert "belongs to another organization" in response.content.decode()

    config = VoucherTypeConfig.objects.get(
        organization=other_books.organization, voucher_type__code="JV"
    )
    theirs.entry_channel = "config"
    theirs.config_version = config.version
    configured = entry_data(other_books, "JV", action="save")
    response = config_entry_page(request_for(configured), config=config, voucher=theirs)
    assert response.status_code == 403
    assert "belongs to another organization" in response.content.decode()

    assert Voucher.objects.get(pk=theirs.pk).history.count() == 1  # never changed


def test_the_router_finds_no_other_organizations_draft_whatever_the_flag(
    books, other_books, client, accountant
):
    theirs = voucher_draft_create(
        organization=other_books.organization,
        voucher_input=other_books.entry(("5200", "1.00", ""), ("1120", "", "1.00")),
    )
    for flag_on in (True, False):
        set_flag(everyone=flag_on)
        assert client.get(edit_url(theirs.pk)).status_code == 404
        assert client.post(edit_url(theirs.pk), legacy_post_data()).status_code == 404


def entry_form(html: str) -> tuple[str, dict[str, str]]:
    """The entry form of a page, as a browser submits it: its action and its hidden fields."""
    for attributes, body in re.findall(r"<form([^>]*)>(.*?)</form>", html, re.S):
        if 'name="entry_screen"' in body:
            action = re.search(r'action="([^"]+)"', attributes)
            assert action, "the entry form has no action"
            hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
            return action.group(1), dict(hidden)
    raise AssertionError("the page has no entry form")


def served_by(response) -> str:
    return response["X-Entry-Channel"]


def test_a_voucher_posted_through_the_legacy_form_is_counted_in_metrics(books, client, accountant):
    """Posted as a browser posts it: to the form's own action, with the form's hidden fields,
    from the legacy screen's own address; then read as Prometheus reads it."""
    set_flag(everyone=False)
    page = client.get(reverse("legacy-entry-new", args=["PV"])).content.decode()
    action, hidden = entry_form(page)

    response = client.post(action, {**legacy_post_data(), **hidden})

    assert response.status_code == 302
    accountant.is_staff = accountant.is_superuser = True
    accountant.save()
    scraped = client.get("/metrics").content.decode()
    labels = 'channel="legacy",organization="acme",type="PV"'
    assert f"voucher_entry_created_total{{{labels}}} 1.0" in scraped
    assert f"voucher_entry_posted_total{{{labels}}} 1.0" in scraped


@pytest.mark.parametrize("drawn_by", ["config", "legacy"])
def test_a_post_returns_to_the_screen_that_drew_the_form_after_the_flag_flips(
    books, client, accountant, drawn_by
):
    set_flag(everyone=drawn_by == "config")
    page = client.get(new_url("PV"))
    assert channel_of(page) == drawn_by
    typed = entry_data(books, "PV", action="post") if drawn_by == "config" else legacy_post_data()
    action, hidden = entry_form(page.content.decode())

    set_flag(everyone=drawn_by != "config")  # switched while the accountant was typing
    response = client.post(action, {**typed, **hidden})

    assert response.status_code == 302
    assert served_by(response) == drawn_by
    assert Voucher.objects.get().entry_channel == drawn_by
    assert counted("voucher_posted", drawn_by, voucher_type="PV") == 1


def test_a_forged_screen_mark_is_routed_by_the_flag(books, client, accountant):
    set_flag(everyone=False)
    data = {**legacy_post_data(), "entry_screen": "config"}  # unsigned
    response = client.post(new_url("PV"), data)
    assert response.status_code == 302
    assert served_by(response) == "legacy"


def test_a_post_to_the_legacy_address_is_refused_so_nothing_goes_uncounted(
    books, client, accountant
):
    response = client.post(reverse("legacy-entry-new", args=["PV"]), legacy_post_data())
    assert response.status_code == 405
    assert not Voucher.objects.exists()


def test_session_duration_is_recorded_at_logout_under_the_channel_used(books, client, accountant):
    set_flag(everyone=True)
    client.get(new_url("PV"))
    client.post("/logout/")
    assert counted("session_ms", "config") == 1
    assert counted("session_ms", "legacy") == 0
