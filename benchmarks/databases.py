"""Fresh, empty databases for one benchmark run: a temporary SQLite file or a new PostgreSQL db."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit, urlunsplit

# The peers of BENCHMARKS.md were measured over the local socket; TCP when there is none.
LOCAL_SOCKET = "/var/run/postgresql/.s.PGSQL.5432"
SOCKET_URL = "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres"
TCP_URL = "postgres://postgres@127.0.0.1:5432/postgres"
VENDORS = {"sqlite": "sqlite", "postgres": "postgresql"}


def postgres_admin_url() -> str:
    """Where databases are created and dropped: BENCH_POSTGRES_URL, else the local server."""
    default = SOCKET_URL if os.path.exists(LOCAL_SOCKET) else TCP_URL
    return os.environ.get("BENCH_POSTGRES_URL", default)


def postgres_host() -> str | None:
    """The host (or socket directory) of the benchmark server, for a peer to use the same."""
    return unquote(urlsplit(postgres_admin_url()).hostname or "") or None


def postgres_where() -> str:
    """The server the PostgreSQL runs use, for the report (no password)."""
    parts = urlsplit(postgres_admin_url())
    host = unquote(parts.hostname or "") or "the default socket"
    return f"{host}:{parts.port}" if parts.port else host


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    """A new SQLite file; settings switch it to WAL with IMMEDIATE transactions, as in production."""
    directory = tempfile.mkdtemp(prefix="bench_sqlite_")
    try:
        yield f"sqlite:///{os.path.join(directory, 'bench.sqlite3')}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class DatabaseUnavailable(Exception):
    """The PostgreSQL server cannot be reached to make a benchmark database."""


@contextmanager
def fresh_postgres(run: int) -> Iterator[str]:
    """A new database `bench_<pid>_<run>` on the server, dropped afterwards whatever happens."""
    import psycopg

    admin_url = postgres_admin_url()
    name = f"bench_{os.getpid()}_{run}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(str(exc).strip()) from exc
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(db: str, run: int) -> Iterator[str]:
    """The DATABASE_URL of a fresh database of the given kind ("sqlite" or "postgres")."""
    if db == "sqlite":
        with fresh_sqlite() as url:
            yield url
    elif db == "postgres":
        with fresh_postgres(run) as url:
            yield url
    else:
        raise ValueError(f"unknown database {db!r}; use sqlite or postgres")
