"""The fields of the legacy forms: accounts and parties chosen by code, and the field builders.

Accounts and parties are chosen by code, as a browser posts them from a select list, and only
from the user's organization: active accounts that are not groups, filtered per field (bank and
cash accounts for a bank, tax accounts for tax), and active parties of the right role.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Model, QuerySet
from django.utils import timezone

from accounting.forms import AmountField, DateInput, OrganizationDateField
from accounting.models import Account, AccountSubtype, AccountType, Organization, Party, PartyRole
from accounting.selectors import active_parties, postable_accounts


def _today() -> date:
    return timezone.localdate()


def _words(values: Sequence[str]) -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


class CodeChoiceField(forms.ModelChoiceField):
    """An account or party of the organization, submitted by its code.

    The rows are read once per form (or once per formset, shared by every line) and both the
    select list and validation use them, so a form of many lines costs one query per field.
    """

    def __init__(self, *, label: str, required: bool = True, **kwargs: Any):
        super().__init__(
            queryset=self.model_class()._default_manager.none(),
            to_field_name="code",
            label=label,
            required=required,
            empty_label="—",
            **kwargs,
        )
        self.by_code: dict[str, Model] | None = None

    @staticmethod
    def model_class() -> type[Model]:  # pragma: no cover - overridden
        raise NotImplementedError

    def queryset_for(self, organization: Organization) -> QuerySet[Any]:  # pragma: no cover
        raise NotImplementedError

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.name}"

    def offer(self, rows: Iterable[Model]) -> None:
        """Limits the field to these rows, already read from the database."""
        self.by_code = {str(row.code): row for row in rows}  # type: ignore[attr-defined]
        self.choices = [
            ("", self.empty_label or ""),
            *((code, self.label_from_instance(row)) for code, row in self.by_code.items()),
        ]

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if isinstance(value, Model):
            value = value.code  # type: ignore[attr-defined]
        # A code followed by its name ("1120 Main bank account") is taken as the code.
        code = str(value).strip().split(" ", 1)[0]
        if self.by_code is None:
            return super().to_python(code)
        found = self.by_code.get(code)
        if found is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": code},
            )
        return found


class AccountChoiceField(CodeChoiceField):
    def __init__(
        self,
        *,
        account_types: Sequence[str] = (),
        subtypes: Sequence[str] = (),
        **kwargs: Any,
    ):
        self.account_types = tuple(account_types)
        self.subtypes = tuple(subtypes)
        super().__init__(**kwargs)
        self.error_messages["invalid_choice"] = (
            f"Account %(value)s cannot be used here; choose one of the {self.allowed()} "
            "(active, and not a group account)."
        )

    @staticmethod
    def model_class() -> type[Model]:
        return Account

    def allowed(self) -> str:
        if self.subtypes:
            return _words([AccountSubtype(s).label.lower() for s in self.subtypes]) + " accounts"
        if self.account_types:
            return _words([AccountType(t).label.lower() for t in self.account_types]) + " accounts"
        return "posting accounts"

    def queryset_for(self, organization: Organization) -> QuerySet[Account]:
        return postable_accounts(
            organization=organization, account_types=self.account_types, subtypes=self.subtypes
        )

    def narrow(self, rows: Iterable[Account]) -> list[Account]:
        """`queryset_for`'s rows, picked from all the postable accounts already read."""
        return [
            row
            for row in rows
            if (not self.account_types or row.account_type in self.account_types)
            and (not self.subtypes or row.subtype in self.subtypes)
        ]


class PartyChoiceField(CodeChoiceField):
    def __init__(self, *, role: str | None = None, **kwargs: Any):
        self.role = role
        super().__init__(**kwargs)
        who = f"{PartyRole(role).label.lower()}s" if role else "parties"
        self.error_messages["invalid_choice"] = (
            f"Party %(value)s is not one of the organization's active {who}."
        )

    @staticmethod
    def model_class() -> type[Model]:
        return Party

    def queryset_for(self, organization: Organization) -> QuerySet[Party]:
        return active_parties(organization=organization, role=self.role)

    def narrow(self, rows: Iterable[Party]) -> list[Party]:
        """`queryset_for`'s rows, picked from all the active parties already read."""
        if not self.role or self.role == "any":
            return list(rows)
        return [row for row in rows if row.role in (self.role, PartyRole.BOTH)]


class ChoiceSource:
    """The organization's postable accounts and active parties, each read at most once, from
    which every account and party field of one entry (header and lines) takes its choices."""

    def __init__(self, organization: Organization):
        self.organization = organization
        self.accounts: list[Account] | None = None
        self.parties: list[Party] | None = None
        self._querysets: dict[tuple[Any, ...], QuerySet[Any]] = {}

    def queryset_for(self, field: CodeChoiceField) -> QuerySet[Any]:
        """`field.queryset_for`, built once per kind of field rather than once per line."""
        key = (
            type(field),
            getattr(field, "account_types", None),
            getattr(field, "subtypes", None),
            getattr(field, "role", None),
        )
        if key not in self._querysets:
            self._querysets[key] = field.queryset_for(self.organization)
        return self._querysets[key]

    def rows_for(self, field: CodeChoiceField) -> list[Any]:
        if isinstance(field, AccountChoiceField):
            if self.accounts is None:
                self.accounts = list(postable_accounts(organization=self.organization))
            return field.narrow(self.accounts)
        if isinstance(field, PartyChoiceField):
            if self.parties is None:
                self.parties = list(active_parties(organization=self.organization))
            return field.narrow(self.parties)
        return list(field.queryset_for(self.organization))


# --- field builders ---------------------------------------------------------------------------


def date_field(label: str = "Date", *, required: bool = False) -> forms.DateField:
    return OrganizationDateField(
        label=label,
        required=required,
        widget=DateInput(),
        initial=_today if required else None,
    )


def text_field(label: str, *, max_length: int, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=required)


def narration_field() -> forms.CharField:
    return forms.CharField(
        label="Narration",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def amount_field(
    label: str,
    *,
    required: bool = False,
    min_value: str | None = None,
    max_value: str | None = None,
    initial: str | None = None,
    help_text: str = "",
) -> AmountField:
    return AmountField(
        label=label,
        required=required,
        max_digits=18,
        decimal_places=2,
        min_value=Decimal(min_value) if min_value is not None else None,
        max_value=Decimal(max_value) if max_value is not None else None,
        # A Decimal, not text: a line left at its defaults must not count as changed.
        initial=Decimal(initial) if initial is not None else None,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "amount"}),
    )


def bank_field(label: str) -> AccountChoiceField:
    return AccountChoiceField(label=label, subtypes=("bank", "cash"), initial="1120")


def tax_account_field(initial: str) -> AccountChoiceField:
    return AccountChoiceField(label="Tax account", subtypes=("tax",), initial=initial)
