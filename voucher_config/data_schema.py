"""The JSON Schema of a voucher's `data`: what its configuration's non-core header fields allow.

The entry screen checks a voucher's `data` against it before saving, so what is stored always
fits the configuration version it was entered with.
"""

from __future__ import annotations

from typing import Any

from voucher_config.definition import FieldSpec, VoucherDefinition
from voucher_config.validation import CORE_HEADER_TYPES


def data_schema(definition: VoucherDefinition) -> dict[str, Any]:
    """The JSON Schema a voucher's `data` must satisfy: its non-core header fields."""
    properties: dict[str, Any] = {}
    required = []
    for spec in definition["header_fields"]:
        key = spec["key"]
        if key in CORE_HEADER_TYPES:
            continue
        properties[key] = _value_schema(spec)
        if spec.get("required"):
            required.append(key)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _value_schema(spec: FieldSpec) -> dict[str, Any]:
    kind = spec["type"]
    nullable = not spec.get("required")
    schema: dict[str, Any]
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "integer":
        schema = {"type": "integer"}
    elif kind == "amount":
        schema = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    elif kind == "date":
        schema = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    elif kind == "choice":
        schema = {"enum": [c["value"] for c in spec["choices"]]}
    else:
        schema = {"type": "string"}
        if spec.get("max_length"):
            schema["maxLength"] = spec["max_length"]
    if nullable:
        return {"anyOf": [schema, {"type": "null"}, {"const": ""}]}
    return schema
