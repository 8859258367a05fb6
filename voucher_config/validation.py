"""Validation of configuration definitions: the JSON meta-schema, then the rules beyond it.

Every error names the JSON path it was found at and what is allowed, e.g.
`line_fields[2].type: 'amout' is not one of ['text', ...]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

from accounting.models import Account, Organization, Party
from voucher_config.definition import (
    FIELD_SECTIONS,
    FieldSection,
    FieldSpec,
    FieldType,
    Layout,
    PostingReference,
    VoucherDefinition,
)

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
MAX_DOCUMENT_BYTES = 64 * 1024

# Keys that map onto the voucher's own columns; any other key is stored in the voucher's `data`.
CORE_HEADER_TYPES = {
    "date": {"date"},
    "reference": {"text"},
    "narration": {"text", "textarea"},
    "party": {"party"},
}
CORE_LINE_TYPES = {
    "account": {"account"},
    "debit": {"amount"},
    "credit": {"amount"},
    "description": {"text", "textarea"},
    "party": {"party"},
}


@dataclass(frozen=True)
class DefinitionError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionInvalid(ValidationError):
    """A definition breaks the meta-schema or a semantic rule; nothing was saved."""

    def __init__(self, errors: Sequence[DefinitionError]):
        self.errors = list(errors)
        super().__init__([str(e) for e in self.errors])


@cache
def meta_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (SCHEMA_DIR / "voucher_type_config.schema.json").read_text(encoding="utf-8")
    )
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def meta_validator() -> Draft202012Validator:
    return Draft202012Validator(meta_schema())


def json_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(document)"


def _schema_message(error: Any) -> str:
    if error.validator == "pattern" and error.schema.get("pattern") == "^[^<>]*$":
        return f"{error.instance!r} must be plain text: '<' and '>' (HTML) are not allowed"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed: {', '.join(allowed)}"
    return str(error.message)


def schema_errors(definition: Any) -> list[DefinitionError]:
    errors = sorted(meta_validator().iter_errors(definition), key=lambda e: list(e.absolute_path))
    seen: set[tuple[str, str]] = set()
    result = []
    for error in errors:
        if error.validator in ("allOf", "if", "then"):
            continue
        item = (json_path(error.absolute_path), _schema_message(error))
        if item not in seen:
            seen.add(item)
            result.append(DefinitionError(*item))
    return result


def _well_formed(spec: Any) -> bool:
    return (
        isinstance(spec, dict)
        and isinstance(spec.get("key"), str)
        and isinstance(spec.get("type"), str)
    )


def _indexed(definition: VoucherDefinition, section: FieldSection) -> list[tuple[int, FieldSpec]]:
    """The fields of a section with their positions; a malformed entry (which the meta-schema
    reports) is skipped, so the checks below still run on the rest."""
    items = definition.get(section)
    if not isinstance(items, list):
        return []
    return [(index, spec) for index, spec in enumerate(items) if _well_formed(spec)]


def _fields(definition: VoucherDefinition, section: FieldSection) -> list[FieldSpec]:
    return [spec for _, spec in _indexed(definition, section)]


def _key_errors(definition: VoucherDefinition) -> list[DefinitionError]:
    errors = []
    for section in FIELD_SECTIONS:
        core = CORE_HEADER_TYPES if section == "header_fields" else CORE_LINE_TYPES
        first_at: dict[str, int] = {}
        for index, spec in _indexed(definition, section):
            key = spec["key"]
            if key in first_at:
                errors.append(
                    DefinitionError(
                        f"{section}[{index}].key",
                        f"'{key}' repeats {section}[{first_at[key]}].key; keys must be unique",
                    )
                )
            first_at.setdefault(key, index)
            if key in core and spec["type"] not in core[key]:
                errors.append(
                    DefinitionError(
                        f"{section}[{index}].type",
                        f"'{key}' is a voucher column and must be of type "
                        f"{' or '.join(sorted(core[key]))}, not '{spec['type']}'",
                    )
                )
    header_keys = {f["key"]: f for f in _fields(definition, "header_fields")}
    if "date" not in header_keys:
        errors.append(DefinitionError("header_fields", "a 'date' field of type date is required"))
    return errors


def _layout_errors(definition: VoucherDefinition) -> list[DefinitionError]:
    errors = []
    layout: Layout = definition.get("layout") or {}
    header_keys = {f["key"] for f in _fields(definition, "header_fields")}
    line_keys = {f["key"] for f in _fields(definition, "line_fields")}
    placed: dict[str, str] = {}
    for s, section in enumerate(layout.get("header_sections") or []):
        for i, key in enumerate(section["fields"]):
            path = f"layout.header_sections[{s}].fields[{i}]"
            if key not in header_keys:
                errors.append(
                    DefinitionError(
                        path,
                        f"'{key}' is not a header field; known: {', '.join(sorted(header_keys))}",
                    )
                )
            elif key in placed:
                errors.append(DefinitionError(path, f"'{key}' is already placed at {placed[key]}"))
            else:
                placed[key] = path
    for c, column in enumerate(layout.get("line_columns") or []):
        if column["field"] not in line_keys:
            errors.append(
                DefinitionError(
                    f"layout.line_columns[{c}].field",
                    f"'{column['field']}' is not a line field; known: {', '.join(sorted(line_keys))}",
                )
            )
    return errors


# Which section and field type each posting-rule reference must point at.
POSTING_REFERENCES: dict[str, dict[PostingReference, tuple[FieldSection, FieldType]]] = {
    "journal": {
        "account_field": ("line_fields", "account"),
        "debit_field": ("line_fields", "amount"),
        "credit_field": ("line_fields", "amount"),
    },
    "counterpart": {
        "counterpart_field": ("header_fields", "account"),
        "account_field": ("line_fields", "account"),
        "amount_field": ("line_fields", "amount"),
    },
    "invoice": {
        "party_field": ("header_fields", "party"),
        "account_field": ("line_fields", "account"),
        "amount_field": ("line_fields", "amount"),
        "tax_rate_field": ("line_fields", "amount"),
        "tax_account_field": ("header_fields", "account"),
    },
}
AMOUNT_MODE_FOR_RULE = {"journal": "debit_credit", "counterpart": "single", "invoice": "single"}


def _posting_errors(definition: VoucherDefinition) -> list[DefinitionError]:
    errors = []
    posting = definition["posting"]
    rule = posting["rule"]
    sections = {name: {f["key"]: f for f in _fields(definition, name)} for name in FIELD_SECTIONS}
    for ref, (section, wanted_type) in POSTING_REFERENCES[rule].items():
        key = posting.get(ref)
        if key is None:
            continue
        spec = sections[section].get(key)
        if spec is None:
            errors.append(
                DefinitionError(
                    f"posting.{ref}",
                    f"'{key}' is not one of the {section.replace('_', ' ')} "
                    f"({', '.join(sorted(sections[section]))})",
                )
            )
        elif spec["type"] != wanted_type:
            errors.append(
                DefinitionError(
                    f"posting.{ref}",
                    f"'{key}' is of type {spec['type']}; the {rule} rule needs a {wanted_type} field",
                )
            )
        elif section == "header_fields" and ref != "tax_rate_field" and not spec.get("required"):
            errors.append(DefinitionError(f"posting.{ref}", f"'{key}' must be a required field"))
    if rule == "invoice" and posting.get("tax_rate_field") and not posting.get("tax_account_field"):
        errors.append(
            DefinitionError("posting.tax_account_field", "is required when tax_rate_field is set")
        )
    wanted_mode = AMOUNT_MODE_FOR_RULE[rule]
    if definition["lines"]["amount_mode"] != wanted_mode:
        errors.append(
            DefinitionError(
                "lines.amount_mode",
                f"the {rule} rule needs amount_mode '{wanted_mode}', "
                f"not '{definition['lines']['amount_mode']}'",
            )
        )
    lines = definition["lines"]
    if lines.get("min", 1) > lines.get("max", 1000):
        errors.append(DefinitionError("lines.min", "must not be greater than lines.max"))
    return errors


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _default_errors(definition: VoucherDefinition) -> list[DefinitionError]:
    """Defaults must fit their field's type, choices and limits (account codes: see below)."""
    errors = []
    for section in FIELD_SECTIONS:
        for index, spec in _indexed(definition, section):
            path = f"{section}[{index}]"
            kind = spec["type"]
            low, high = spec.get("min_value"), spec.get("max_value")
            if low is not None and high is not None and low > high:
                errors.append(DefinitionError(f"{path}.min_value", "must not exceed max_value"))
            if "choices" in spec:
                values = [c["value"] for c in spec["choices"]]
                if len(set(values)) != len(values):
                    errors.append(
                        DefinitionError(f"{path}.choices", "choice values must be unique")
                    )
                if kind != "choice":
                    errors.append(
                        DefinitionError(f"{path}.choices", "only choice fields take choices")
                    )
            if "filter" in spec and kind != "account":
                errors.append(
                    DefinitionError(f"{path}.filter", "only account fields take a filter")
                )
            if "role" in spec and kind != "party":
                errors.append(DefinitionError(f"{path}.role", "only party fields take a role"))
            if spec.get("read_only") and spec.get("default") in (None, "") and spec.get("required"):
                errors.append(
                    DefinitionError(
                        f"{path}.read_only", "a required read-only field needs a default"
                    )
                )
            default = spec.get("default")
            if default is None or default == "":
                continue
            problem = None
            if kind == "date" and default != "today":
                problem = "the only default a date takes is 'today'"
            elif kind in ("amount", "integer"):
                number = _decimal(default)
                if number is None or (kind == "integer" and number != number.to_integral_value()):
                    problem = f"{default!r} is not a valid {kind}"
                elif (low is not None and number < Decimal(str(low))) or (
                    high is not None and number > Decimal(str(high))
                ):
                    problem = f"{default!r} is outside {low}–{high}"
            elif kind == "boolean" and not isinstance(default, bool):
                problem = f"{default!r} is not true or false"
            elif kind == "choice" and default not in [c["value"] for c in spec.get("choices", [])]:
                problem = f"{default!r} is not one of the field's choices"
            elif kind in ("text", "textarea", "account", "party") and not isinstance(default, str):
                problem = f"{default!r} must be text"
            if problem:
                errors.append(DefinitionError(f"{path}.default", problem))
    return errors


