"""The legacy voucher forms: one hand-written header form and one line formset per voucher type.

Each header form says how its lines post (the posting rule, and the side) and which line formset
it takes; `VOUCHER_FORMS` lists them by voucher type code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

from django import forms
from django.db.models import Model

from accounting.models import Organization, PartyRole
from legacy_entry.fields import (
    AccountChoiceField,
    ChoiceSource,
    CodeChoiceField,
    PartyChoiceField,
    amount_field,
    bank_field,
    date_field,
    narration_field,
    tax_account_field,
    text_field,
)
from legacy_entry.rendering import LEGACY_RENDERER

LINE_PREFIX = "lines"
MAX_LINES = 1000

JOURNAL = "journal"  # every line is its own debit or credit
COUNTERPART = "counterpart"  # a header account takes the total of the lines
INVOICE = "invoice"  # the party against the lines, with each line's tax

REASONS = [
    ("return", "Goods returned"),
    ("price", "Price correction"),
    ("damage", "Damaged goods"),
    ("other", "Other"),
]
PAYMENT_METHODS = [
    ("", "—"),
    ("cash", "Cash"),
    ("cheque", "Cheque"),
    ("transfer", "Bank transfer"),
    ("card", "Card"),
]


class OrganizationForm(forms.Form):
    """A form whose account and party choices are the organization's."""

    default_renderer = LEGACY_RENDERER

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        choice_rows: Mapping[str, Sequence[Model]] | None = None,
        choices: ChoiceSource | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, CodeChoiceField):
                field.queryset = (
                    choices.queryset_for(field) if choices else field.queryset_for(organization)
                )
                rows = choice_rows.get(name) if choice_rows is not None else None
                if rows is None:
                    rows = choices.rows_for(field) if choices else list(field.queryset)
                field.offer(rows)


class LegacyLineForm(OrganizationForm):
    """One line of the grid. A line left blank (nothing but defaults) is skipped, not refused."""

    def __init__(self, *args: Any, line_number: int | None = None, **kwargs: Any):
        kwargs["empty_permitted"] = True
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)
        if line_number is not None:
            for field in self.fields.values():
                field.widget.attrs["aria-label"] = f"{field.label}, line {line_number}"
                # The column header shows the help once; a line's input refers only to its errors.
                field.help_text = ""


class JournalLineForm(LegacyLineForm):
    account = AccountChoiceField(label="Account")
    description = text_field("Description", max_length=255)
    party = PartyChoiceField(label="Party", required=False)
    debit = amount_field("Debit")
    credit = amount_field("Credit")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        debit, credit = cleaned.get("debit"), cleaned.get("credit")
        if debit and credit:
            raise forms.ValidationError(
                "Enter either a debit or a credit on a line, not both.", code="both_sides"
            )
        if not debit and not credit and not {"debit", "credit"} & set(self.errors):
            raise forms.ValidationError("Enter a debit or a credit amount.", code="no_amount")
        for key in ("debit", "credit"):
            value = cleaned.get(key)
            if value is not None and value < 0:
                self.add_error(key, "Amounts must be positive; use the other column instead.")
        return cleaned


class PaymentLineForm(LegacyLineForm):
    account = AccountChoiceField(label="Account", account_types=("expense", "liability", "asset"))
    description = text_field("Description", max_length=255)
    amount = amount_field("Amount", required=True, min_value="0.01")


class ReceiptLineForm(LegacyLineForm):
    account = AccountChoiceField(
        label="Account", account_types=("income", "asset", "liability", "equity")
    )
    description = text_field("Description", max_length=255)
    amount = amount_field("Amount", required=True, min_value="0.01")


class ContraLineForm(LegacyLineForm):
    account = AccountChoiceField(label="Account", subtypes=("bank", "cash"))
    description = text_field("Description", max_length=255)
    amount = amount_field("Amount", required=True, min_value="0.01")


TAX_RATE_HELP = "Tax rate in percent, applied to the line amount."


class SalesLineForm(LegacyLineForm):
    """A line of a sales invoice or a credit note: income, with its tax rate."""

    description = text_field("Item", max_length=255, required=True)
    account = AccountChoiceField(label="Account", account_types=("income",))
    amount = amount_field("Amount", required=True, min_value="0.01")
    tax_rate = amount_field(
        "Tax %", min_value="0", max_value="100", initial="0", help_text=TAX_RATE_HELP
    )


