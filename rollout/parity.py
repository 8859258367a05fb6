"""The parity check of the parallel run: the same inputs through both UIs, the same ledger lines.

Used by `compare_channels` and by the tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from accounting.models import AccountingPeriod, Organization
from accounting.services.inputs import VoucherInput
from legacy_entry.vouchers import legacy_voucher_input
from voucher_config.form_factory import EntryLookups
from voucher_config.models import VoucherTypeConfig
from voucher_config.posting_rules import PostingRuleError, voucher_input

RawEntry = tuple[dict[str, Any], list[dict[str, Any]]]


@dataclass
class SampleResult:
    index: int
    header: dict[str, Any]
    lines: list[dict[str, Any]]
    differences: list[str] = field(default_factory=list)


@dataclass
class ParityReport:
    type_code: str
    samples: list[SampleResult]

    @property
    def mismatches(self) -> list[SampleResult]:
        return [s for s in self.samples if s.differences]

    @property
    def ok(self) -> bool:
        return not self.mismatches


class ParityUnavailable(Exception):
    """The organization lacks what samples need (an open period, accounts, parties)."""


def _open_dates(organization: Organization) -> list[date]:
    periods = AccountingPeriod.objects.filter(
        fiscal_year__organization=organization, is_closed=False
    ).order_by("start_date")
    days = []
    for period in periods:
        span = (period.end_date - period.start_date).days
        days += [period.start_date + timedelta(days=d) for d in range(0, span + 1, 3)]
    return days


def _value(
    spec: dict[str, Any], rng: random.Random, lookups: EntryLookups, dates: list[date]
) -> Any:
    kind = spec["type"]
    if kind == "account":
        codes = sorted(a.code for a in lookups.accounts_for(spec))
        if not codes:
            raise ParityUnavailable(f"no account matches the filter of '{spec['key']}'")
        return rng.choice(codes)
    if kind == "party":
        codes = sorted(p.code for p in lookups.parties_for(spec))
        if not codes:
            raise ParityUnavailable(f"no party has the role '{spec.get('role', 'any')}'")
        return rng.choice(codes)
    if kind == "date":
        return rng.choice(dates).isoformat()
    if kind == "amount":
        if spec.get("max_value") is not None and spec["max_value"] <= 100:
            return str(rng.choice([Decimal("0"), Decimal("5"), Decimal("12.5"), Decimal("18")]))
        return str(Decimal(rng.randint(1, 5_000_000)) / 100)
    if kind == "integer":
        return str(rng.randint(1, 100))
    if kind == "choice":
        return rng.choice(spec["choices"])["value"]
    if kind == "boolean":
        return rng.choice([True, False])
    return rng.choice(["Rent", "Office supplies", "Invoice 4411", "Settlement", "Q3 adjustment"])


def sample_entries(*, config: VoucherTypeConfig, count: int, seed: int = 0) -> list[RawEntry]:
    """Random but realistic entries that the configuration admits, as a browser would post them."""
    rng = random.Random(seed)
    definition = config.definition
    lookups = EntryLookups(config.organization)
    dates = _open_dates(config.organization)
    if not dates:
        raise ParityUnavailable(f"{config.organization} has no open accounting period")
    rule = definition["posting"]
    samples = []
    for _ in range(count):
        header = {
            spec["key"]: _value(spec, rng, lookups, dates)
            for spec in definition["header_fields"]
            if spec.get("required") or rng.random() < 0.7
        }
        header.setdefault("date", rng.choice(dates).isoformat())
        lines = []
        for _ in range(rng.randint(max(1, definition["lines"].get("min", 1)), 6)):
            line = {
                spec["key"]: _value(spec, rng, lookups, dates)
                for spec in definition["line_fields"]
                if spec["type"] != "amount" or spec["key"] not in ("debit", "credit")
            }
            if rule["rule"] == "journal":
                side = rng.choice([rule["debit_field"], rule["credit_field"]])
                line[side] = str(Decimal(rng.randint(1, 5_000_000)) / 100)
            lines.append(line)
        if rule["rule"] == "journal":
            lines = _balanced_journal(lines, rule, rng)
        samples.append((header, lines))
    return samples


def _balanced_journal(
    lines: list[dict[str, Any]], rule: dict[str, Any], rng: random.Random
) -> list[dict[str, Any]]:
    debit_key, credit_key = rule["debit_field"], rule["credit_field"]
    balance = sum(
        Decimal(line.get(debit_key, "0")) - Decimal(line.get(credit_key, "0")) for line in lines
    )
    if balance:
        closing = dict(lines[0])
        closing.pop(debit_key, None)
        closing.pop(credit_key, None)
        closing[credit_key if balance > 0 else debit_key] = str(abs(balance))
        lines.append(closing)
    if len(lines) < 2:
        twin = dict(lines[0])
        amount = twin.pop(debit_key, None) or twin.pop(credit_key)
        twin[credit_key if debit_key in lines[0] else debit_key] = amount
        lines.append(twin)
    return lines


def config_voucher_input(
    *, config: VoucherTypeConfig, header: dict[str, Any], lines: list[dict[str, Any]]
) -> VoucherInput:
    from voucher_config.checks import entry_form_errors, entry_forms_from_raw

    forms = entry_forms_from_raw(config.definition, config.organization, header, lines)
    if not forms.is_valid():
        raise ValidationError(entry_form_errors(forms))
    result, _plan = voucher_input(
        definition=config.definition,
        entered=forms.entered_voucher(),
        voucher_type=config.voucher_type,
        version=config.version,
        config_hash=config.definition_hash,
    )
    return result


def ledger_view(voucher_in: VoucherInput) -> dict[str, Any]:
    """What reaches the ledger: the date, the party and every line's account, sides and text."""
    return {
        "date": voucher_in.date,
        "party": voucher_in.party_id,
        "lines": [
            (line.account_id, line.debit, line.credit, line.description, line.party_id)
            for line in voucher_in.lines
        ],
    }


