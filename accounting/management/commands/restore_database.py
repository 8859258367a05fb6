"""Restores a backup written by backup_database, replacing the current database's contents."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.services.backups import BackupError, database_restore


class Command(BaseCommand):
    help = "Replace the database with a backup made by backup_database. Needs --yes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", help="The backup file.")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: the current data will be replaced."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                "This replaces every row in the database with the backup's. Add --yes to proceed."
            )
        try:
            database_restore(source=Path(options["backup"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Database restored from {options['backup']}")
