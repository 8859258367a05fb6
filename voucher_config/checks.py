"""Health of stored configurations: schema and rules, type coverage, and examples that must post."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from django.db import transaction

from accounting.models import Account, AccountingPeriod, Organization, Party, PartyRole, Voucher
from accounting.services.checks import VoucherRejected
from accounting.services.organizations import fiscal_year_create
from accounting.services.posting import voucher_create_posted
from voucher_config.definition import Example, VoucherDefinition
from voucher_config.form_factory import (
    ConfiguredForms,
    EntryLookups,
    build_form_classes,
    raw_form_data,
)
from voucher_config.models import VoucherTypeConfig, definition_hash
from voucher_config.posting_rules import PostingRuleError, voucher_input
from voucher_config.validation import definition_errors


@dataclass
class ConfigReport:
    organization: str
    code: str
    version: int | None
    errors: list[str] = field(default_factory=list)
    examples_posted: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "type": self.code,
            "version": self.version,
            "ok": self.ok,
            "examples_posted": self.examples_posted,
            "errors": self.errors,
        }

    def __str__(self) -> str:
        where = f"{self.organization}/{self.code}" + (f" v{self.version}" if self.version else "")
        if self.ok:
            return f"OK    {where}: valid, {self.examples_posted} example(s) posted balanced"
        return f"FAIL  {where}: " + "; ".join(self.errors)


class _RollBack(Exception):
    pass


def entry_forms_from_raw(
    definition: VoucherDefinition,
    organization: Organization,
    header: dict[str, Any],
    lines: list[Any],
) -> ConfiguredForms:
    return ConfiguredForms(
        build_form_classes(definition),
        definition,
        EntryLookups(organization),
        data=raw_form_data(definition, header, lines),
    )


def entry_form_errors(forms: ConfiguredForms) -> list[str]:
    errors = [f"{key}: {' '.join(map(str, msgs))}" for key, msgs in forms.header.errors.items()]
    for number, form in enumerate(forms.lines.forms, start=1):
        errors += [
            f"line {number} {key}: {' '.join(map(str, msgs))}" for key, msgs in form.errors.items()
        ]
    errors += [str(e) for e in forms.lines.non_form_errors()] + forms.line_problems
    return errors


def _example_sandbox(
    organization: Organization, on: date, example: Example, definition: VoucherDefinition
) -> None:
    """What an example needs beyond the configuration, made inside the rolled-back transaction:
    an open period on its date, and the parties it names."""
    period = AccountingPeriod.objects.filter(
        fiscal_year__organization=organization, start_date__lte=on, end_date__gte=on
    ).first()
    if period is None:
        fiscal_year_create(
            organization=organization,
            start=date(on.year, 1, 1),
            end=date(on.year, 12, 31),
            code=f"EX{on.year}",
        )
    elif period.is_closed:
        AccountingPeriod.objects.filter(pk=period.pk).update(is_closed=False)
    code = example["header"].get("party")
    if code and not Party.objects.filter(organization=organization, code=code).exists():
        role = next(
            (s.get("role") for s in definition["header_fields"] if s["key"] == "party"), "any"
        )
        customer = role != "supplier"
        control = Account.objects.filter(
            organization=organization, subtype="receivable" if customer else "payable"
        ).first()
        if control is not None:
            Party.objects.create(
                organization=organization,
                code=code,
                name=f"Example {'customer' if customer else 'supplier'}",
                role=PartyRole.CUSTOMER if customer else PartyRole.SUPPLIER,
                control_account=control,
            )


def example_errors(config: VoucherTypeConfig) -> tuple[int, list[str]]:
    """Posts each example through the real forms and posting service, then rolls it all back.

    Only for a definition that passed validation: its examples are read as the schema says.
    """
    definition = cast("VoucherDefinition", config.definition)
    organization = config.organization
    errors: list[str] = []
    posted = 0
    for index, example in enumerate(definition.get("examples", [])):
        where = f"examples[{index}]"
        try:
            with transaction.atomic():
                on = date.today()
                _example_sandbox(organization, on, example, definition)
                forms = entry_forms_from_raw(
                    definition, organization, example["header"], example["lines"]
                )
                if not forms.is_valid():
                    errors += [f"{where}: {e}" for e in entry_form_errors(forms)]
                    raise _RollBack
                # The example is posted straight away in a sandbox that is rolled back: the
                # approval its type may ask for is not what is being checked here.
                sandbox_type = copy.copy(config.voucher_type)
                sandbox_type.requires_approval = False
                voucher_in, _plan = voucher_input(
                    definition=definition,
                    entered=forms.entered_voucher(),
                    voucher_type=sandbox_type,
                    version=config.version,
                    config_hash=config.definition_hash,
                )
                voucher = voucher_create_posted(organization=organization, voucher_input=voucher_in)
                entries = list(voucher.ledger_entries.values_list("debit", "credit"))
                if sum(d for d, _ in entries) != sum(c for _, c in entries):
                    errors.append(f"{where}: posted unbalanced ledger lines")
                posted += 1
                raise _RollBack
        except _RollBack:
            pass
        except PostingRuleError as exc:
            errors.append(f"{where}: {exc}")
        except VoucherRejected as exc:
            errors += [f"{where}: {m}" for m in exc.messages]
    return posted, errors


def check_config(config: VoucherTypeConfig) -> ConfigReport:
    report = ConfigReport(config.organization.slug, config.voucher_type.code, config.version)
    errors = definition_errors(config.definition, organization=config.organization)
    if errors:
        report.errors = [str(e) for e in errors]
        return report
    if definition_hash(config.definition) != config.definition_hash:
        report.errors.append("definition_hash: the stored hash does not match the definition")
    if config.definition.get("code") != config.voucher_type.code:
        report.errors.append(
            f"code: '{config.definition.get('code')}' does not match voucher type "
            f"{config.voucher_type.code}"
        )
    report.examples_posted, example_problems = example_errors(config)
    report.errors += example_problems
    return report


def check_organization(organization: Organization) -> list[ConfigReport]:
    configs = list(
        VoucherTypeConfig.objects.filter(organization=organization)
        .select_related("voucher_type", "organization")
        .order_by("voucher_type__code")
    )
    reports = [check_config(config) for config in configs]
    active_codes = {c.voucher_type.code for c in configs if c.is_active}
    in_use = set(
        organization.voucher_types.filter(is_active=True).values_list("code", flat=True)
    ) | set(
        Voucher.objects.filter(organization=organization)
        .values_list("voucher_type__code", flat=True)
        .distinct()
    )
    for code in sorted(in_use - active_codes):
        reports.append(
            ConfigReport(
                organization.slug,
                code,
                None,
                errors=["voucher type is in use but has no active configuration"],
            )
        )
    return reports
