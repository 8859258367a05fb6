"""Shows or changes who gets the configuration-driven entry UI (the `voucher_config_ui` flag).

waffle's own `waffle_flag` command also works for `--everyone` and `--deactivate`; this one also
sets the partial phases (a group, a percentage) without switching the flag off by accident, and
records who made each change in the flag's history.

With `--org SLUG` it shows or sets that organization's own rollout instead (its rollout groups,
its percentage, `inherit` to follow the flag again), recorded in the organization's rollout
history; `--user` must then be an administrator of that organization or a superuser.
"""

import getpass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.models import Organization
from rollout.models import OrganizationRollout, RolloutGroup, RolloutMode
from rollout.organization_switch import (
    organization_rollout_of,
    organization_rollout_set,
    rollout_may_change,
)
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
            choices=["status", "off", "group", "percent", "staff", "everyone", "inherit"],
            help=(
                "status: show; off: legacy for everyone (rollback); group NAME...: only these "
                "groups; percent N: N%% of users, sticky per user (groups kept); staff: staff "
                "users too; everyone: full rollout; inherit (with --org): follow the global flag"
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
        parser.add_argument(
            "--org",
            metavar="SLUG",
            help=(
                "Show or change this organization's own rollout instead of the global flag; "
                "--user must then be an administrator of it or a superuser."
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
        if options["org"] is not None:
            self.handle_organization(options["org"], phase, values, options["user"])
            return
        if phase == "inherit":
            raise CommandError(
                "'inherit' is only with --org SLUG: the global flag inherits nothing."
            )
        if phase == "status":
            self.stdout.write(f"voucher_config_ui: {rollout_describe()}")
            own = (
                OrganizationRollout.objects.exclude(mode=RolloutMode.INHERIT)
                .select_related("organization")
                .prefetch_related("groups")
                .order_by("organization__slug")
            )
            for rollout in own:
                slug = rollout.organization.slug
                self.stdout.write(
                    f"  own rollout, --org {slug}: {self.organization_status(rollout)}"
                )
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

    def handle_organization(
        self, slug: str, phase: str, values: list[str], username: str | None
    ) -> None:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organization '{slug}'; --org takes an organization's slug.")
        if phase == "status":
            self.stdout.write(
                self.organization_status(organization_rollout_of(organization=organization))
            )
            return
        users = get_user_model()._default_manager
        if username is not None:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user '{username}'; --user takes a site username.")
            if not rollout_may_change(user=user, organization=organization):
                raise CommandError(
                    f"'{username}' is not an administrator of {organization} nor a superuser: "
                    "only they may change its rollout."
                )
            operator = username
        else:
            name = os_username()
            matched = users.filter(username=name, is_active=True).first()
            user = (
                matched
                if matched is not None
                and rollout_may_change(user=matched, organization=organization)
                else None
            )
            operator = f"OS user {name}"
        change: dict[str, Any] = {"mode": {"group": RolloutMode.GROUPS}.get(phase, phase)}
        if phase == "staff":
            raise CommandError("'staff' is for the global flag; with --org use group or percent.")
        if phase == "group":
            if not values:
                raise CommandError(f"Name at least one rollout group of {organization}.")
            groups = list(RolloutGroup.objects.filter(organization=organization, name__in=values))
            missing = sorted(set(values) - {group.name for group in groups})
            if missing:
                raise CommandError(f"{organization} has no rollout group {', '.join(missing)}.")
            change["groups"] = groups
        elif phase == "percent":
            if len(values) != 1:
                raise CommandError("Give one percentage, e.g. 10.")
            try:
                change["percent"] = Decimal(values[0])
            except InvalidOperation as exc:
                raise CommandError(f"'{values[0]}' is not a number") from exc
        try:
            rollout = organization_rollout_set(
                organization=organization,
                acting_user=user,
                reason=f"voucher_rollout by {operator}",
                **change,
            )
        except (ValueError, RolloutRefused) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.organization_status(rollout))

    @staticmethod
    def organization_status(rollout: OrganizationRollout) -> str:
        text = f"{rollout.organization}: {rollout.get_mode_display()}"
        if rollout.mode == RolloutMode.PERCENT:
            text += f" ({rollout.percent}%, sticky per user)"
        elif rollout.mode == RolloutMode.GROUPS:
            text += " (" + ", ".join(sorted(g.name for g in rollout.groups.all())) + ")"
        elif rollout.mode == RolloutMode.INHERIT:
            text += f" (voucher_config_ui: {rollout_describe()})"
        return text
