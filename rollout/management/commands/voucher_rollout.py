"""Shows or changes who gets the configuration-driven entry UI (the `voucher_config_ui` flag).

waffle's own `waffle_flag` command also works for `--everyone` and `--deactivate`; this one also
sets the partial phases (a group, a percentage) without switching the flag off by accident, and
records who made each change in the flag's history.
"""

import getpass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rollout.switch import RolloutRefused, rollout_describe, rollout_set


def os_username() -> str:
    try:
        return getpass.getuser()
    except OSError:  # no login name and no USER/LOGNAME in the environment
        return "unknown"


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
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help=(
                "The site user making the change: must be a superuser. Without it the operator "
                "at the shell is recorded by their OS user name (and as the site user of that "
                "name, when one is a superuser)."
            ),
        )

    def acting(self, username: str | None) -> tuple[Any, str]:
        """The user a change is made as, and how the history names the operator."""
        users = get_user_model()._default_manager
        if username is not None:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user '{username}'; --user takes a site username.")
            if not (user.is_active and user.is_superuser):
                raise CommandError(
                    f"'{username}' is not a superuser: only a superuser may change the rollout."
                )
            return user, username
        name = os_username()
        matched = users.filter(username=name, is_active=True, is_superuser=True).first()
        return matched, f"OS user {name}"

    def handle(self, *args: Any, **options: Any) -> None:
        phase, values = options["phase"], options["values"]
        if phase == "status":
            self.stdout.write(f"voucher_config_ui: {rollout_describe()}")
            return
        user, operator = self.acting(options["user"])
        change: dict[str, Any]
        if phase == "off":
            change = {"everyone": False}
        elif phase == "everyone":
            change = {"everyone": True}
        elif phase == "staff":
            change = {"everyone": None, "staff": True}
        elif phase == "group":
            if not values:
                raise CommandError("Name at least one group, e.g. 'Voucher UI testers'.")
            change = {"everyone": None, "groups": values}
        else:
            if len(values) != 1:
                raise CommandError("Give one percentage, e.g. 10.")
            try:
                change = {"everyone": None, "percent": Decimal(values[0])}
            except InvalidOperation as exc:
                raise CommandError(f"'{values[0]}' is not a number") from exc
        try:
            state = rollout_set(acting_user=user, operator=operator, **change)
        except (ValueError, RolloutRefused) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"voucher_config_ui: {state}")
