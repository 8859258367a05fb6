"""Prints an organization's trial balance as CSV or JSON."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounting.csv_export import csv_rows_write
from accounting.models import Organization
from accounting.reports import trial_balance


class Command(BaseCommand):
    help = (
        "Trial balance as of a date: CSV columns code,name,debit,credit (one row per account "
        "with a non-zero balance), or JSON with rows and totals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument(
            "--as-of", dest="as_of", help="Date in YYYY-MM-DD form (default: today)."
        )
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            known = ", ".join(Organization.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"No organization '{options['org']}'. Known slugs: {known}.")
        as_of = self._date(options["as_of"])
        report = trial_balance(organization=organization, as_of=as_of)
        if options["format"] == "json":
            payload = {
                "organization": organization.slug,
                "as_of": as_of.isoformat(),
                "currency": organization.base_currency,
                "rows": [
                    {
                        "code": row.code,
                        "name": row.name,
                        "account_type": row.account_type,
                        "debit": str(row.debit),
                        "credit": str(row.credit),
                    }
                    for row in report.rows
                ],
                "totals": {"debit": str(report.total_debit), "credit": str(report.total_credit)},
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        buffer = io.StringIO()
        csv_rows_write(report.csv_rows(), buffer, lineterminator="\n")
        self.stdout.write(buffer.getvalue(), ending="")

    @staticmethod
    def _date(raw: str | None) -> date:
        if not raw:
            return timezone.localdate()
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise CommandError(f"--as-of '{raw}' is not a date; use YYYY-MM-DD.") from None
