"""/healthz answers a load balancer before the host check, the HTTPS redirect and the session."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["ledger.example.com"]
    settings.SECURE_SSL_REDIRECT = True


def test_healthz_is_ok_on_a_good_database_and_touches_no_session(db, client, production_like):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/healthz", HTTP_HOST="ledger.example.com", secure=True)
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert response["Cache-Control"] == "no-store"
    assert [q["sql"] for q in captured] == ["SELECT 1"]
    assert "sessionid" not in response.cookies


def test_healthz_answers_a_wrong_host_over_plain_http_with_the_redirect_on(
    db, client, production_like
):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert (response.status_code, response.content) == (200, b"ok\n")
    # Any other page from that host over http is refused or redirected, as before.
    assert client.get("/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    redirected = client.get("/login/", HTTP_HOST="ledger.example.com")
    assert (redirected.status_code, redirected["Location"]) == (
        301,
        "https://ledger.example.com/login/",
    )


def test_healthz_is_503_naming_the_database_when_it_is_unreachable(db, client, production_like):
    refused = OperationalError("connection to server at 127.0.0.1 refused")
    with mock.patch.object(connection, "cursor", side_effect=refused):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable (OperationalError)\n"


def test_healthz_checks_the_shared_cache_when_one_is_configured(db, client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content.decode().startswith("cache unavailable (")


def test_only_get_and_head_are_answered(db, client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 404
