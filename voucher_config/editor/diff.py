"""What changed between two versions of a definition, field by field, in the words of the form:
"Header field Payee: label changed", "Line field Tax rate added", "Posting rule changed"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from voucher_config.definition import FIELD_SECTIONS

SECTION_NAMES = {"header_fields": "Header field", "line_fields": "Line field"}
PROPERTY_NAMES = {
    "key": "key",
    "label": "label",
    "help_text": "help text",
    "type": "type",
    "required": "required",
    "read_only": "read-only",
    "default": "default",
    "max_length": "maximum length",
    "min_value": "minimum",
    "max_value": "maximum",
    "choices": "choices",
    "filter": "account filter",
    "role": "party role",
}
GENERAL = {"code": "Code", "name": "Name", "description": "Description"}


@dataclass(frozen=True)
class Change:
    """One difference, told as where it is, what happened, and the value before and after."""

    area: str
    item: str
    what: str
    before: str = ""
    after: str = ""


def shown(value: Any) -> str:
    """A value as an accountant reads it: yes/no, lists as lists, choices as "label (value)"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if all(isinstance(v, dict) and "value" in v for v in value):
            return ", ".join(f"{v.get('label', '')} ({v['value']})" for v in value)
        return ", ".join(shown(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {shown(v)}" for k, v in value.items())
    return str(value)


def _field_changes(old: list[Any], new: list[Any], section: str) -> list[Change]:
    name = SECTION_NAMES[section]
    before = {f["key"]: f for f in old if isinstance(f, dict) and "key" in f}
    after = {f["key"]: f for f in new if isinstance(f, dict) and "key" in f}
    changes = []
    for key, spec in after.items():
        label = str(spec.get("label", key))
        if key not in before:
            changes.append(Change(name, label, "added", after=f"{spec.get('type', '')} ({key})"))
            continue
        old_spec = before[key]
        for prop in dict.fromkeys([*old_spec, *spec]):
            if old_spec.get(prop) != spec.get(prop):
                changes.append(
                    Change(
                        name,
                        label,
                        f"{PROPERTY_NAMES.get(prop, prop)} changed",
                        shown(old_spec.get(prop)),
                        shown(spec.get(prop)),
                    )
                )
    for key, spec in before.items():
        if key not in after:
            changes.append(
                Change(name, str(spec.get("label", key)), "removed", before=f"{spec.get('type')}")
            )
    kept_before = [k for k in before if k in after]
    kept_after = [k for k in after if k in before]
    if kept_before != kept_after:
        changes.append(
            Change(
                name + "s",
                "order",
                "fields reordered",
                ", ".join(str(before[k].get("label", k)) for k in kept_before),
                ", ".join(str(after[k].get("label", k)) for k in kept_after),
            )
        )
    return changes


def _labels(definition: dict[str, Any]) -> dict[str, str]:
    return {
        f["key"]: str(f.get("label", f["key"]))
        for section in FIELD_SECTIONS
        for f in definition.get(section) or []
        if isinstance(f, dict) and "key" in f
    }


def _layout_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = []
    labels = {**_labels(old), **_labels(new)}

    def sections(definition: dict[str, Any]) -> dict[str, str]:
        layout = definition.get("layout") or {}
        return {
            str(s.get("title", "")): ", ".join(labels.get(k, k) for k in s.get("fields", []))
            for s in layout.get("header_sections") or []
        }

    def columns(definition: dict[str, Any]) -> str:
        layout = definition.get("layout") or {}
        return ", ".join(
            labels.get(c.get("field", ""), c.get("field", ""))
            + (f" ({c['width']}%)" if c.get("width") else "")
            for c in layout.get("line_columns") or []
        )

    old_sections, new_sections = sections(old), sections(new)
    for title, fields in new_sections.items():
        if title not in old_sections:
            changes.append(Change("Section", title, "added", after=fields))
        elif old_sections[title] != fields:
            changes.append(Change("Section", title, "fields changed", old_sections[title], fields))
    for title, fields in old_sections.items():
        if title not in new_sections:
            changes.append(Change("Section", title, "removed", before=fields))
    if list(old_sections) != list(new_sections) and set(old_sections) == set(new_sections):
        changes.append(
            Change(
                "Sections", "order", "reordered", ", ".join(old_sections), ", ".join(new_sections)
            )
        )
    if columns(old) != columns(new):
        changes.append(Change("Line columns", "columns", "changed", columns(old), columns(new)))
    return changes


def _object_changes(old: dict[str, Any], new: dict[str, Any], area: str, what: str) -> list[Change]:
    changes = []
    for prop in dict.fromkeys([*old, *new]):
        if old.get(prop) != new.get(prop):
            changes.append(
                Change(
                    area,
                    prop.replace("_", " "),
                    what,
                    shown(old.get(prop)),
                    shown(new.get(prop)),
                )
            )
    return changes


def definition_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference from `old` to `new`, in the order the editor shows the definition."""
    changes = [
        Change("General", GENERAL[key], "changed", shown(old.get(key)), shown(new.get(key)))
        for key in GENERAL
        if old.get(key) != new.get(key)
    ]
    for section in FIELD_SECTIONS:
        changes += _field_changes(old.get(section) or [], new.get(section) or [], section)
    changes += _layout_changes(old, new)
    changes += _object_changes(old.get("lines") or {}, new.get("lines") or {}, "Lines", "changed")
    old_posting, new_posting = old.get("posting") or {}, new.get("posting") or {}
    if old_posting.get("rule") != new_posting.get("rule"):
        changes.append(
            Change(
                "Posting rule",
                "rule",
                "rule changed",
                shown(old_posting.get("rule")),
                shown(new_posting.get("rule")),
            )
        )
    labels = {**_labels(old), **_labels(new)}
    for ref in dict.fromkeys([*old_posting, *new_posting]):
        if ref == "rule" or old_posting.get(ref) == new_posting.get(ref):
            continue
        before, after = old_posting.get(ref), new_posting.get(ref)
        changes.append(
            Change(
                "Posting rule",
                ref.replace("_", " "),
                "changed",
                labels.get(str(before), shown(before)) if ref.endswith("_field") else shown(before),
                labels.get(str(after), shown(after)) if ref.endswith("_field") else shown(after),
            )
        )
    changes += _object_changes(
        old.get("workflow") or {}, new.get("workflow") or {}, "Workflow", "changed"
    )
    if old.get("examples") != new.get("examples"):
        changes.append(
            Change(
                "Examples",
                "sample entries",
                "changed",
                f"{len(old.get('examples') or [])} example(s)",
                f"{len(new.get('examples') or [])} example(s)",
            )
        )
    known = {*GENERAL, *FIELD_SECTIONS, "layout", "lines", "posting", "workflow", "examples"}
    for key in dict.fromkeys([*old, *new]):
        if key not in known and old.get(key) != new.get(key):
            changes.append(
                Change(
                    "Other",
                    key,
                    "changed",
                    json.dumps(old.get(key), ensure_ascii=False),
                    json.dumps(new.get(key), ensure_ascii=False),
                )
            )
    return changes


def change_summary(changes: list[Change], *, limit: int = 4) -> str:
    """A line for the history list: "Header field Payee: label changed; Line field Tax added"."""
    parts = [f"{c.area} {c.item}: {c.what}" for c in changes[:limit]]
    if len(changes) > limit:
        parts.append(f"and {len(changes) - limit} more")
    return "; ".join(parts)
