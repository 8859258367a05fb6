"""What every process shares through the cache: the flag, the configurations, the sessions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from waffle.models import Flag

from config import db_router
from config.db_router import ReportReplicaRouter, report_reads
from rollout.routing import FLAG_NAME
from voucher_config.config_cache import config_cache_key, type_config_cached
from voucher_config.services import seed_organization

ROOT = Path(__file__).resolve().parents[2]


def test_the_configuration_is_read_once_then_from_the_cache(
    books, django_assert_num_queries, django_capture_on_commit_callbacks
):
    seed_organization(organization=books.organization)
    with django_assert_num_queries(1):
        first = type_config_cached(organization=books.organization, type_code="PV")
    with django_assert_num_queries(0):
        again = type_config_cached(organization=books.organization, type_code="PV")
    assert (again.pk, again.version, again.voucher_type.code) == (first.pk, first.version, "PV")
    with django_assert_num_queries(0):
        assert type_config_cached(organization=books.organization, type_code="PV") is not None


def test_saving_a_configuration_deletes_its_cached_copy_now_and_at_commit(
    books, django_capture_on_commit_callbacks
):
    seed_organization(organization=books.organization)
    config = type_config_cached(organization=books.organization, type_code="PV")
    key = config_cache_key(organization_id=books.organization.pk, type_code="PV")
    assert cache.get(key) is not None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        config.is_active = False
        config.save()
        assert cache.get(key) is None
        type_config_cached(organization=books.organization, type_code="PV")  # a racing reader
    assert callbacks  # deleted again when the save committed
    assert cache.get(key) is None
    assert type_config_cached(organization=books.organization, type_code="PV").is_active is False


def test_a_type_without_configuration_is_remembered_and_forgotten_when_one_is_added(books):
    assert type_config_cached(organization=books.organization, type_code="PV") is None
    key = config_cache_key(organization_id=books.organization.pk, type_code="PV")
    assert cache.get(key) == "none"
    seed_organization(organization=books.organization)
    assert type_config_cached(organization=books.organization, type_code="PV") is not None


def test_saving_a_flag_deletes_its_cache_key_so_every_process_reads_it_again(
    db, django_capture_on_commit_callbacks
):
    flag, _ = Flag.objects.update_or_create(name=FLAG_NAME, defaults={"everyone": False})
    flag.flush()
    assert Flag.get(FLAG_NAME).everyone is False
    key = Flag._cache_key(FLAG_NAME)
    assert cache.get(key) is not None
    with django_capture_on_commit_callbacks(execute=True):
        flag.everyone = True
        flag.save()
    assert cache.get(key) is None
    assert Flag.get(FLAG_NAME).everyone is True


def test_sessions_are_read_from_the_cache(books, client, django_assert_max_num_queries):
    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    client.force_login(books.member("viewer"))
    client.get("/")
    with django_assert_max_num_queries(10) as captured:
        client.get("/")
    assert not [q for q in captured if "django_session" in q["sql"]]


SNIPPET = """
from waffle.models import Flag
from django.db import transaction
flag, _ = Flag.objects.get_or_create(name={name!r})
with transaction.atomic():
    flag.everyone = {on}
    flag.save()
"""
READ = "from waffle.models import Flag; print(Flag.get({name!r}).everyone)"


@pytest.mark.slow
def test_a_toggle_in_one_process_reaches_another_through_redis(tmp_path):
    """Two processes sharing a SQLite file and Redis: the second reads the flag (caching it),
    the first toggles it, the second's next read sees the toggle, with no wait."""
    redis = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True)
    if redis.stdout.strip() != b"PONG":
        pytest.skip("no redis-server on 127.0.0.1:6379")
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_CACHE_KEY_PREFIX": f"toggle-test-{os.getpid()}",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    manage("migrate", "--noinput", "--verbosity", "0")
    manage("shell", "-c", SNIPPET.format(name=FLAG_NAME, on=False))
    assert manage("shell", "-c", READ.format(name=FLAG_NAME)) == "False"  # now cached in Redis
    manage("shell", "-c", SNIPPET.format(name=FLAG_NAME, on=True))
    assert manage("shell", "-c", READ.format(name=FLAG_NAME)) == "True"


def test_reports_read_from_the_replica_when_one_is_configured(monkeypatch):
    router = ReportReplicaRouter()
    assert router.db_for_read(Flag) is None
    with report_reads():
        assert router.db_for_read(Flag) is None  # no replica configured: the primary
        monkeypatch.setitem(django_settings.DATABASES, "replica", {})
        assert router.db_for_read(Flag) == "replica"
        assert router.db_for_write(Flag) is None
    assert router.db_for_read(Flag) is None
    assert router.allow_migrate("replica", "accounting") is False


def test_the_report_pages_and_only_they_read_inside_report_reads(books, client, monkeypatch):
    seen: list[tuple[str, bool]] = []
    real = db_router.ReportReplicaRouter.db_for_read

    def spy(self, model, **hints):
        seen.append((model.__name__, db_router._reading_reports.get()))
        return real(self, model, **hints)

    monkeypatch.setattr(db_router.ReportReplicaRouter, "db_for_read", spy)
    client.force_login(books.member("viewer"))
    assert client.get("/reports/trial-balance/").status_code == 200
    assert ("LedgerEntry", True) in seen
    seen.clear()
    assert client.get("/vouchers/").status_code == 200
    assert seen and not any(reading for _, reading in seen)


def test_the_redis_cache_reuses_one_client_per_pool_and_reads_back_what_it_wrote():
    from redis import exceptions as redis_errors

    from config.redis_cache import RedisCache

    shared = RedisCache("redis://127.0.0.1:6379/5", {"KEY_PREFIX": f"client-reuse-{os.getpid()}"})
    client = shared._cache.get_client(write=True)
    assert shared._cache.get_client(write=True) is client
    assert shared._cache.get_client() is shared._cache.get_client()
    try:
        shared.set("answer", {"posted": 3}, 30)
    except redis_errors.ConnectionError:  # no Redis here: the reuse is checked above
        pytest.skip("no Redis at 127.0.0.1:6379")
    try:
        assert shared.get("answer") == {"posted": 3}
        assert shared.get_many(["answer", "missing"]) == {"answer": {"posted": 3}}
    finally:
        shared.delete("answer")