def account_matches_filter(account: Account, spec: FieldSpec) -> bool:
    flt = spec.get("filter") or {}
    types, subtypes = flt.get("account_types"), flt.get("subtypes")
    return (not types or account.account_type in types) and (
        not subtypes or account.subtype in subtypes
    )


def _organization_errors(
    definition: VoucherDefinition, organization: Organization
) -> list[DefinitionError]:
    """Default account and party codes must exist in the organization and fit the filter."""
    errors: list[DefinitionError] = []
    wanted: list[tuple[str, FieldSpec, str]] = []
    for section in FIELD_SECTIONS:
        for index, spec in _indexed(definition, section):
            default = spec.get("default")
            if spec["type"] in ("account", "party") and isinstance(default, str) and default:
                wanted.append((f"{section}[{index}].default", spec, default))
    if not wanted:
        return errors
    codes = {code for _, _, code in wanted}
    accounts = {
        a.code: a
        for a in Account.objects.filter(organization=organization, code__in=codes)
        .prefetch_related("children")
        .only("code", "account_type", "subtype", "is_active")
    }
    parties = set(
        Party.objects.filter(organization=organization, code__in=codes).values_list(
            "code", flat=True
        )
    )
    for path, spec, code in wanted:
        if spec["type"] == "party":
            if code not in parties:
                errors.append(
                    DefinitionError(path, f"party {code} does not exist in {organization}")
                )
            continue
        account = accounts.get(code)
        if account is None:
            errors.append(DefinitionError(path, f"account {code} does not exist in {organization}"))
        elif not account.is_active or account.children.all():
            errors.append(
                DefinitionError(
                    path, f"account {code} is inactive or a group; it cannot be posted to"
                )
            )
        elif not account_matches_filter(account, spec):
            errors.append(
                DefinitionError(
                    path,
                    f"account {code} ({account.account_type}, subtype '{account.subtype}') "
                    f"does not match the field's filter {spec.get('filter')}",
                )
            )
    return errors


