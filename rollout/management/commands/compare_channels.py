"""Parity check: the same sample inputs through the legacy and the configuration-driven forms."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from rollout.parity import ParityUnavailable, compare_channels
from voucher_config.models import VoucherTypeConfig


class Command(BaseCommand):
    help = (
        "Build sample entries of a voucher type through both the legacy and the configuration-"
        "driven forms and report any difference in the ledger lines they would post. Exit 1 on "
        "any difference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--type", required=True, dest="type_code", help="Voucher type code.")
        parser.add_argument("--sample", type=int, default=200, help="Number of sample entries.")
        parser.add_argument("--org", help="Organization slug (default: every organization).")
        parser.add_argument("--seed", type=int, default=0, help="Random seed for the samples.")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sample"] < 1:
            raise CommandError("--sample must be at least 1")
        configs = VoucherTypeConfig.objects.select_related("organization", "voucher_type").filter(
            voucher_type__code=options["type_code"]
        )
        if options["org"]:
            if not Organization.objects.filter(slug=options["org"]).exists():
                raise CommandError(f"No organization with slug '{options['org']}'.")
            configs = configs.filter(organization__slug=options["org"])
        if not configs:
            raise CommandError(f"No configuration for voucher type '{options['type_code']}'.")
        mismatched = 0
        results = []
        for config in configs.order_by("organization__slug"):
            try:
                report = compare_channels(
                    config=config, sample=options["sample"], seed=options["seed"]
                )
            except ParityUnavailable as exc:
                raise CommandError(f"{config.organization.slug}: {exc}") from exc
            mismatched += len(report.mismatches)
            results.append((config, report))
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    [
                        {
                            "organization": config.organization.slug,
                            "type": report.type_code,
                            "samples": len(report.samples),
                            "mismatches": [
                                {
                                    "sample": s.index,
                                    "header": s.header,
                                    "lines": s.lines,
                                    "differences": s.differences,
                                }
                                for s in report.mismatches
                            ],
                        }
                        for config, report in results
                    ],
                    indent=2,
                    default=str,
                )
            )
        else:
            for config, report in results:
                self.stdout.write(
                    f"{config.organization.slug}/{report.type_code}: {len(report.samples)} samples, "
                    f"{len(report.mismatches)} with differences"
                )
                for sample in report.mismatches[:20]:
                    self.stdout.write(
                        f"  sample {sample.index}: {json.dumps(sample.header, default=str)}"
                    )
                    for difference in sample.differences:
                        self.stdout.write(f"    {difference}")
        if mismatched:
            raise CommandError(
                f"{mismatched} sample(s) would post differently through the two UIs."
            )
