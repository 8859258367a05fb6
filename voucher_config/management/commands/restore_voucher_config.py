"""Brings back an earlier configuration version as a new version."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_restore
from voucher_config.validation import DefinitionInvalid


class Command(BaseCommand):
    help = "Restore an earlier version of a voucher type configuration (saved as a new version)."

    def add_base_argument(self, parser: CommandParser, *args: Any, **kwargs: Any) -> None:
        # --version here is the configuration version, not the program's.
        if "--version" not in args:
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--type", required=True, dest="type_code", help="Voucher type code.")
        parser.add_argument("--version", required=True, type=int, dest="wanted_version")

    def handle(self, *args: Any, **options: Any) -> None:
        config = (
            VoucherTypeConfig.objects.select_related("organization", "voucher_type")
            .filter(organization__slug=options["org"], voucher_type__code=options["type_code"])
            .first()
        )
        if config is None:
            raise CommandError(
                f"No configuration for type {options['type_code']} in '{options['org']}'."
            )
        before = config.version
        try:
            restored = config_restore(config=config, version=options["wanted_version"])
        except DefinitionInvalid as exc:
            raise CommandError(str(exc)) from exc
        if restored.version == before:
            self.stdout.write(
                f"{config.voucher_type.code}: version {options['wanted_version']} is already "
                f"current (v{before}); nothing changed"
            )
        else:
            self.stdout.write(
                f"{config.voucher_type.code}: version {options['wanted_version']} restored "
                f"as version {restored.version}"
            )
