"""The legacy entry forms: one hand-written form class and one line formset per voucher type.

Accounts and parties are chosen by code, as a browser posts them from a select list, and only
from the user's organization: active accounts that are not groups, filtered per field (bank and
cash accounts for a bank, tax accounts for tax), and active parties of the right role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, cast

from django import forms
from django.db.models import Model, QuerySet
from django.utils import timezone

from accounting.forms import DateInput
from accounting.models import Account, AccountSubtype, AccountType, Organization, Party, PartyRole
from accounting.selectors import active_parties, postable_accounts

LINE_PREFIX = "lines"
MAX_LINES = 1000
BLANK_LINES = 2  # blank lines a new entry starts with

JOURNAL = "journal"  # every line is its own debit or credit
COUNTERPART = "counterpart"  # a header account takes the total of the lines
INVOICE = "invoice"  # the party against the lines, with each line's tax


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


# --- field builders ---------------------------------------------------------------------------


def date_field(label: str = "Date", *, required: bool = False) -> forms.DateField:
    return forms.DateField(
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
) -> forms.DecimalField:
    return forms.DecimalField(
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


# --- forms ------------------------------------------------------------------------------------


class OrganizationForm(forms.Form):
    """A form whose account and party choices are the organization's."""

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        choice_rows: Mapping[str, Sequence[Model]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.organization = organization
        for name, field in self.fields.items():
            if isinstance(field, CodeChoiceField):
                field.queryset = field.queryset_for(organization)
                rows = choice_rows.get(name) if choice_rows is not None else None
                field.offer(rows if rows is not None else list(field.queryset))


class LineForm(OrganizationForm):
    """One line of the grid. A line left blank (nothing but defaults) is skipped, not refused."""

    def __init__(self, *args: Any, line_number: int | None = None, **kwargs: Any):
        kwargs["empty_permitted"] = True
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)
        self.line_number = line_number
        if line_number is not None:
            for field in self.fields.values():
                field.widget.attrs["aria-label"] = f"{field.label}, line {line_number}"
                # The column header shows the help once; a line's input refers only to its errors.
                field.help_text = ""


class JournalLineForm(LineForm):
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


class PaymentLineForm(LineForm):
    account = AccountChoiceField(label="Account", account_types=("expense", "liability", "asset"))
    description = text_field("Description", max_length=255)
    amount = amount_field("Amount", required=True, min_value="0.01")


class ReceiptLineForm(LineForm):
    account = AccountChoiceField(
        label="Account", account_types=("income", "asset", "liability", "equity")
    )
    description = text_field("Description", max_length=255)
    amount = amount_field("Amount", required=True, min_value="0.01")


class ContraLineForm(LineForm):
    account = AccountChoiceField(label="Account", subtypes=("bank", "cash"))
    description = text_field("Description", max_length=255)
    amount = amount_field("Amount", required=True, min_value="0.01")


TAX_RATE_HELP = "Tax rate in percent, applied to the line amount."


class SalesLineForm(LineForm):
    """A line of a sales invoice or a credit note: income, with its tax rate."""

    description = text_field("Item", max_length=255, required=True)
    account = AccountChoiceField(label="Account", account_types=("income",))
    amount = amount_field("Amount", required=True, min_value="0.01")
    tax_rate = amount_field(
        "Tax %", min_value="0", max_value="100", initial="0", help_text=TAX_RATE_HELP
    )


class PurchaseLineForm(LineForm):
    """A line of a supplier invoice or a debit note: an expense or an asset, with its tax rate."""

    description = text_field("Item", max_length=255, required=True)
    account = AccountChoiceField(label="Account", account_types=("expense", "asset"))
    amount = amount_field("Amount", required=True, min_value="0.01")
    tax_rate = amount_field(
        "Tax %", min_value="0", max_value="100", initial="0", help_text=TAX_RATE_HELP
    )


class LineFormSet(forms.BaseFormSet):
    """The lines of an entry; blank lines are skipped and at least `min_lines` must be filled."""

    min_lines: ClassVar[int] = 1

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any):
        self.organization = organization
        super().__init__(*args, **kwargs)
        self._choice_rows: dict[str, list[Model]] | None = None

    @classmethod
    def get_default_prefix(cls) -> str:
        return LINE_PREFIX

    def choice_rows(self) -> dict[str, list[Model]]:
        """The choices of every account and party column, read once for all lines."""
        if self._choice_rows is None:
            self._choice_rows = {
                name: list(field.queryset_for(self.organization))
                for name, field in self.form.base_fields.items()
                if isinstance(field, CodeChoiceField)
            }
        return self._choice_rows

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(index),
            "organization": self.organization,
            "choice_rows": self.choice_rows(),
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


def line_formset(form: type[LineForm], *, min_lines: int = 1) -> type[LineFormSet]:
    formset = cast(
        type[LineFormSet],
        forms.formset_factory(
            form,
            formset=LineFormSet,
            extra=0,
            can_delete=True,
            max_num=MAX_LINES,
            absolute_max=MAX_LINES + 1,
            validate_max=True,
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
    line_formset: ClassVar[type[LineFormSet]]

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


def _field_initial(field: forms.Field) -> Any:
    return field.initial() if callable(field.initial) else field.initial


class EntryForms:
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
        self.header: VoucherForm = self.form_class(
            data=data, initial=initial_header, organization=organization
        )
        formset_class = self.form_class.line_formset
        if data is None:
            lines = [dict(line) for line in initial_lines or ()]
            self.lines = formset_class(initial=lines, organization=organization)
            self.lines.extra = (
                blank_lines if blank_lines is not None else max(0, BLANK_LINES - len(lines))
            )
        else:
            # No initial when bound: a line counts as entered when it differs from the defaults.
            self.lines = formset_class(data=data, organization=organization)

    @classmethod
    def with_added_line(
        cls, *, organization: Organization, type_code: str, data: Mapping[str, Any]
    ) -> EntryForms:
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
