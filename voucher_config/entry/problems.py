"""Problems with an entry, placed where the user will see them: at the field or line they concern.

The ledger's refusals name a voucher line and a column (`debit`, `account`); data that breaks the
schema the configuration generates names a header key. Both are turned into sentences and put on
the entry's forms, which the caller re-renders.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from jsonschema import Draft202012Validator

from accounting.services.checks import Problem
from accounting.services.inputs import LineInput
from voucher_config.data_schema import data_schema
from voucher_config.definition import PostingReference
from voucher_config.entry.definitions import EntryDefinition
from voucher_config.entry.forms import is_removed
from voucher_config.form_factory import ConfiguredForms
from voucher_config.posting_rules import GENERATED

# Ledger problems read "<voucher>: is not balanced …"; these starts need a subject put back.
VERB_STARTS = ("is ", "has ", "needs ", "no longer ")

# What a generated line's problem is about, in the header: the field that made the line.
GENERATED_FIELD: dict[str, PostingReference] = {
    "counterpart": "counterpart_field",
    "tax": "tax_account_field",
    "party": "party_field",
}


def problem_sentence(subject: str, message: str, *, named: bool = False) -> str:
    """A ledger problem as a sentence; `named` keeps the subject even before a noun."""
    message = message.rstrip(".")
    if message.startswith(VERB_STARTS):
        return f"{subject} {message}."
    if named:
        return f"{subject}: {message}."
    return f"{message[:1].upper()}{message[1:]}."


def add_header_error(forms_: ConfiguredForms, key: str | None, message: str) -> None:
    """An error at a header field, or above the form when the field is not on it."""
    if key is not None and key in forms_.header.fields:
        forms_.header.add_error(key, message)
    else:
        forms_.header.add_error(None, message)


def _line_field_for(entry_def: EntryDefinition, problem_field: str | None) -> str | None:
    posting = entry_def.definition["posting"]
    if problem_field == "account":
        return str(posting["account_field"])
    if problem_field in ("debit", "credit"):
        if posting["rule"] == "journal":
            side = posting["debit_field"] if problem_field == "debit" else posting["credit_field"]
            return str(side)
        return str(posting["amount_field"])
    if problem_field in entry_def.line_specs:
        return problem_field
    return None


def place_problems(
    forms_: ConfiguredForms,
    entry_def: EntryDefinition,
    lines: Sequence[LineInput],
    problems: Sequence[Problem],
) -> None:
    """Puts the ledger's objections at the field or line of the form they concern.

    Problem line numbers count the voucher's lines, including those the posting rule added;
    entered lines map back to the filled rows of the grid in order.
    """
    filled = [form for form in forms_.lines.forms if form.has_changed() and not is_removed(form)]
    by_number: dict[int, forms.Form | str] = {}
    entered = 0
    for number, line in enumerate(lines, start=1):
        kind = line.data.get(GENERATED)
        if kind:
            by_number[number] = str(kind)
        elif entered < len(filled):
            by_number[number] = filled[entered]
            entered += 1
    posting = entry_def.definition["posting"]
    for problem in problems:
        target = by_number.get(problem.line) if problem.line is not None else None
        if isinstance(target, forms.Form):
            key = _line_field_for(entry_def, problem.field)
            message = problem_sentence("This line", problem.message)
            if key is not None and key in target.fields:
                target.add_error(key, message)
            else:
                target.add_error(None, message)
        elif isinstance(target, str):
            reference = GENERATED_FIELD.get(target)
            key = posting.get(reference) if reference else None
            where = entry_def.label(key) if key else target
            add_header_error(
                forms_,
                key,
                problem_sentence(
                    f"The {target} line made from {where}", problem.message, named=True
                ),
            )
        else:
            key = problem.field if problem.field in entry_def.header_specs else None
            add_header_error(forms_, key, problem_sentence("The voucher", problem.message))


_DATA_VALIDATORS: OrderedDict[Hashable, Draft202012Validator] = OrderedDict()


def _data_validator(entry_def: EntryDefinition) -> Draft202012Validator:
    validator = _DATA_VALIDATORS.get(entry_def.cache_key)
    if validator is None:
        validator = Draft202012Validator(data_schema(entry_def.definition))
        _DATA_VALIDATORS[entry_def.cache_key] = validator
        while len(_DATA_VALIDATORS) > 256:
            _DATA_VALIDATORS.popitem(last=False)
    return validator


def data_problems(entry_def: EntryDefinition, data: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Where a voucher's `data` breaks the schema the configuration generates for it."""
    found = []
    for error in _data_validator(entry_def).iter_errors(data):
        key = str(error.absolute_path[0]) if error.absolute_path else None
        found.append((key, f"Not a valid value ({error.message})."))
    return found


# --- every problem as one list ---------------------------------------------------------------


def _messages(errors: Iterable[object]) -> list[str]:
    return [str(error) for error in errors]


def form_errors(forms_: ConfiguredForms) -> list[str]:
    """The problems of an entry that belong to no one field: above the header and the grid."""
    errors = _messages(forms_.header.non_field_errors())
    if forms_.lines.is_bound:
        errors += _messages(forms_.lines.non_form_errors())
    return errors + forms_.line_problems


def all_errors(entry_def: EntryDefinition, forms_: ConfiguredForms) -> list[str]:
    """Every problem of an entry as one list, each saying where it is."""
    errors = form_errors(forms_)
    for key, messages in forms_.header.errors.items():
        if key != NON_FIELD_ERRORS:
            errors += [f"{entry_def.label(key)}: {message}" for message in messages]
    number = 0
    for form in forms_.lines.forms:
        if is_removed(form):
            continue
        number += 1
        for key, messages in form.errors.items():
            where = f"Line {number}" + (
                "" if key == NON_FIELD_ERRORS else f", {entry_def.label(key)}"
            )
            errors += [f"{where}: {message}" for message in messages]
    return errors
