"""Login protection: wrong passwords lock a username at one client address, on both login pages."""

from __future__ import annotations

import re
import runpy
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"
PASSWORD = "correct-horse-battery"  # what UserFactory sets
HOME = "203.0.113.10"
ELSEWHERE = "203.0.113.20"
PROXY = "10.0.0.1"
LOGIN_PAGES = ["/login/", "/admin/login/"]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_staff=True)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", is_staff=True)


def log_in(client: Client, page: str, username: str, password: str, **meta: str):
    return client.post(page, {"username": username, "password": password}, **meta)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail_until_locked(client: Client, page: str, username: str = "alice", **meta: str):
    """Enough wrong passwords to lock `username` at the address `meta` gives."""
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        response = log_in(client, page, username, "wrong-password", **meta)
    assert response.status_code == 429
    return response


def settings_from_environment(monkeypatch, **environ: str) -> dict:
    """config/settings.py as it reads with these environment variables."""
    for name in (
        "DJANGO_LOGIN_FAILURE_LIMIT",
        "DJANGO_LOGIN_COOLOFF_MINUTES",
        "DJANGO_CLIENT_IP_HEADER",
        "DJANGO_TRUSTED_PROXY_COUNT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, alice, page):
    answers = [
        log_in(client, page, "alice", f"guess-{n}", REMOTE_ADDR=HOME).status_code for n in range(30)
    ]

    response = log_in(client, page, "alice", PASSWORD, REMOTE_ADDR=HOME)

    limit = django_settings.AXES_FAILURE_LIMIT
    assert answers == [200] * (limit - 1) + [429] * (30 - limit + 1)
    assert response.status_code == 429
    assert not signed_in(client)
    assert "Login locked" in response.text


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_fewer_wrong_passwords_than_the_limit_do_not_lock(client, alice, page):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, page, "alice", "wrong-password", REMOTE_ADDR=HOME)

    response = log_in(client, page, "alice", PASSWORD, REMOTE_ADDR=HOME)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_successful_login_forgets_the_earlier_failures(alice):
    almost = django_settings.AXES_FAILURE_LIMIT - 1
    for _ in range(2):
        client = Client()
        for _ in range(almost):
            log_in(client, "/login/", "alice", "wrong-password", REMOTE_ADDR=HOME)
        assert log_in(client, "/login/", "alice", PASSWORD, REMOTE_ADDR=HOME).status_code == 302

    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("page", LOGIN_PAGES)
def test_the_lockout_page_says_what_is_locked_where_for_how_long_and_whom_to_ask(
    client, alice, page
):
    response = fail_until_locked(client, page, REMOTE_ADDR=HOME)

    text = " ".join(response.text.split())
    assert response.status_code == 429
    assert "alice" in text and HOME in text
    assert f"after {django_settings.AXES_FAILURE_LIMIT} wrong passwords" in text
    assert "lasts 15 minutes after the last failed attempt" in text
    assert "ask an administrator to unlock" in text
    # The site's Content-Security-Policy refuses inline style and script.
    assert "style-src 'self'" in response["Content-Security-Policy"]
    assert " style=" not in response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)


def test_another_address_or_another_username_is_not_locked(alice, bob):
    fail_until_locked(Client(), "/login/", REMOTE_ADDR=HOME)

    from_elsewhere = Client()
    other_user = Client()
    assert (
        log_in(from_elsewhere, "/login/", "alice", PASSWORD, REMOTE_ADDR=ELSEWHERE).status_code
        == 302
    )
    assert log_in(other_user, "/login/", "bob", PASSWORD, REMOTE_ADDR=HOME).status_code == 302
    assert signed_in(from_elsewhere) and signed_in(other_user)


def test_the_lock_ends_when_the_cool_off_has_passed(client, alice):
    fail_until_locked(client, "/login/", REMOTE_ADDR=HOME)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )

    response = log_in(client, "/login/", "alice", PASSWORD, REMOTE_ADDR=HOME)

    assert response.status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(
    "command",
    [
        ["axes_reset_username", "alice"],
        ["axes_reset_ip_username", HOME, "alice"],
        ["axes_reset_ip", HOME],
        ["axes_reset"],
    ],
    ids=lambda argv: argv[0],
)
def test_the_unlock_commands_lift_the_lock(client, alice, command):
    fail_until_locked(client, "/login/", REMOTE_ADDR=HOME)

    out = StringIO()
    call_command(*command, stdout=out)

    assert "1 attempts removed" in out.getvalue()
    assert not AccessAttempt.objects.exists()
    assert log_in(client, "/login/", "alice", PASSWORD, REMOTE_ADDR=HOME).status_code == 302


