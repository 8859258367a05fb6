"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from accounting.models import PartyRole
from tests.factories import Books, PartyFactory


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
    come back after a rollback, so one test's count would otherwise reach the next."""
    cache.clear()


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
