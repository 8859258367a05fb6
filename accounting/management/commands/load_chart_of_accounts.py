"""Loads a chart of accounts from CSV into one organization: every row or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from accounting.services.chart import ChartRejected, chart_of_accounts_load, chart_rows_from_csv


class Command(BaseCommand):
    help = (
        "Creates or updates accounts from a CSV file with columns code,name,type,parent,subtype. "
        "Rows may come in any order; if any row is wrong nothing is saved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['org']}'.")
        path: Path = options["file"]
        try:
            rows = chart_rows_from_csv(path)
            result = chart_of_accounts_load(organization=organization, rows=rows)
        except ChartRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(f"{path.name}: {error}")
            raise CommandError(
                f"{len(rejected.errors)} problem(s) in {path.name}; nothing was saved."
            ) from rejected
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Chart of accounts loaded into {organization.slug}: "
                f"{result.created} created, {result.updated} updated."
            )
        )
