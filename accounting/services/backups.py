"""Database backup and restore for the two databases we run on, before a migration or a rollback.

SQLite is copied with its online backup API (consistent while the site runs); PostgreSQL with
pg_dump's custom format and restored with pg_restore.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from django.db import connection
from django.utils import timezone


class BackupError(Exception):
    pass


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    settings = connection.settings_dict
    args = ["--dbname", settings["NAME"]]
    if settings.get("HOST"):
        args += ["--host", settings["HOST"]]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", settings["USER"]]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools are needed)")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def default_backup_path(directory: Path, now: datetime | None = None) -> Path:
    stamp = (now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    return directory / f"db-{stamp}.{suffix}"


def database_backup(*, output: Path) -> Path:
    if connection.in_atomic_block:
        # A copy taken inside a transaction would hold its uncommitted rows (or, on SQLite, wait
        # for the transaction forever).
        raise BackupError("a backup must be taken outside a transaction")
    output.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(output)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        args, env = _pg_environment()
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(output), *args], env)
    else:  # pragma: no cover - only the two databases are supported
        raise BackupError(f"backups of {connection.vendor} are not supported")
    return output


def database_restore(*, source: Path) -> None:
    """Replaces the current database's contents with a backup's."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if connection.vendor == "sqlite":
        backup = sqlite3.connect(source)
        try:
            if backup.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite database")
            connection.ensure_connection()
            backup.backup(connection.connection)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup: {exc}") from exc
        finally:
            backup.close()
    elif connection.vendor == "postgresql":
        args, env = _pg_environment()
        connection.close()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(source),
            ],
            env,
        )
    else:  # pragma: no cover
        raise BackupError(f"restores of {connection.vendor} are not supported")
