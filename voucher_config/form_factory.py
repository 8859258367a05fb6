"""Builds Django forms from a configuration: a header form and a formset for the lines.

One `create_<type>_field` method per field type; an unknown type fails with the list of valid
ones. Form classes are built once per configuration version and cached; what depends on the
request (the organization's accounts and parties) comes in through `EntryLookups`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, cast

from django import forms
from django.utils import timezone

from accounting.forms import AmountField, OrganizationDateField
from accounting.models import Account, Organization, Party, PartyRole
from accounting.selectors import active_parties, postable_accounts
from voucher_config.definition import (
    AccountFilter,
    FieldSection,
    FieldSpec,
    FieldType,
    VoucherDefinition,
)
from voucher_config.posting_rules import EnteredVoucher
from voucher_config.validation import account_matches_filter

LINE_PREFIX = "lines"


class EntryLookups:
    """The organization's postable accounts and active parties, each read once per request."""

    def __init__(self, organization: Organization):
        self.organization = organization

    @cached_property
    def accounts(self) -> dict[str, Account]:
        return {a.code: a for a in postable_accounts(organization=self.organization)}

    @cached_property
    def parties(self) -> dict[str, Party]:
        return {p.code: p for p in active_parties(organization=self.organization)}

    def accounts_for(self, spec: Mapping[str, Any]) -> list[Account]:
        # Any mapping: the parity check passes field specs straight from the stored JSON.
        field_spec = cast("FieldSpec", spec)
        return [a for a in self.accounts.values() if account_matches_filter(a, field_spec)]

    def parties_for(self, spec: Mapping[str, Any]) -> list[Party]:
        return [p for p in self.parties.values() if party_matches_role(p, spec.get("role"))]


def party_matches_role(party: Party, role: str | None) -> bool:
    return not role or role == "any" or party.role in (role, PartyRole.BOTH)


def filter_description(spec: FieldSpec) -> str:
    flt: AccountFilter = spec.get("filter") or {}
    parts = []
    if flt.get("subtypes"):
        parts.append(" or ".join(flt["subtypes"]) + " accounts")
    if flt.get("account_types"):
        parts.append(" or ".join(flt["account_types"]) + " accounts")
    return " that are ".join(parts) if parts else "posting accounts"