def definition_errors(
    definition: Any, *, organization: Organization | None = None
) -> list[DefinitionError]:
    """Every error in a definition; an empty list means it is valid."""
    try:
        size = len(json.dumps(definition, ensure_ascii=False).encode())
    except (TypeError, ValueError) as exc:
        return [DefinitionError("(document)", f"is not JSON data: {exc}")]
    if size > MAX_DOCUMENT_BYTES:
        return [
            DefinitionError(
                "(document)",
                f"is {size:,} bytes; a definition may be at most {MAX_DOCUMENT_BYTES:,}",
            )
        ]
    errors = schema_errors(definition)
    if not isinstance(definition, dict):
        return errors
    # The rules beyond the meta-schema run even where it found errors, so that every problem
    # is reported in one round; a rule that cannot make sense of a malformed part leaves it to
    # the meta-schema's message about that part.
    checked = cast("VoucherDefinition", definition)
    checks: list[Callable[[], list[DefinitionError]]] = [
        lambda: _key_errors(checked),
        lambda: _layout_errors(checked),
        lambda: _posting_errors(checked),
        lambda: _default_errors(checked),
    ]
    if organization is not None:
        checks.append(lambda: _organization_errors(checked, organization))
    at_schema_paths = {error.path for error in errors}
    seen = {(error.path, error.message) for error in errors}
    for check in checks:
        try:
            found = check()
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            continue
        for error in found:
            if error.path in at_schema_paths or (error.path, error.message) in seen:
                continue
            seen.add((error.path, error.message))
            errors.append(error)
    return errors


def validate_definition(definition: Any, *, organization: Organization | None = None) -> None:
    errors = definition_errors(definition, organization=organization)
    if errors:
        raise DefinitionInvalid(errors)