def test_unlocking_another_user_leaves_the_lock(client, alice, bob):
    fail_until_locked(client, "/login/", REMOTE_ADDR=HOME)

    call_command("axes_reset_username", "bob", stdout=StringIO())

    assert log_in(client, "/login/", "alice", PASSWORD, REMOTE_ADDR=HOME).status_code == 429
    assert not signed_in(client)


# --- the client's address behind a reverse proxy ---------------------------------------------


@pytest.fixture
def behind_one_proxy(settings, monkeypatch):
    """The settings DJANGO_CLIENT_IP_HEADER=HTTP_X_FORWARDED_FOR, DJANGO_TRUSTED_PROXY_COUNT=1 give."""
    configured = settings_from_environment(
        monkeypatch, DJANGO_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR", DJANGO_TRUSTED_PROXY_COUNT="1"
    )
    for name in ("AXES_IPWARE_META_PRECEDENCE_ORDER", "AXES_IPWARE_PROXY_COUNT", "IPWARE_STRICT"):
        setattr(settings, name, configured[name])


def test_behind_the_proxy_two_forwarded_clients_are_locked_apart(alice, behind_one_proxy):
    fail_until_locked(Client(), "/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")

    other_client = Client()
    response = log_in(
        other_client,
        "/login/",
        "alice",
        PASSWORD,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )

    assert response.status_code == 302
    assert signed_in(other_client)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


def test_behind_the_proxy_an_address_the_client_wrote_into_the_header_is_passed_over(
    alice, behind_one_proxy
):
    locked = fail_until_locked(
        Client(), "/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert "198.51.100.7" in locked.text

    # The proxy appends the address it was reached from after whatever the client sent.
    client = Client()
    response = log_in(
        client,
        "/login/",
        "alice",
        PASSWORD,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.99, 198.51.100.7",
    )

    assert response.status_code == 429
    assert not signed_in(client)


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(alice):
    fail_until_locked(Client(), "/login/", REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR="198.51.100.7")

    client = Client()
    response = log_in(
        client, "/login/", "alice", PASSWORD, REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR="198.51.100.8"
    )

    assert response.status_code == 429
    assert not signed_in(client)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [HOME]


# --- the settings, from the environment ------------------------------------------------------


def test_the_limit_and_cool_off_come_from_the_environment(monkeypatch):
    defaults = settings_from_environment(monkeypatch)
    configured = settings_from_environment(
        monkeypatch, DJANGO_LOGIN_FAILURE_LIMIT="8", DJANGO_LOGIN_COOLOFF_MINUTES="60"
    )

    assert (defaults["AXES_FAILURE_LIMIT"], defaults["AXES_COOLOFF_TIME"]) == (
        5,
        timedelta(minutes=15),
    )
    assert (configured["AXES_FAILURE_LIMIT"], configured["AXES_COOLOFF_TIME"]) == (
        8,
        timedelta(minutes=60),
    )
    assert defaults["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert defaults["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ["REMOTE_ADDR"]


def test_a_lower_limit_locks_sooner(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 2

    answers = [
        log_in(client, "/login/", "alice", "wrong-password", REMOTE_ADDR=HOME).status_code
        for _ in range(2)
    ]

    assert answers == [200, 429]


def test_two_trusted_proxies_read_the_client_two_places_from_the_right(
    alice, settings, monkeypatch
):
    configured = settings_from_environment(
        monkeypatch, DJANGO_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR", DJANGO_TRUSTED_PROXY_COUNT="2"
    )
    for name in ("AXES_IPWARE_META_PRECEDENCE_ORDER", "AXES_IPWARE_PROXY_COUNT", "IPWARE_STRICT"):
        setattr(settings, name, configured[name])

    # A CDN reached by the client, then our proxy reached by the CDN (192.0.2.50).
    fail_until_locked(
        Client(),
        "/login/",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.99, 198.51.100.7, 192.0.2.50",
    )

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]
