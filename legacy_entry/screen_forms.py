"""The header form and the line formset of one legacy entry, handled together as one screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django import forms

from accounting.models import Account, Organization, Party
from legacy_entry.fields import ChoiceSource
from legacy_entry.forms import LINE_PREFIX, MAX_LINES, VoucherForm, voucher_form_class

BLANK_LINES = 2  # blank lines a new entry starts with


def _field_initial(field: forms.Field) -> Any:
    return field.initial() if callable(field.initial) else field.initial


class LegacyForms:
    """The header form and the line formset of one legacy entry, bound or unbound."""

    def __init__(
        self,
        *,
        organization: Organization,
        type_code: str,
        data: Mapping[str, Any] | None = None,
        initial_header: Mapping[str, Any] | None = None,
        initial_lines: Sequence[Mapping[str, Any]] | None = None,
        blank_lines: int | None = None,
    ):
        self.form_class = voucher_form_class(type_code)
        # The accounts and parties are read once for the header and every line.
        choices = ChoiceSource(organization)
        self.header: VoucherForm = self.form_class(
            data=data, initial=initial_header, organization=organization, choices=choices
        )
        formset_class = self.form_class.line_formset
        if data is None:
            lines = [dict(line) for line in initial_lines or ()]
            self.lines = formset_class(initial=lines, organization=organization, choices=choices)
            self.lines.extra = (
                blank_lines if blank_lines is not None else max(0, BLANK_LINES - len(lines))
            )
        else:
            # No initial when bound: a line counts as entered when it differs from the defaults.
            self.lines = formset_class(data=data, organization=organization, choices=choices)

    @classmethod
    def with_added_line(
        cls, *, organization: Organization, type_code: str, data: Mapping[str, Any]
    ) -> LegacyForms:
        """The posted values, unvalidated, with one more blank line: the Add line button."""
        form_class = voucher_form_class(type_code)
        header = {name: data[name] for name in form_class.base_fields if name in data}
        line_names = list(form_class.line_formset.form.base_fields)
        try:
            total = min(int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS") or 0), MAX_LINES - 1)
        except ValueError:
            total = 0
        lines = []
        for index in range(max(total, 0)):
            prefix = f"{LINE_PREFIX}-{index}-"
            if data.get(f"{prefix}DELETE"):
                continue
            lines.append(
                {name: data[prefix + name] for name in line_names if prefix + name in data}
            )
        return cls(
            organization=organization,
            type_code=type_code,
            initial_header=header,
            initial_lines=lines,
            blank_lines=1,
        )

    def is_valid(self) -> bool:
        header_ok = self.header.is_valid()
        lines_ok = self.lines.is_valid()
        return header_ok and lines_ok

    def has_errors(self) -> bool:
        if not self.header.is_bound:
            return False
        return bool(self.header.errors) or self.lines.total_error_count() > 0

    def disable(self) -> None:
        """Shows the entry read-only (a voucher approved as it stands)."""
        for form in (self.header, *self.lines.forms):
            for field in form.fields.values():
                field.disabled = True

    def error_list(self) -> list[str]:
        """Every error, each saying where it is: for callers without a page to show them on."""
        found = []
        if self.header.is_bound:
            for name, errors in self.header.errors.items():
                where = "" if name == "__all__" else f"{self.header.fields[name].label}: "
                found += [f"{where}{error}" for error in errors]
            for index, form in enumerate(self.lines.forms):
                for name, errors in form.errors.items():
                    label = "" if name == "__all__" else f", {form.fields[name].label}"
                    found += [f"line {index + 1}{label}: {error}" for error in errors]
            found += [str(error) for error in self.lines.non_form_errors()]
        return found

    @classmethod
    def raw_data(
        cls,
        *,
        type_code: str,
        header: Mapping[str, Any],
        lines: Sequence[Mapping[str, Any]],
    ) -> dict[str, str]:
        """POST data for an entry given as raw values; fields left out take their defaults."""
        form_class = voucher_form_class(type_code)
        data: dict[str, str] = {}

        def text(value: Any) -> str:
            if isinstance(value, Account | Party):
                return value.code
            if isinstance(value, date):
                return value.isoformat()
            return str(value)

        for name, field in form_class.base_fields.items():
            value = header.get(name, _field_initial(field))
            if value is not None:
                data[name] = text(value)
        line_fields = form_class.line_formset.form.base_fields
        for index, line in enumerate(lines):
            for name, field in line_fields.items():
                value = line.get(name, _field_initial(field))
                if value is not None:
                    data[f"{LINE_PREFIX}-{index}-{name}"] = text(value)
        data[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(len(lines))
        data[f"{LINE_PREFIX}-INITIAL_FORMS"] = "0"
        return data