def differences(config_side: dict[str, Any], legacy_side: dict[str, Any]) -> list[str]:
    found = []
    for key in ("date", "party"):
        if config_side[key] != legacy_side[key]:
            found.append(f"{key}: config {config_side[key]} ≠ legacy {legacy_side[key]}")
    config_lines, legacy_lines = config_side["lines"], legacy_side["lines"]
    if len(config_lines) != len(legacy_lines):
        found.append(f"line count: config {len(config_lines)} ≠ legacy {len(legacy_lines)}")
    for number, (ours, theirs) in enumerate(zip(config_lines, legacy_lines, strict=False), 1):
        if ours != theirs:
            found.append(f"line {number}: config {ours} ≠ legacy {theirs}")
    return found


def compare_channels(*, config: VoucherTypeConfig, sample: int, seed: int = 0) -> ParityReport:
    report = ParityReport(type_code=config.voucher_type.code, samples=[])
    for index, (header, lines) in enumerate(sample_entries(config=config, count=sample, seed=seed)):
        result = SampleResult(index=index, header=header, lines=lines)
        sides: dict[str, Any] = {}
        for channel, build in (
            (
                "config",
                lambda h=header, ls=lines: config_voucher_input(config=config, header=h, lines=ls),
            ),
            (
                "legacy",
                lambda h=header, ls=lines: legacy_voucher_input(
                    organization=config.organization,
                    type_code=config.voucher_type.code,
                    header=h,
                    lines=ls,
                ),
            ),
        ):
            try:
                sides[channel] = ledger_view(build())
            except (ValidationError, ValueError, PostingRuleError) as exc:
                sides[channel] = None
                result.differences.append(f"{channel} refused the entry: {exc}")
        if sides.get("config") and sides.get("legacy"):
            result.differences += differences(sides["config"], sides["legacy"])
        elif sides.get("config") is None and sides.get("legacy") is None:
            result.differences = []  # both refused alike: no difference in what would post
        report.samples.append(result)
    return report
