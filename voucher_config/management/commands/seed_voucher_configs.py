"""Seeds the baseline voucher type configurations: idempotent, and customisations are kept."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from voucher_config.services import seed_organization


class Command(BaseCommand):
    help = "Create or refresh the eight baseline voucher configurations of each organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="Only this organization (slug).")
        parser.add_argument(
            "--reset", action="store_true", help="Replace configurations an admin customised."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("slug")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organization with slug '{options['org']}'.")
        failed = 0
        prefix = "[dry run] " if options["dry_run"] else ""
        for organization in organizations:
            for outcome in seed_organization(
                organization=organization, reset=options["reset"], dry_run=options["dry_run"]
            ):
                failed += outcome.action == "failed"
                self.stdout.write(f"{prefix}{organization.slug} {outcome}")
        if failed:
            raise CommandError(f"{failed} configuration(s) could not be seeded.")
