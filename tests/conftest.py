"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save

from accounting.models import PartyRole
from accounting.services import facts
from rollout.metrics import recording
from tests.factories import Books, PartyFactory


def pytest_configure(config):
    """With a shared cache (REDIS_URL), each test worker keeps to its own keys: the workers'
    databases hold different rows under the same ids."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    default = django_settings.CACHES["default"]
    default["KEY_PREFIX"] = f"{default.get('KEY_PREFIX', '')}-test-{worker}-{os.getpid()}"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests skip on SQLite; on PostgreSQL they always run."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def plain_http(settings):
    """The test client speaks plain HTTP; production redirects it to HTTPS."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counts kept in the cache (the beacon's budget) start at zero in every test: user ids
    come back after a rollback, so one test's count would otherwise reach the next. On Redis
    only this worker's keys are deleted (a FLUSHDB would empty the other workers' too)."""
    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def nothing_remembered_of_the_facts():
    """Each test starts with no entry facts remembered from another test's books."""
    facts._remembered.clear()


def flush_flag_at_once(sender, instance, **kwargs):
    instance.flush()


@pytest.fixture(autouse=True)
def flag_changes_reach_the_cache():
    """waffle deletes a saved flag's cache key when the save commits; a test's transaction never
    commits, so here it is deleted at the save itself (tests/serving shows the real commit)."""
    from waffle.models import Flag

    for signal in (post_save, post_delete):
        signal.connect(flush_flag_at_once, sender=Flag, dispatch_uid="tests.flag_flush")
    yield
    for signal in (post_save, post_delete):
        signal.disconnect(sender=Flag, dispatch_uid="tests.flag_flush")


@pytest.fixture(autouse=True)
def metrics_written_at_once(settings):
    """Tests read the metric rows right after recording, so events are written as they come;
    the buffering itself is tested in tests/rollout/test_metrics_buffer.py."""
    settings.VOUCHER_METRICS_FLUSH_SECONDS = 0
    recording.PENDING.take()
    yield
    recording.PENDING.take()  # what a test left pending would name rows rolled back since


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def books(db) -> Books:
    return Books()


@pytest.fixture
def other_books(db) -> Books:
    return Books(slug="rival")


@pytest.fixture
def parties(books) -> dict:
    """A customer and a supplier of `books`, on the receivable and payable control accounts."""
    return {
        "customer": PartyFactory(
            organization=books.organization,
            code="C001",
            name="Northwind Traders",
            role=PartyRole.CUSTOMER,
            control_account=books.account("1200"),
        ),
        "supplier": PartyFactory(
            organization=books.organization,
            code="S001",
            name="Acme Supplies",
            role=PartyRole.SUPPLIER,
            control_account=books.account("2100"),
        ),
    }
