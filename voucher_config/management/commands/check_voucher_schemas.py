"""Validates every stored configuration and posts its examples in a transaction it rolls back."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from voucher_config.checks import check_organization


class Command(BaseCommand):
    help = (
        "Check every voucher configuration: meta-schema, semantic rules, every voucher type "
        "mapped to an active configuration, and examples posting balanced. Exit 1 on failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="Only this organization (slug).")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organization with slug '{options['org']}'.")
        reports = [r for organization in organizations for r in check_organization(organization)]
        failures = [r for r in reports if not r.ok]
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {"ok": not failures, "configs": [r.as_dict() for r in reports]}, indent=2
                )
            )
        else:
            for report in reports:
                self.stdout.write(str(report))
            self.stdout.write(f"{len(reports) - len(failures)} ok, {len(failures)} failed")
        if failures:
            raise CommandError(
                f"{len(failures)} configuration(s) failed: "
                + ", ".join(f"{r.organization}/{r.code}" for r in failures)
            )
