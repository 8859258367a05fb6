"""Deletes parallel-run metrics older than the retention period (lifetime totals are kept)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rollout.metrics.pruning import metrics_prune
from rollout.metrics.recording import metrics_setting


class Command(BaseCommand):
    help = (
        "Delete per-minute metrics and active-user marks older than --days days (default "
        "VOUCHER_METRICS_RETENTION_DAYS). Deleted minutes are added to lifetime totals first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Keep this many days.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be deleted; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = int(metrics_setting("VOUCHER_METRICS_RETENTION_DAYS"))
        try:
            result = metrics_prune(days=days, dry_run=options["dry_run"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would delete" if result.dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {result.metric_rows} metric minute row(s) and {result.user_days} "
            f"active-user mark(s) from before {result.cutoff:%Y-%m-%d %H:%M} UTC."
        )
