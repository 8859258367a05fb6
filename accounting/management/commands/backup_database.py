"""Backs up the database (SQLite file copy or pg_dump) before a migration or deployment."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.services.backups import BackupError, database_backup, default_backup_path


class Command(BaseCommand):
    help = "Write a consistent backup of the database (SQLite or PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", help="File to write (default: var/backups/db-<timestamp>.<ext>)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = (
            Path(options["output"])
            if options["output"]
            else default_backup_path(Path(settings.BASE_DIR) / "var" / "backups")
        )
        try:
            written = database_backup(output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backup written to {written} ({written.stat().st_size:,} bytes)")
