"""Creates an organization with its eight standard voucher types."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.management.operator import operator_argument_add, operator_from_options
from accounting.models import Organization
from accounting.services.organizations import organization_create


class Command(BaseCommand):
    help = "Creates an organization with the standard voucher types JV, PV, RV, CV, SV, PU, DN, CN."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Short name used in commands and URLs, e.g. acme.")
        parser.add_argument("--name", required=True, help="The organization's full name.")
        parser.add_argument(
            "--currency", default="USD", help="Base currency, a 3-letter ISO code (default USD)."
        )
        operator_argument_add(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        slug, name, currency = options["slug"], options["name"].strip(), options["currency"]
        existing = Organization.objects.filter(slug=slug).first()
        if existing is not None:
            raise CommandError(f"Organization '{slug}' already exists ({existing.name}).")
        if not name:
            raise CommandError("--name must not be empty.")
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise CommandError(f"--currency '{currency}' is not a 3-letter code such as USD.")
        stamp = operator_from_options(options)
        try:
            organization = organization_create(
                slug=slug, name=name, base_currency=currency, stamp=stamp
            )
        except ValidationError as exc:
            raise CommandError(_describe(exc)) from exc
        types = ", ".join(organization.voucher_types.values_list("code", flat=True))
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization '{organization.slug}' ({organization.name}, "
                f"{organization.base_currency}) with voucher types {types}."
            )
        )


def _describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
