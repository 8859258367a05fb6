"""The forms of an entry: blank, posted, reopened from a stored voucher, or carried to a new version.

Also what the grid's posted data says about its lines (how many, which were removed) and the
posted data with a line added or taken out, for the buttons that work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

from accounting.forms import OrganizationDateField
from accounting.models import Voucher
from accounting.services.inputs import LineInput
from voucher_config.entry.definitions import EntryDefinition
from voucher_config.form_factory import LINE_PREFIX, ConfiguredForms, EntryLookups
from voucher_config.posting_rules import GENERATED
from voucher_config.validation import CORE_HEADER_TYPES

LINES_LIMIT = 5000  # never trust a posted TOTAL_FORMS beyond what any definition allows
DELETE = forms.formsets.DELETION_FIELD_NAME


def entry_forms_blank(*, entry_def: EntryDefinition, lookups: EntryLookups) -> ConfiguredForms:
    """An empty entry: the configured defaults and the configured number of blank lines."""
    return ConfiguredForms(entry_def.form_classes, entry_def.definition, lookups)


def entry_forms_bound(
    *, entry_def: EntryDefinition, lookups: EntryLookups, data: Mapping[str, Any]
) -> ConfiguredForms:
    return ConfiguredForms(entry_def.form_classes, entry_def.definition, lookups, data=data)


def line_form(
    *,
    entry_def: EntryDefinition,
    lookups: EntryLookups,
    index: int,
    data: Mapping[str, Any] | None = None,
) -> forms.Form:
    """One line of the grid on its own: blank, or read from the posted form."""
    return entry_def.form_classes[1].form(
        data=data,
        prefix=f"{LINE_PREFIX}-{index}",
        lookups=lookups,
        empty_permitted=True,
        use_required_attribute=False,
    )


def _amount_text(value: Decimal) -> str:
    return "" if not value else str(value)


def voucher_initial(
    entry_def: EntryDefinition, voucher: Voucher
) -> tuple[dict[str, Any], list[dict[str, Any]], list[LineInput]]:
    """The form values a stored voucher was entered with, and its stored lines as inputs.

    Lines the posting rule added (counterpart, tax, party) are left out: they are made again
    from the header when the voucher is saved.
    """
    posting = entry_def.definition["posting"]
    header: dict[str, Any] = {}
    columns = {
        "date": voucher.date,
        "reference": voucher.reference,
        "narration": voucher.narration,
        "party": voucher.party.code if voucher.party_id and voucher.party else "",
    }
    for key in entry_def.header_specs:
        header[key] = columns[key] if key in CORE_HEADER_TYPES else voucher.data.get(key)

    # Plain rows, not model instances: a long voucher has hundreds of lines, and building a
    # line and its account for each took a third of its entry page's time.
    stored = list(
        voucher.lines.order_by("order", "id").values(
            "account_id",
            "account__code",
            "party_id",
            "party__code",
            "debit",
            "credit",
            "description",
            "data",
        )
    )
    lines: list[dict[str, Any]] = []
    for line in stored:
        data = line["data"]
        if data.get(GENERATED):
            continue
        values: dict[str, Any] = {}
        for key in entry_def.line_specs:
            if posting["rule"] == "journal" and key == posting.get("debit_field"):
                values[key] = _amount_text(line["debit"])
            elif posting["rule"] == "journal" and key == posting.get("credit_field"):
                values[key] = _amount_text(line["credit"])
            elif key == posting.get("account_field"):
                values[key] = line["account__code"]
            elif key == posting.get("amount_field"):
                values[key] = data.get(key) or _amount_text(line["debit"] or line["credit"])
            elif key == "account":
                values[key] = line["account__code"]
            elif key == "party":
                values[key] = line["party__code"] or ""
            elif key == "description":
                values[key] = line["description"]
            elif key in ("debit", "credit"):
                values[key] = _amount_text(line["debit"] if key == "debit" else line["credit"])
            else:
                values[key] = data.get(key)
        lines.append(values)
    inputs = [
        LineInput(
            account_id=line["account_id"],
            debit=line["debit"],
            credit=line["credit"],
            description=line["description"],
            party_id=line["party_id"],
            data=line["data"],
        )
        for line in stored
    ]
    return header, lines, inputs


def entry_forms_for_voucher(
    *, entry_def: EntryDefinition, lookups: EntryLookups, voucher: Voucher
) -> tuple[ConfiguredForms, list[LineInput]]:
    """The forms of a stored voucher, reopened as it was entered, and its stored lines."""
    header, lines, stored = voucher_initial(entry_def, voucher)
    forms_ = ConfiguredForms(
        entry_def.form_classes,
        entry_def.definition,
        lookups,
        initial_header=header,
        initial_lines=lines,
        line_count=max(len(lines), 1),
    )
    return forms_, stored


def entry_forms_carried_over(
    *,
    entry_def: EntryDefinition,
    lookups: EntryLookups,
    data: Mapping[str, Any],
    previous: EntryDefinition,
) -> ConfiguredForms:
    """A new version's form holding what the user typed into the previous version's form.

    Fields both versions have keep the user's value; new fields show their defaults.
    """
    header: dict[str, Any] = {}
    for key, spec in entry_def.header_specs.items():
        if key not in previous.header_specs:
            continue
        if spec["type"] == "boolean":
            header[key] = bool(data.get(key))
        elif key in data:
            header[key] = data[key]
    shared = [key for key in entry_def.line_specs if key in previous.line_specs]
    lines = raw_lines(data, shared)
    return ConfiguredForms(
        entry_def.form_classes,
        entry_def.definition,
        lookups,
        initial_header=header,
        initial_lines=lines,
        line_count=max(len(lines), entry_def.definition["lines"].get("initial", 2)),
    )


# --- the grid's lines in posted data ---------------------------------------------------------


def posted_line_count(data: Mapping[str, Any]) -> int:
    """How many lines a posted grid holds, removed ones included (its TOTAL_FORMS, bounded)."""
    try:
        return max(0, min(int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS") or 0), LINES_LIMIT))
    except ValueError:
        return 0


def lines_shown(data: Mapping[str, Any]) -> int:
    """How many lines of a posted grid are still shown (not marked removed)."""
    total = posted_line_count(data)
    return sum(1 for index in range(total) if not data.get(f"{LINE_PREFIX}-{index}-{DELETE}"))


def line_limit_problem(entry_def: EntryDefinition, *, shown: int) -> str:
    """Why no line can be added to a grid showing `shown` lines ("" when one can)."""
    if shown >= entry_def.max_lines:
        return f"A {entry_def.type_name} voucher takes at most {entry_def.max_lines} lines."
    return ""


def raw_lines(data: Mapping[str, Any], keys: Sequence[str]) -> list[dict[str, str]]:
    """The lines of a posted form as raw values, without removed and blank ones."""
    rows = []
    for index in range(posted_line_count(data)):
        prefix = f"{LINE_PREFIX}-{index}-"
        if data.get(f"{prefix}{DELETE}"):
            continue
        row = {key: data[prefix + key] for key in keys if data.get(prefix + key) not in (None, "")}
        if row:
            rows.append(row)
    return rows


def changed_line_field(entry_def: EntryDefinition, name: str) -> tuple[int, str] | None:
    """The line index and field key of a grid input's name (`lines-3-account`); None when the
    name is not one of the grid's inputs."""
    parts = name.split("-", 2)
    if len(parts) != 3 or parts[0] != LINE_PREFIX or parts[2] not in entry_def.line_specs:
        return None
    try:
        return int(parts[1]), parts[2]
    except ValueError:
        return None


