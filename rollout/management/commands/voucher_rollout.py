"""Shows or changes who gets the configuration-driven entry UI (the `voucher_config_ui` flag).

waffle's own `waffle_flag` command also works for `--everyone` and `--deactivate`; this one also
sets the partial phases (a group, a percentage) without switching the flag off by accident.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rollout.switch import rollout_describe, rollout_set


class Command(BaseCommand):
    help = "Show or change the rollout of the configuration-driven voucher entry UI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "phase",
            choices=["status", "off", "group", "percent", "staff", "everyone"],
            help=(
                "status: show; off: legacy for everyone (rollback); group NAME...: only these "
                "groups; percent N: N%% of users, sticky per user (groups kept); staff: staff "
                "users too; everyone: full rollout"
            ),
        )
        parser.add_argument("values", nargs="*", help="Group names, or the percentage.")

    def handle(self, *args: Any, **options: Any) -> None:
        phase, values = options["phase"], options["values"]
        try:
            if phase == "status":
                state = rollout_describe()
            elif phase == "off":
                state = rollout_set(everyone=False)
            elif phase == "everyone":
                state = rollout_set(everyone=True)
            elif phase == "staff":
                state = rollout_set(everyone=None, staff=True)
            elif phase == "group":
                if not values:
                    raise CommandError("Name at least one group, e.g. 'Voucher UI testers'.")
                state = rollout_set(everyone=None, groups=values)
            else:
                if len(values) != 1:
                    raise CommandError("Give one percentage, e.g. 10.")
                try:
                    state = rollout_set(everyone=None, percent=Decimal(values[0]))
                except InvalidOperation as exc:
                    raise CommandError(f"'{values[0]}' is not a number") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"voucher_config_ui: {state}")
