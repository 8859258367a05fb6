"""Imports vouchers from a JSON or CSV file into one organization: every voucher or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Membership, Organization
from accounting.services.imports import ImportRejected, vouchers_import


class Command(BaseCommand):
    help = (
        "Imports vouchers from JSON or CSV (see docs/IMPORT-FORMATS.md) as drafts, or posted with "
        "--post. Every voucher is checked first; one bad voucher and nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("file", type=Path, help="A .json or .csv file (UTF-8).")
        parser.add_argument("--post", action="store_true", help="Post the vouchers (numbered).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but write nothing."
        )
        parser.add_argument(
            "--format", choices=["json", "csv"], help="Override detection by extension/content."
        )
        parser.add_argument(
            "--allow-duplicate-references",
            action="store_true",
            help="Import vouchers whose reference is already used by a voucher of the same type "
            "(in the organization or the file); refused by default.",
        )
        parser.add_argument(
            "--user",
            help="Username recorded as creator (and poster); must be a member of the organization.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['org']}'.")
        user = None
        if options["user"]:
            membership = (
                Membership.objects.select_related("user")
                .filter(organization=organization, user__username=options["user"])
                .first()
            )
            if membership is None:
                raise CommandError(f"No member '{options['user']}' in {organization.slug}.")
            user = membership.user
        path: Path = options["file"]
        try:
            result = vouchers_import(
                organization=organization,
                source=path,
                post=options["post"],
                dry_run=options["dry_run"],
                user=user,
                file_format=options["format"],
                allow_duplicate_references=options["allow_duplicate_references"],
            )
        except ImportRejected as rejected:
            for problem in rejected.problems:
                self.stderr.write(f"{path.name}: {problem}")
            vouchers = rejected.rejected_vouchers
            scope = (
                f"{vouchers} of {rejected.vouchers_in_file} voucher(s) rejected"
                if vouchers
                else "the file was rejected"
            )
            raise CommandError(
                f"{scope}, {len(rejected.problems)} problem(s); nothing was imported."
            ) from rejected
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        kind = "posted" if result.posted else "draft"
        summary = f"{result.count} {kind} voucher(s), {result.lines} lines, from {path.name}"
        if result.dry_run:
            self.stdout.write(self.style.SUCCESS(f"Dry run: {summary} are valid; nothing written."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {summary} into {organization.slug}."))
        if result.submitted:
            types = ", ".join(sorted({v.type_code for v in result.submitted}))
            self.stdout.write(
                f"{len(result.submitted)} voucher(s) of {types} need approval: submitted for a "
                "second person to approve, not posted."
            )
        ranges = result.number_ranges()
        if ranges:
            label = "Numbers they would take" if result.dry_run else "Numbers"
            self.stdout.write(f"{label}: {', '.join(ranges)}")
        ids = [voucher.pk for voucher in result.vouchers if voucher.pk is not None]
        if ids and not result.posted:
            self.stdout.write(f"Draft ids: {min(ids)}–{max(ids)}")