def form_data_with_line(data: QueryDict, *, entry_def: EntryDefinition) -> QueryDict:
    """The posted form with one more blank line, up to the configured maximum."""
    result = data.copy()
    count = min(posted_line_count(data) + 1, entry_def.max_lines)
    result[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(count)
    return result


def form_data_without_line(data: QueryDict, *, entry_def: EntryDefinition, index: int) -> QueryDict:
    """The posted form with one line taken out and the later ones moved up."""
    keys = [*entry_def.line_specs, DELETE]
    total = posted_line_count(data)
    result = data.copy()
    for position in range(index, total):
        for key in keys:
            target = f"{LINE_PREFIX}-{position}-{key}"
            source = f"{LINE_PREFIX}-{position + 1}-{key}"
            if position + 1 < total and source in data:
                result.setlist(target, data.getlist(source))
            else:
                result.pop(target, None)
    result[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(max(total - 1, 0))
    initial = int(data.get(f"{LINE_PREFIX}-INITIAL_FORMS") or 0)
    result[f"{LINE_PREFIX}-INITIAL_FORMS"] = str(min(initial, max(total - 1, 0)))
    return result


# --- reading the lines of bound forms --------------------------------------------------------


def is_removed(form: forms.Form) -> bool:
    """Whether a posted line carries the grid's deletion mark (read without cleaning it)."""
    if not form.is_bound:
        return False
    name = form.add_prefix(DELETE)
    return bool(forms.CheckboxInput().value_from_datadict(form.data, form.files, name))


def line_values(form: forms.Form) -> dict[str, Any]:
    """A valid line's cleaned values."""
    # The formset's own DELETE mark is bookkeeping, not something the user entered.
    return {k: v for k, v in form.cleaned_data.items() if k != DELETE}


class BalanceForm(forms.Form):
    """What the balance beside a field is asked for: an account or a party code, and a date."""

    account = forms.CharField(required=False, max_length=40)
    party = forms.CharField(required=False, max_length=40)
    date = OrganizationDateField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        account, party = cleaned.get("account"), cleaned.get("party")
        if bool(account) == bool(party):
            raise forms.ValidationError("Ask for the balance of one account or one party.")
        cleaned["kind"] = "account" if account else "party"
        cleaned["code"] = account or party
        return cleaned

    def errors_text(self) -> list[str]:
        return [str(message) for messages in self.errors.values() for message in messages]
