"""Opens a fiscal year with monthly accounting periods for one organization."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import FiscalYear, Organization
from accounting.services.organizations import fiscal_year_create


def _date(raw: str, option: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"{option} '{raw}' is not a date in YYYY-MM-DD form.") from exc


class Command(BaseCommand):
    help = "Creates a fiscal year with open monthly periods; refused if it overlaps another."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument(
            "--code",
            help="Code used in voucher numbers (default: the year, or e.g. 2026-27 across two).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['org']}'.")
        start, end = _date(options["start"], "--start"), _date(options["end"], "--end")
        code = options["code"]
        if code and FiscalYear.objects.filter(organization=organization, code=code).exists():
            raise CommandError(f"{organization.slug} already has a fiscal year with code {code}.")
        try:
            fiscal_year = fiscal_year_create(
                organization=organization, start=start, end=end, code=code
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        periods = fiscal_year.periods.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created fiscal year {fiscal_year.code} for {organization.slug}: "
                f"{start}–{end}, {periods} open monthly periods."
            )
        )