class LookupField(forms.CharField):
    """A code typed or picked by the user, resolved against the request's lookups."""

    def __init__(self, *, spec: FieldSpec, **kwargs: Any):
        self.spec = spec.copy()
        self.lookups: EntryLookups | None = None
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, Account | Party) else value

    def to_python(self, value: Any) -> Any:
        if isinstance(value, Account | Party):
            return value
        typed = (super().to_python(value) or "").strip()
        if not typed:
            return None
        assert self.lookups is not None, "bind the form with lookups"
        return self.resolve(self.code_for(typed))

    def code_for(self, typed: str) -> str:
        """The code meant by what was typed, found as the screen finds it when the field is
        left: the exact code, or the first word when it is one ("1120 Main bank account" from
        a search pick), else the one code or name this field allows that matches, ignoring case
        (the code starting with it, or the name containing it). Otherwise what was typed, for
        `resolve` to refuse."""
        known = self.known_codes()
        first = typed.split(" ", 1)[0]
        for code in (typed, first):
            if code in known:
                return code
        needle = typed.casefold()
        matches = [
            code
            for code, name in self.allowed_names()
            if code.casefold().startswith(needle) or needle in name.casefold()
        ]
        return matches[0] if len(matches) == 1 else first

    def known_codes(self) -> Mapping[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def allowed_names(self) -> list[tuple[str, str]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def resolve(self, code: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class AccountField(LookupField):
    def known_codes(self) -> Mapping[str, Any]:
        assert self.lookups is not None
        return self.lookups.accounts

    def allowed_names(self) -> list[tuple[str, str]]:
        assert self.lookups is not None
        return [(a.code, a.name) for a in self.lookups.accounts_for(self.spec)]

    def resolve(self, code: str) -> Account:
        assert self.lookups is not None
        account = self.lookups.accounts.get(code)
        if account is None:
            raise forms.ValidationError(
                f"Account {code} does not exist or cannot be posted to (inactive or a group).",
                code="unknown_account",
            )
        if not account_matches_filter(account, self.spec):
            raise forms.ValidationError(
                f"Account {code} is not allowed here; choose one of the "
                f"{filter_description(self.spec)}.",
                code="account_filter",
            )
        return account


class PartyField(LookupField):
    def known_codes(self) -> Mapping[str, Any]:
        assert self.lookups is not None
        return self.lookups.parties

    def allowed_names(self) -> list[tuple[str, str]]:
        assert self.lookups is not None
        return [(p.code, p.name) for p in self.lookups.parties_for(self.spec)]

    def resolve(self, code: str) -> Party:
        assert self.lookups is not None
        party = self.lookups.parties.get(code)
        if party is None:
            raise forms.ValidationError(f"Party {code} does not exist.", code="unknown_party")
        role = self.spec.get("role")
        if not party_matches_role(party, role):
            raise forms.ValidationError(f"{party.name} is not a {role}.", code="party_role")
        return party


def today() -> date:
    return timezone.localdate()


class FormBuilder:
    """Turns a definition's fields into Django form fields, one method per field type."""

    def __init__(self, definition: VoucherDefinition):
        self.definition = definition

    def formfield(self, spec: FieldSpec) -> forms.Field:
        method: Callable[[FieldSpec, dict[str, Any]], forms.Field] | None = getattr(
            self, f"create_{spec['type']}_field", None
        )
        if method is None:
            raise ValueError(
                f"Unknown field type {spec['type']!r}; valid types: {', '.join(self.field_types())}"
            )
        options: dict[str, Any] = {
            "label": spec["label"],
            "required": bool(spec.get("required")),
            "help_text": spec.get("help_text", ""),
            "disabled": bool(spec.get("read_only")),
        }
        default = spec.get("default")
        if default not in (None, ""):
            options["initial"] = self.typed_default(spec["type"], default)
        return method(spec, options)

    @staticmethod
    def typed_default(kind: FieldType, default: Any) -> Any:
        """The default as the field's own type, so an untouched row does not count as changed."""
        if default == "today" and kind == "date":
            return today
        if kind == "amount":
            return Decimal(str(default))
        if kind == "integer":
            return int(default)
        return default

    @classmethod
    def field_types(cls) -> list[str]:
        return sorted(
            name.removeprefix("create_").removesuffix("_field")
            for name in dir(cls)
            if name.startswith("create_") and name.endswith("_field")
        )

    def create_text_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        return forms.CharField(max_length=spec.get("max_length", 255), **options)

    def create_textarea_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        return forms.CharField(
            max_length=spec.get("max_length", 1000),
            widget=forms.Textarea(attrs={"rows": 2}),
            **options,
        )

    def create_date_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        return OrganizationDateField(widget=forms.DateInput(attrs={"type": "date"}), **options)

    def create_amount_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        low, high = spec.get("min_value"), spec.get("max_value")
        return AmountField(
            max_digits=18,
            decimal_places=2,
            min_value=None if low is None else Decimal(str(low)),
            max_value=None if high is None else Decimal(str(high)),
            widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "amount"}),
            **options,
        )

    def create_integer_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        low, high = spec.get("min_value"), spec.get("max_value")
        return forms.IntegerField(
            min_value=None if low is None else int(low),
            max_value=None if high is None else int(high),
            **options,
        )

    def create_choice_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        choices = [(c["value"], c["label"]) for c in spec["choices"]]
        if not spec.get("required"):
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **options)

    def create_boolean_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        options["required"] = False  # a required checkbox would mean "must be ticked"
        return forms.BooleanField(**options)

    def create_account_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        return AccountField(
            spec=spec,
            widget=forms.TextInput(attrs={"class": "lookup", "autocomplete": "off"}),
            **options,
        )

    def create_party_field(self, spec: FieldSpec, options: dict[str, Any]) -> forms.Field:
        return PartyField(
            spec=spec,
            widget=forms.TextInput(attrs={"class": "lookup", "autocomplete": "off"}),
            **options,
        )

    def form_class(self, section: FieldSection, name: str) -> type[forms.Form]:
        fields = {spec["key"]: self.formfield(spec) for spec in self.definition[section]}
        return type(name, (ConfiguredForm,), fields)


class ConfiguredForm(forms.Form):
    """A form whose lookup fields resolve codes in the request's organization."""

    def __init__(self, *args: Any, lookups: EntryLookups, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lookups = lookups
        for field in self.fields.values():
            if isinstance(field, LookupField):
                field.lookups = lookups


class ConfiguredLineForm(ConfiguredForm):
    """A grid row. A row left blank (nothing but defaults) is skipped, not refused."""

    # The debit and credit keys when the grid has both columns: a row takes exactly one.
    sides: tuple[str, str] | None = None

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("empty_permitted", True)
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.sides:
            debit_key, credit_key = self.sides
            debit, credit = cleaned.get(debit_key), cleaned.get(credit_key)
            if debit and credit:
                raise forms.ValidationError(
                    "Enter either a debit or a credit on a line, not both.", code="both_sides"
                )
            if not debit and not credit and not {debit_key, credit_key} & set(self.errors):
                raise forms.ValidationError("Enter a debit or a credit amount.", code="no_amount")
            for key in (debit_key, credit_key):
                value = cleaned.get(key)
                if value is not None and value < 0:
                    self.add_error(key, "Amounts must be positive; use the other column instead.")
        return cleaned


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, lookups: EntryLookups, **kwargs: Any):
        self.lookups = lookups
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "lookups": self.lookups}

    def filled_forms(self) -> list[forms.Form]:
        return [f for f in self.forms if f.has_changed() and f not in self.deleted_forms]


