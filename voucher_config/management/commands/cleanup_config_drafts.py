"""Lists, and with --commit deletes, draft vouchers entered through the configuration UI."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from voucher_config.cleanup import cleanup_candidates, config_drafts_delete


class Command(BaseCommand):
    help = (
        "Remove unposted vouchers entered through the configuration-driven UI (a rollback's "
        "data cleanup). Dry run unless --commit; posted vouchers are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help="Only drafts created before this date (YYYY-MM-DD).")
        parser.add_argument("--org", help="Only this organization (slug).")
        parser.add_argument("--commit", action="store_true", help="Delete; without it, only list.")

    def handle(self, *args: Any, **options: Any) -> None:
        before = None
        if options["before"]:
            try:
                before = date.fromisoformat(options["before"])
            except ValueError as exc:
                raise CommandError(
                    f"--before: '{options['before']}' is not a YYYY-MM-DD date"
                ) from exc
        organization = None
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                raise CommandError(f"No organization with slug '{options['org']}'.")
        candidates = cleanup_candidates(before=before, organization=organization)
        for c in candidates:
            self.stdout.write(
                f"{c.organization} draft #{c.voucher_id} {c.voucher_type} {c.date} "
                f"({c.status}, {c.lines} lines, by {c.created_by})"
            )
        if not options["commit"]:
            self.stdout.write(
                f"Dry run: {len(candidates)} config-channel draft(s) would be deleted. "
                "Run again with --commit to delete them."
            )
            return
        deleted = config_drafts_delete(voucher_ids=[c.voucher_id for c in candidates])
        self.stdout.write(f"Deleted {deleted} config-channel draft(s).")
