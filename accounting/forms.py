"""Filter forms of the ledger reports, every choice list limited to one organization, and the
amount field every entry screen uses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms

from accounting.dates import date_format_hint, date_input_formats, date_text
from accounting.models import Account, DateFormat, Organization, Party, VoucherStatus, VoucherType
from accounting.selectors import VoucherFilters, report_accounts
from accounting.services.checks import parse_amount


class DateInput(forms.DateInput):
    """A date typed as the organization writes dates, hinted by its placeholder; ISO is taken
    too. A text field rather than the browser's date input, which writes dates the browser's
    way (its locale), not the organization's, and takes a Tab stop per part."""

    input_type = "text"

    def format_value(self, value: Any) -> str | None:
        return date_text(value) or None

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        hint = date_format_hint()
        iso = str(DateFormat.ISO.label)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs.setdefault("placeholder", hint)
        widget_attrs.setdefault("title", hint if hint == iso else f"{hint}, or {iso}")
        widget_attrs.setdefault("autocomplete", "off")
        widget_attrs.setdefault("class", "date")
        return context


class OrganizationDateField(forms.DateField):
    """A date typed as ISO or as the active organization writes dates (`DD/MM/YYYY` …)."""

    @property  # type: ignore[override]
    def input_formats(self) -> list[str]:
        return date_input_formats()

    @input_formats.setter
    def input_formats(self, value: object) -> None:
        """The formats follow the organization; a fixed list given to the field is not kept."""


def _date_field(label: str, *, required: bool = False) -> forms.DateField:
    return OrganizationDateField(label=label, required=required, widget=DateInput())


class AmountField(forms.DecimalField):
    """A money amount read the ledger's way (`parse_amount`): "2,340.50" and "2,34,050.50" are
    taken, "1,2,3", "1e3" or "١٢٣" refused with what is allowed; then the decimal field's own
    checks (digits, places, bounds)."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc


def _amount_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_digits=18,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class TrialBalanceForm(forms.Form):
    as_of = _date_field("As of")

    def as_of_or(self, default: date) -> date:
        return (self.cleaned_data.get("as_of") if self.is_valid() else None) or default


class PeriodForm(forms.Form):
    start = _date_field("From")
    end = _date_field("To")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date must not be before the start date.")
        return cleaned

    def period_or(self, start: date, end: date) -> tuple[date, date]:
        """The period asked for, or the defaults for what was not given or not valid."""
        if not self.is_valid():
            return start, end
        chosen_start = self.cleaned_data.get("start") or start
        return chosen_start, self.cleaned_data.get("end") or max(end, chosen_start)


class AccountLedgerForm(forms.Form):
    account = forms.ModelChoiceField(
        label="Account", queryset=Account.objects.none(), empty_label="Choose an account"
    )
    start = _date_field("From")
    end = _date_field("To")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        account = cast(forms.ModelChoiceField, self.fields["account"])
        account.queryset = report_accounts(organization=organization)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", f"The end date must be on or after the start date ({start}).")
        return cleaned


class VoucherFilterForm(forms.Form):
    voucher_type = forms.ModelChoiceField(
        label="Type",
        queryset=VoucherType.objects.none(),
        required=False,
        empty_label="Any type",
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *VoucherStatus.choices]
    )
    date_from = _date_field("From")
    date_to = _date_field("To")
    number = forms.CharField(label="Number contains", required=False, max_length=60)
    party = forms.ModelChoiceField(
        label="Party", queryset=Party.objects.none(), required=False, empty_label="Any party"
    )
    amount_min = _amount_field("Amount from")
    amount_max = _amount_field("Amount to")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        voucher_type = cast(forms.ModelChoiceField, self.fields["voucher_type"])
        voucher_type.queryset = VoucherType.objects.filter(organization=organization).order_by(
            "code"
        )
        party = cast(forms.ModelChoiceField, self.fields["party"])
        party.queryset = Party.objects.filter(organization=organization).order_by("name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", f"The end date must be on or after {date_from}.")
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", f"The upper amount must be at least {low}.")
        return cleaned

    def filters(self) -> VoucherFilters:
        """The filters the user asked for; none at all while the form has errors."""
        if not self.is_valid():
            return VoucherFilters()
        data = self.cleaned_data
        return VoucherFilters(
            voucher_type=data["voucher_type"],
            status=data["status"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            number=data["number"],
            party=data["party"],
            amount_min=data["amount_min"],
            amount_max=data["amount_max"],
        )


class ReversalForm(forms.Form):
    """The date a reversal is posted on and why: both asked before anything is written."""

    date = OrganizationDateField(label="Reversal date", widget=DateInput())
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="Written into the reversal's narration, e.g. “entered twice”.",
    )