class PurchaseLineForm(LegacyLineForm):
    """A line of a supplier invoice or a debit note: an expense or an asset, with its tax rate."""

    description = text_field("Item", max_length=255, required=True)
    account = AccountChoiceField(label="Account", account_types=("expense", "asset"))
    amount = amount_field("Amount", required=True, min_value="0.01")
    tax_rate = amount_field(
        "Tax %", min_value="0", max_value="100", initial="0", help_text=TAX_RATE_HELP
    )


class LegacyLineFormSet(forms.BaseFormSet):
    """The lines of an entry; blank lines are skipped and at least `min_lines` must be filled."""

    min_lines: ClassVar[int] = 1

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        choices: ChoiceSource | None = None,
        **kwargs: Any,
    ):
        self.organization = organization
        self.choices = choices or ChoiceSource(organization)
        super().__init__(*args, **kwargs)
        self._choice_rows: dict[str, list[Model]] | None = None

    @classmethod
    def get_default_prefix(cls) -> str:
        return LINE_PREFIX

    def choice_rows(self) -> dict[str, list[Model]]:
        """The choices of every account and party column, read once for all lines."""
        if self._choice_rows is None:
            self._choice_rows = {
                name: self.choices.rows_for(field)
                for name, field in self.form.base_fields.items()
                if isinstance(field, CodeChoiceField)
            }
        return self._choice_rows

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(index),
            "organization": self.organization,
            "choice_rows": self.choice_rows(),
            "choices": self.choices,
            "line_number": None if index is None else index + 1,
        }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"
            if index is not None:
                form.fields["DELETE"].widget.attrs["aria-label"] = f"Remove, line {index + 1}"

    def filled_forms(self) -> list[tuple[int, forms.Form]]:
        """(index, form) of the lines entered: not blank and not removed."""
        return [
            (index, form)
            for index, form in enumerate(self.forms)
            if form.has_changed() and not getattr(form, "cleaned_data", {}).get("DELETE")
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        filled = len(self.filled_forms())
        if filled < self.min_lines:
            raise forms.ValidationError(
                f"Enter at least {self.min_lines} line(s); {filled} entered.", code="too_few"
            )


def line_formset(form: type[LegacyLineForm], *, min_lines: int = 1) -> type[LegacyLineFormSet]:
    formset = cast(
        type[LegacyLineFormSet],
        forms.formset_factory(
            form,
            formset=LegacyLineFormSet,
            extra=0,
            can_delete=True,
            max_num=MAX_LINES,
            absolute_max=MAX_LINES + 1,
            validate_max=True,
            renderer=LEGACY_RENDERER,
        ),
    )
    formset.min_lines = min_lines
    return formset


JournalLineFormSet = line_formset(JournalLineForm, min_lines=2)
PaymentLineFormSet = line_formset(PaymentLineForm)
ReceiptLineFormSet = line_formset(ReceiptLineForm)
ContraLineFormSet = line_formset(ContraLineForm)
SalesLineFormSet = line_formset(SalesLineForm)
PurchaseLineFormSet = line_formset(PurchaseLineForm)


class VoucherForm(OrganizationForm):
    """The header of a legacy entry, and how its lines post.

    Fields other than date, reference, narration and party are stored in the voucher's `data`
    under their field names, in the order they are declared.
    """

    type_code: ClassVar[str]
    posting_rule: ClassVar[str]
    # Counterpart: the side the entered lines take. Invoice: the side the party takes.
    side: ClassVar[str] = ""
    line_formset: ClassVar[type[LegacyLineFormSet]]

    CORE_FIELDS: ClassVar[frozenset[str]] = frozenset({"date", "reference", "narration", "party"})

    def data_field_names(self) -> list[str]:
        return [name for name in self.fields if name not in self.CORE_FIELDS]


class JournalForm(VoucherForm):
    type_code = "JV"
    posting_rule = JOURNAL
    line_formset = JournalLineFormSet

    date = date_field(required=True)
    reference = text_field("Reference", max_length=100)
    narration = narration_field()


class PaymentForm(VoucherForm):
    type_code = "PV"
    posting_rule = COUNTERPART
    side = "debit"
    line_formset = PaymentLineFormSet

    date = date_field(required=True)
    bank_account = bank_field("Paid from")
    party = PartyChoiceField(label="Payee", role=PartyRole.SUPPLIER, required=False)
    reference = text_field("Reference", max_length=100)
    cheque_number = text_field("Cheque number", max_length=20)
    cheque_date = date_field("Cheque date")
    narration = narration_field()


class ReceiptForm(VoucherForm):
    type_code = "RV"
    posting_rule = COUNTERPART
    side = "credit"
    line_formset = ReceiptLineFormSet

    date = date_field(required=True)
    bank_account = bank_field("Received into")
    party = PartyChoiceField(label="Received from", role=PartyRole.CUSTOMER, required=False)
    reference = text_field("Reference", max_length=100)
    payment_method = forms.ChoiceField(
        label="Payment method", choices=PAYMENT_METHODS, required=False, initial="transfer"
    )
    narration = narration_field()


class ContraForm(VoucherForm):
    type_code = "CV"
    posting_rule = COUNTERPART
    side = "debit"
    line_formset = ContraLineFormSet

    date = date_field(required=True)
    bank_account = bank_field("Transfer from")
    reference = text_field("Reference", max_length=100)
    narration = narration_field()


class SalesForm(VoucherForm):
    type_code = "SV"
    posting_rule = INVOICE
    side = "debit"
    line_formset = SalesLineFormSet

    date = date_field(required=True)
    party = PartyChoiceField(label="Customer", role=PartyRole.CUSTOMER)
    due_date = date_field("Due date")
    customer_po = text_field("Customer order number", max_length=40)
    reference = text_field("Our reference", max_length=100)
    tax_account = tax_account_field("2200")
    narration = narration_field()


class PurchaseForm(VoucherForm):
    type_code = "PU"
    posting_rule = INVOICE
    side = "credit"
    line_formset = PurchaseLineFormSet

    date = date_field(required=True)
    party = PartyChoiceField(label="Supplier", role=PartyRole.SUPPLIER)
    supplier_invoice = text_field("Supplier invoice number", max_length=40, required=True)
    due_date = date_field("Due date")
    reference = text_field("Our reference", max_length=100)
    tax_account = tax_account_field("1400")
    narration = narration_field()


class DebitNoteForm(VoucherForm):
    type_code = "DN"
    posting_rule = INVOICE
    side = "debit"
    line_formset = PurchaseLineFormSet

    date = date_field(required=True)
    party = PartyChoiceField(label="Supplier", role=PartyRole.SUPPLIER)
    original_invoice = text_field("Original invoice", max_length=40)
    reason = forms.ChoiceField(label="Reason", choices=REASONS, initial="return")
    reference = text_field("Our reference", max_length=100)
    tax_account = tax_account_field("1400")
    narration = narration_field()


class CreditNoteForm(VoucherForm):
    type_code = "CN"
    posting_rule = INVOICE
    side = "credit"
    line_formset = SalesLineFormSet

    date = date_field(required=True)
    party = PartyChoiceField(label="Customer", role=PartyRole.CUSTOMER)
    original_invoice = text_field("Original invoice", max_length=40)
    reason = forms.ChoiceField(label="Reason", choices=REASONS, initial="return")
    reference = text_field("Our reference", max_length=100)
    tax_account = tax_account_field("2200")
    narration = narration_field()


VOUCHER_FORMS: dict[str, type[VoucherForm]] = {
    form.type_code: form
    for form in (
        JournalForm,
        PaymentForm,
        ReceiptForm,
        ContraForm,
        SalesForm,
        PurchaseForm,
        DebitNoteForm,
        CreditNoteForm,
    )
}


def voucher_form_class(type_code: str) -> type[VoucherForm]:
    try:
        return VOUCHER_FORMS[type_code.upper()]
    except KeyError:
        raise LookupError(
            f"No legacy form for voucher type {type_code!r}; "
            f"legacy forms exist for {', '.join(VOUCHER_FORMS)}."
        ) from None
