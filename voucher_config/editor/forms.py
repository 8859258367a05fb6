"""The configuration editor's forms: the definition as JSON text read with line and column,
every problem at its JSON path in one round, and the version the editor started from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms

from voucher_config.models import VoucherTypeConfig
from voucher_config.validation import definition_errors


@dataclass(frozen=True)
class Problem:
    """A problem the editor shows at its place: a JSON path, or a line and column of the text."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }


class DefinitionField(forms.CharField):
    """JSON text in, a definition out; broken JSON is told with its line and column."""

    widget = forms.Textarea(
        attrs={"rows": 30, "cols": 120, "class": "vLargeTextField definition-json"}
    )

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)
        self.syntax_problem: Problem | None = None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        self.syntax_problem = None
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.syntax_problem = Problem(
                "(document)",
                f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                exc.lineno,
                exc.colno,
            )
            raise forms.ValidationError(self.syntax_problem.message, code="invalid") from exc


class VoucherTypeConfigForm(forms.ModelForm):
    definition = DefinitionField(
        help_text="The whole definition as JSON; the structured editor above writes it for you."
    )
    change_reason = forms.CharField(
        required=False,
        max_length=100,
        label="Reason for the change",
        help_text="Recorded in the history with this version.",
    )

    class Meta:
        model = VoucherTypeConfig
        fields = ["organization", "voucher_type", "is_active", "definition"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[Problem] = []
        # Set when another administrator saved a newer version since this form was drawn.
        self.conflict: VersionConflict | None = None

    def base_version(self) -> int | None:
        """The version the editor was drawn from (a hidden input of the change page)."""
        try:
            return int(self.data.get("base_version", ""))
        except (TypeError, ValueError):
            return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        field = self.fields["definition"]
        if isinstance(field, DefinitionField) and field.syntax_problem is not None:
            self.problems.append(field.syntax_problem)
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        voucher_type = cleaned.get("voucher_type")
        if voucher_type and organization and voucher_type.organization_id != organization.pk:
            self.add_error("voucher_type", "This voucher type belongs to another organization.")
        definition = cleaned.get("definition")
        if definition is not None:
            for error in definition_errors(definition, organization=organization):
                self.problems.append(Problem(error.path, error.message))
                self.add_error("definition", str(error))
        if self.instance.pk and not self.errors:
            self._check_version(definition)
        return cleaned

    def _check_version(self, definition: Any) -> None:
        """Refuses the save when the stored version moved on since the editor was drawn.

        The row is locked for the rest of the request (the admin saves in one transaction), so
        a save of the same type by someone else waits for this one to commit or be refused.
        """
        base = self.base_version()
        current = VoucherTypeConfig.objects.select_for_update().get(pk=self.instance.pk)
        if base is None or base == current.version:
            return
        self.conflict = VersionConflict.between(current, base, definition)
        self.add_error(
            None,
            f"Not saved: {self.conflict.saved_by} saved version {current.version} of this "
            f"configuration while you were editing version {base}. Their changes are listed "
            "below; your edits are still in the editor. Check them against theirs and save "
            "again to make yours the next version.",
        )


@dataclass
class VersionConflict:
    """Another administrator's save that came between opening the editor and saving it."""

    base_version: int
    current_version: int
    saved_by: str
    theirs: list[Any]  # what they changed: base version -> current version
    yours: list[Any]  # what this save would change in the current version

    @classmethod
    def between(cls, current: VoucherTypeConfig, base: int, definition: Any) -> VersionConflict:
        from voucher_config.editor.diff import definition_changes
        from voucher_config.services import config_definition_at

        base_definition = config_definition_at(current, base) or {}
        user = current.updated_by
        return cls(
            base_version=base,
            current_version=current.version,
            saved_by=(user.get_full_name() or user.get_username()) if user else "another user",
            theirs=definition_changes(base_definition, current.definition),
            yours=definition_changes(current.definition, definition)
            if isinstance(definition, dict)
            else [],
        )


class RestoreForm(forms.Form):
    reason = forms.CharField(
        max_length=75,
        label="Reason",
        help_text="Why this version comes back; recorded in the history.",
    )
    confirm = forms.BooleanField(
        label="I have checked the differences and want this version back as a new version."
    )
