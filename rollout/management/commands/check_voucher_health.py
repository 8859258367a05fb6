"""Evaluates the rollout's alert rules over a window; exits 1 listing each breached rule."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounting.models import Organization
from rollout.health import breaches, health_check, window_parse
from rollout.metrics.recording import metrics_setting


class Command(BaseCommand):
    help = (
        "Check voucher entry health over a window: posting failure rate, form load p95, HTMX "
        "endpoint failures, database errors and a live database query. Exit 1 when a rule is "
        "breached, for cron or a monitoring agent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--window",
            default=None,
            help="How far back to look: 15m, 1h, 24h, 7d (default VOUCHER_HEALTH_WINDOW, 1h).",
        )
        parser.add_argument(
            "--org",
            metavar="SLUG",
            help="Judge one organization's figures (default: all organizations together).",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        window_text = options["window"] or metrics_setting("VOUCHER_HEALTH_WINDOW")
        try:
            window = window_parse(window_text)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        organizations = None
        scope = "all organizations"
        if options["org"]:
            organization = Organization.objects.filter(slug=options["org"]).first()
            if organization is None:
                slugs = Organization.objects.order_by("slug").values_list("slug", flat=True)
                known = ", ".join(slugs[:20]) or "none"
                raise CommandError(f"No organization '{options['org']}'; slugs: {known}.")
            organizations, scope = [organization.pk], organization.slug
        now = timezone.now()
        results = health_check(window=window, now=now, organizations=organizations)
        breached = breaches(results)
        if options["format"] == "json":
            report = {
                "healthy": not breached,
                "window": window_text,
                "organization": options["org"] or None,
                "since": (now - window).isoformat(),
                "until": now.isoformat(),
                "rules": [result.as_dict() for result in results],
            }
            self.stdout.write(json.dumps(report, indent=2))
        else:
            if not breached:
                self.stdout.write(f"healthy over the last {window_text} ({scope})")
            for result in results:
                self.stdout.write(str(result))
        if breached:
            raise CommandError(
                f"{len(breached)} health rule(s) breached over the last {window_text} "
                f"({scope}):\n" + "\n".join(f"  {result}" for result in breached)
            )