class ConfiguredForms:
    """The header form and the line formset of one entry, bound or unbound."""

    def __init__(
        self,
        form_classes: tuple[type[ConfiguredForm], type[BaseLineFormSet]],
        definition: VoucherDefinition,
        lookups: EntryLookups,
        data: Mapping[str, Any] | None = None,
        initial_header: Mapping[str, Any] | None = None,
        initial_lines: list[dict[str, Any]] | None = None,
        line_count: int | None = None,
    ):
        header_class, formset_class = form_classes
        self.definition = definition
        self.header = header_class(data=data, initial=initial_header, lookups=lookups)
        lines_spec = definition["lines"]
        if data is None:
            wanted = line_count or max(lines_spec.get("initial", 2), len(initial_lines or []))
            initial_lines = list(initial_lines or [])
            extra = max(0, wanted - len(initial_lines))
            self.lines = formset_class(
                initial=initial_lines, prefix=LINE_PREFIX, lookups=lookups, form_kwargs={}
            )
            self.lines.extra = extra
        else:
            self.lines = formset_class(data=data, prefix=LINE_PREFIX, lookups=lookups)
        self.line_problems: list[str] = []

    def is_valid(self) -> bool:
        header_ok = self.header.is_valid()
        lines_ok = self.lines.is_valid()
        self.line_problems = []
        if lines_ok:
            filled = len(self.lines.filled_forms())
            lines_spec = self.definition["lines"]
            low, high = lines_spec.get("min", 1), lines_spec.get("max", 1000)
            if filled < low:
                self.line_problems.append(f"Enter at least {low} line(s); {filled} entered.")
            if filled > high:
                self.line_problems.append(f"Enter at most {high} lines; {filled} entered.")
        return header_ok and lines_ok and not self.line_problems

    def entered_voucher(self) -> EnteredVoucher:
        return EnteredVoucher(
            header=dict(self.header.cleaned_data),
            lines=[
                {key: value for key, value in form.cleaned_data.items() if key != "DELETE"}
                for form in self.lines.filled_forms()
            ],
        )


_FORM_CLASS_CACHE: OrderedDict[Hashable, tuple[type[ConfiguredForm], type[BaseLineFormSet]]] = (
    OrderedDict()
)
FORM_CLASS_CACHE_SIZE = 256


def build_form_classes(
    definition: VoucherDefinition,
) -> tuple[type[ConfiguredForm], type[BaseLineFormSet]]:
    builder = FormBuilder(definition)
    header_class = builder.form_class("header_fields", "HeaderForm")
    line_attrs: dict[str, Any] = {
        spec["key"]: builder.formfield(spec) for spec in definition["line_fields"]
    }
    posting = definition["posting"]
    if definition["lines"]["amount_mode"] == "debit_credit" and posting["rule"] == "journal":
        line_attrs["sides"] = (posting["debit_field"], posting["credit_field"])
    line_class = type("ConfiguredLineForm", (ConfiguredLineForm,), line_attrs)
    lines_spec = definition["lines"]
    formset_class = forms.formset_factory(
        line_class,
        formset=BaseLineFormSet,
        extra=0,
        can_delete=True,
        max_num=lines_spec.get("max", 1000),
        absolute_max=lines_spec.get("max", 1000) + 1,
        validate_max=True,
    )
    return cast("type[ConfiguredForm]", header_class), cast("type[BaseLineFormSet]", formset_class)


def form_classes_for(
    definition: VoucherDefinition, *, cache_key: Hashable
) -> tuple[type[ConfiguredForm], type[BaseLineFormSet]]:
    """Form classes for one configuration version, built once and then reused.

    The key must change whenever the definition does (config id, version and hash do).
    """
    classes = _FORM_CLASS_CACHE.get(cache_key)
    if classes is None:
        classes = build_form_classes(definition)
        _FORM_CLASS_CACHE[cache_key] = classes
        while len(_FORM_CLASS_CACHE) > FORM_CLASS_CACHE_SIZE:
            _FORM_CLASS_CACHE.popitem(last=False)
    else:
        _FORM_CLASS_CACHE.move_to_end(cache_key)
    return classes


def raw_form_data(
    definition: VoucherDefinition, header: Mapping[str, Any], lines: list[Any]
) -> dict[str, Any]:
    """Form POST data for an entry given as raw values (examples, imports, tests).

    Header fields left out take their configured defaults.
    """
    data: dict[str, Any] = {}
    for spec in definition["header_fields"]:
        key = spec["key"]
        value = header.get(key, spec.get("default"))
        if value == "today" and spec["type"] == "date":
            value = today().isoformat()
        if value is not None:
            if spec["type"] == "boolean":
                if value:
                    data[key] = "on"
            else:
                data[key] = str(value)
    for index, line in enumerate(lines):
        for spec in definition["line_fields"]:
            key = spec["key"]
            value = line.get(key, spec.get("default"))
            if value is not None:
                data[f"{LINE_PREFIX}-{index}-{key}"] = str(value)
    data[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(len(lines))
    data[f"{LINE_PREFIX}-INITIAL_FORMS"] = "0"
    return data
