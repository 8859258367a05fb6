"""Sets up the demo organization; safe to run again, it only adds what is missing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.management.operator import operator_argument_add, operator_from_options
from accounting.services.checks import VoucherRejected
from accounting.services.demo import DEMO_PASSWORD, DEMO_SLUG, demo_data_load

# Seeds the baseline voucher configurations when the voucher_config app provides the command.
SEED_CONFIGS_COMMAND = "seed_voucher_configs"


class Command(BaseCommand):
    help = (
        "Loads the demo organization 'demo' with a chart of accounts, the current fiscal year, "
        "parties, the users admin and clerk, and posted vouchers. Running it again is safe."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        operator_argument_add(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        stamp = operator_from_options(options)
        try:
            result = demo_data_load(stamp=stamp)
        except (ValidationError, VoucherRejected) as exc:
            raise CommandError(f"Demo data could not be loaded: {exc}") from exc
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data in '{DEMO_SLUG}': added {', '.join(result.created)}."
                )
            )
            if any(item.startswith("user ") for item in result.created):
                self.stdout.write(f"Log in as admin or clerk with the password {DEMO_PASSWORD}.")
        else:
            self.stdout.write(f"Demo data in '{DEMO_SLUG}' is already complete; nothing changed.")
        if SEED_CONFIGS_COMMAND in get_commands():
            call_command(
                SEED_CONFIGS_COMMAND, org=DEMO_SLUG, stdout=self.stdout, stderr=self.stderr
            )
