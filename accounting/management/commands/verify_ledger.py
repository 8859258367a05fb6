"""Verifies an organization's books against its hash chain; exits 1 at the first failure."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from accounting.services.verification import ledger_verify


class Command(BaseCommand):
    help = (
        "Recomputes an organization's voucher hash chain from the stored rows and checks every "
        "posted voucher: its hash and link, its balance, its ledger rows against its lines, and "
        "that its accounts and parties are the organization's. Exit status 0 when all is well, "
        "1 naming the first voucher that fails and why, 2 when the organization is unknown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="text: one line; json: {organization, vouchers_checked, ok, first_failure, …}.",
        )
        parser.add_argument(
            "--anchor",
            help="POSITION:HASH reported by an earlier run (last_position:last_hash) and kept "
            "outside the database: the chain must still hold that hash at that position.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            known = ", ".join(Organization.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(
                f"No organization '{options['org']}'. Known slugs: {known}.", returncode=2
            )
        report = ledger_verify(organization=organization, anchor=self._anchor(options["anchor"]))
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        elif report.ok:
            self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(report.summary(), returncode=1)

    @staticmethod
    def _anchor(raw: str | None) -> tuple[int, str] | None:
        if raw is None:
            return None
        match = re.fullmatch(r"(\d+):([0-9a-f]{64})", raw.strip())
        if match is None:
            raise CommandError(
                f"--anchor '{raw}' is not POSITION:HASH (a number, a colon, 64 hex digits), "
                "as in the last_position and last_hash of an earlier --format json report.",
                returncode=2,
            )
        return int(match[1]), match[2]
