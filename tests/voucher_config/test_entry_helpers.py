"""Shared builders for the entry screen tests: seeded books, parties and posted form data."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounting.models import Account, Party, PartyRole
from voucher_config.form_factory import raw_form_data
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import seed_organization

HX = {"HX-Request": "true"}
ON = "2026-03-15"
TYPES = ["JV", "PV", "RV", "CV", "SV", "PU", "DN", "CN"]


def seed(books) -> dict[str, VoucherTypeConfig]:
    """The baseline configurations and the two parties their examples name."""
    seed_organization(organization=books.organization)
    organization = books.organization
    Party.objects.get_or_create(
        organization=organization,
        code="EXAMPLE-CUSTOMER",
        defaults={
            "name": "Example customer",
            "role": PartyRole.CUSTOMER,
            "control_account": Account.objects.get(organization=organization, code="1200"),
        },
    )
    Party.objects.get_or_create(
        organization=organization,
        code="EXAMPLE-SUPPLIER",
        defaults={
            "name": "Example supplier",
            "role": PartyRole.SUPPLIER,
            "control_account": Account.objects.get(organization=organization, code="2100"),
        },
    )
    return {
        c.voucher_type.code: c
        for c in VoucherTypeConfig.objects.filter(organization=organization).select_related(
            "voucher_type"
        )
    }


def config_for(books, type_code: str) -> VoucherTypeConfig:
    return VoucherTypeConfig.objects.select_related("voucher_type").get(
        organization=books.organization, voucher_type__code=type_code
    )


def entry_data(
    books,
    type_code: str,
    *,
    header: dict[str, Any] | None = None,
    lines: list[dict[str, Any]] | None = None,
    action: str = "save",
    version: int | None = None,
    on: str = ON,
) -> dict[str, str]:
    """What the browser posts for an entry: the type's first example unless told otherwise."""
    config = config_for(books, type_code)
    example = config.definition["examples"][0]
    values = {**example["header"], "date": on, **(header or {})}
    data = raw_form_data(config.definition, values, example["lines"] if lines is None else lines)
    data["config_version"] = str(version or config.version)
    data["action"] = action
    return data


def new_url(type_code: str) -> str:
    return reverse("entry-new", args=[type_code])


def edit_url(pk: int) -> str:
    return reverse("entry-edit", args=[pk])


def partial_url(name: str, type_code: str) -> str:
    return reverse(f"entry-{name}", args=[type_code])
