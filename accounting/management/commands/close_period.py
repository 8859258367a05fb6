"""Closes (or reopens) the accounting period of one month, so nothing more posts into it."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import AccountingPeriod, Organization
from accounting.services.organizations import period_set_closed


class Command(BaseCommand):
    help = "Closes the accounting period of a month (YYYY-MM); --reopen opens it again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--period", required=True, help="The month, YYYY-MM.")
        parser.add_argument("--reopen", action="store_true", help="Open the period again.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['org']}'.")
        raw = options["period"]
        match = re.fullmatch(r"(\d{4})-(\d{2})", raw)
        if not match or not 1 <= int(match[2]) <= 12:
            raise CommandError(f"--period '{raw}' is not a month in YYYY-MM form, e.g. 2026-03.")
        year, month = int(match[1]), int(match[2])
        first = date(year, month, 1)
        last = date(year, month, calendar.monthrange(year, month)[1])
        # A fiscal year starting mid-month splits that month into two periods; both go together.
        periods = list(
            AccountingPeriod.objects.filter(
                fiscal_year__organization=organization,
                start_date__lte=last,
                end_date__gte=first,
            ).select_related("fiscal_year")
        )
        if not periods:
            raise CommandError(
                f"No accounting period of {organization.slug} falls in {raw}; "
                "create the fiscal year first (create_fiscal_year)."
            )
        closed = not options["reopen"]
        verb = "closed" if closed else "open"
        for period in periods:
            if period.is_closed == closed:
                self.stdout.write(f"{period} was already {verb}.")
                continue
            period_set_closed(period=period, closed=closed)
            self.stdout.write(self.style.SUCCESS(f"{period} is now {verb}."))
