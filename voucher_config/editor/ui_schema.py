"""What the structured editor draws, derived from the meta-schema: the controls of a field,
the posting rules with the fields each one takes, the workflow and the lines' settings.

The meta-schema says what a definition may hold; this adds only what it cannot say for a form:
which properties belong to which field type, labels, and which field each posting reference
must point at (from the validation, so the editor offers only fields it will accept).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from voucher_config.editor.diff import PROPERTY_NAMES
from voucher_config.posting_rules import POSTING_RULES
from voucher_config.validation import AMOUNT_MODE_FOR_RULE, POSTING_REFERENCES, meta_schema

# Properties that mean something only for some field types (the validation refuses the rest).
PROPERTY_TYPES: dict[str, list[str]] = {
    "choices": ["choice"],
    "filter": ["account"],
    "role": ["party"],
    "max_length": ["text", "textarea"],
    "min_value": ["amount", "integer"],
    "max_value": ["amount", "integer"],
}
# Shown on the field's first line; the others under "More".
MAIN_PROPERTIES = ("key", "label", "type", "required")


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its `$ref` (to `#/$defs/...`) merged in."""
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema["$defs"][ref.rsplit("/", 1)[-1]]
    return {**_resolve(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}


def control(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The kind of input a schema node needs, with its limits."""
    node = _resolve(node, schema)
    described: dict[str, Any] = {}
    if "enum" in node:
        described = {"input": "select", "options": node["enum"]}
    elif node.get("type") == "boolean":
        described = {"input": "checkbox"}
    elif node.get("type") in ("integer", "number"):
        described = {"input": "number", "step": "1" if node["type"] == "integer" else "any"}
        for bound in ("minimum", "maximum"):
            if bound in node:
                described[bound] = node[bound]
    elif node.get("type") == "string":
        described = {"input": "text"}
        if "maxLength" in node:
            described["maxlength"] = node["maxLength"]
        if "pattern" in node and node["pattern"] != "^[^<>]*$":
            described["pattern"] = node["pattern"]
    elif node.get("type") == "array" and "properties" in _resolve(node["items"], schema):
        item = _resolve(node["items"], schema)
        described = {
            "input": "rows",
            "columns": {name: control(sub, schema) for name, sub in item["properties"].items()},
            "maxItems": node.get("maxItems"),
        }
    elif node.get("type") == "array" and "enum" in _resolve(node["items"], schema):
        described = {"input": "checkboxes", "options": _resolve(node["items"], schema)["enum"]}
    elif node.get("type") == "array":
        described = {"input": "list", "item": control(node["items"], schema)}
    elif node.get("type") == "object":
        described = {
            "input": "group",
            "properties": {name: control(sub, schema) for name, sub in node["properties"].items()},
        }
    else:  # several JSON types (a default): text, read by the field's type
        described = {"input": "default"}
    return described


@cache
def editor_schema() -> dict[str, Any]:
    """Everything the editor's script needs to draw a definition, as JSON."""
    schema = meta_schema()
    field = schema["$defs"]["field"]
    properties = []
    for name, node in field["properties"].items():
        properties.append(
            {
                "name": name,
                "label": PROPERTY_NAMES.get(name, name).capitalize(),
                "types": PROPERTY_TYPES.get(name),
                "main": name in MAIN_PROPERTIES,
                "required": name in field["required"],
                **control(node, schema),
            }
        )
    rules = {}
    for branch in schema["properties"]["posting"]["allOf"]:
        rule = branch["if"]["properties"]["rule"]["const"]
        then = branch["then"]
        settings = []
        for name, node in then["properties"].items():
            if name == "rule":
                continue
            setting: dict[str, Any] = {
                "name": name,
                "label": name.replace("_", " ").capitalize(),
                "required": name in then.get("required", []),
            }
            if name in POSTING_REFERENCES[rule]:
                section, kind = POSTING_REFERENCES[rule][name]
                setting.update(input="field", section=section, field_type=kind)
            else:
                setting.update(control(node, schema))
            settings.append(setting)
        rules[rule] = {
            "label": POSTING_RULES[rule],
            "amount_mode": AMOUNT_MODE_FOR_RULE[rule],
            "settings": settings,
        }
    top = schema["properties"]
    return {
        "field": properties,
        "new_field": {"key": "", "label": "New field", "type": "text"},
        "rules": rules,
        "general": {name: control(top[name], schema) for name in ("code", "name", "description")},
        "lines": {name: control(node, schema) for name, node in top["lines"]["properties"].items()},
        "workflow": {
            name: control(node, schema) for name, node in top["workflow"]["properties"].items()
        },
        "section_title": control(
            top["layout"]["properties"]["header_sections"]["items"]["properties"]["title"], schema
        ),
        "column_width": control(
            top["layout"]["properties"]["line_columns"]["items"]["properties"]["width"], schema
        ),
    }
