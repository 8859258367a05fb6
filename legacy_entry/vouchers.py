"""How a legacy entry becomes a voucher, how a stored voucher opens again, where a refusal goes.

The three posting rules are written out here by hand. They make the same lines, in the same order
and with the same `data`, as the configuration-driven entry does for the baseline configurations
of the eight standard types, so that a voucher posts identically whichever screen entered it:

- journal: every entered line is its own debit or credit.
- counterpart (payment, receipt, contra): the entered lines on one side, then one generated line
  to the header's bank account for their total on the other side.
- invoice (sales, purchase, debit and credit notes): first the party's control account for the
  total with tax, then the entered lines on the other side, then one generated tax line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounting.models import (
    ZERO,
    Account,
    EntryChannel,
    Organization,
    Party,
    Voucher,
    VoucherLine,
    VoucherType,
)
from accounting.services.checks import Problem, VoucherRejected
from accounting.services.inputs import LineInput, VoucherInput, data_kept
from legacy_entry.forms import COUNTERPART, INVOICE, JOURNAL, VoucherForm, voucher_form_class
from legacy_entry.screen_forms import LegacyForms

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
GENERATED = "generated"  # key in a line's data marking a line the posting rule added


@dataclass(frozen=True)
class LineSource:
    """Where one voucher line came from: an entered line of the grid, or a header field."""

    line: int | None = None  # index of the line form in the formset
    field: str | None = None  # header field of a generated line


@dataclass
class LegacyVoucher:
    """A valid legacy entry as the ledger takes it, and where each of its lines came from."""

    voucher_input: VoucherInput
    sources: list[LineSource]


def stored_value(value: Any) -> Any:
    """A header value as it is kept in a voucher's `data`."""
    if isinstance(value, Account | Party):
        return value.code
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def line_tax(amount: Decimal, rate: Decimal) -> Decimal:
    """A line's tax, rounded half-up to the cent."""
    return (amount * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def _sides(side: str, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(debit, credit) of an amount on a side; a negative amount goes to the other side."""
    if amount < 0:
        side, amount = _opposite(side), -amount
    return (amount, ZERO) if side == "debit" else (ZERO, amount)


def _opposite(side: str) -> str:
    return "credit" if side == "debit" else "debit"


def _pk(value: Any) -> int | None:
    return value.pk if value is not None else None


def _journal_lines(
    lines: Sequence[tuple[int, Mapping[str, Any]]],
) -> tuple[list[LineInput], list[LineSource]]:
    inputs = [
        LineInput(
            account_id=_pk(values.get("account")),
            debit=values.get("debit") or Decimal("0"),
            credit=values.get("credit") or Decimal("0"),
            description=values.get("description") or "",
            party_id=_pk(values.get("party")),
        )
        for _, values in lines
    ]
    return inputs, [LineSource(line=index) for index, _ in lines]


def _counterpart_lines(
    header: Mapping[str, Any], lines: Sequence[tuple[int, Mapping[str, Any]]], side: str
) -> tuple[list[LineInput], list[LineSource]]:
    inputs, sources, total = [], [], ZERO
    for index, values in lines:
        amount: Decimal = values["amount"]
        total += amount
        debit, credit = _sides(side, amount)
        inputs.append(
            LineInput(
                account_id=_pk(values.get("account")),
                debit=debit,
                credit=credit,
                description=values.get("description") or "",
                data={"amount": str(amount)},
            )
        )
        sources.append(LineSource(line=index))
    debit, credit = _sides(_opposite(side), total)
    inputs.append(
        LineInput(
            account_id=_pk(header.get("bank_account")),
            debit=debit,
            credit=credit,
            description=str(header.get("narration") or "")[:255],
            party_id=_pk(header.get("party")),
            data={GENERATED: "counterpart"},
        )
    )
    sources.append(LineSource(field="bank_account"))
    return inputs, sources


def _invoice_lines(
    header: Mapping[str, Any], lines: Sequence[tuple[int, Mapping[str, Any]]], side: str
) -> tuple[list[LineInput], list[LineSource]]:
    party: Party = header["party"]
    tax_account: Account | None = header.get("tax_account")
    inputs, sources = [], []
    net, tax_total = ZERO, ZERO
    for index, values in lines:
        amount: Decimal = values["amount"]
        entered_rate: Decimal | None = values.get("tax_rate")
        rate = entered_rate if entered_rate is not None else Decimal("0")
        tax = line_tax(amount, rate)
        net += amount
        tax_total += tax
        debit, credit = _sides(_opposite(side), amount)
        inputs.append(
            LineInput(
                account_id=_pk(values.get("account")),
                debit=debit,
                credit=credit,
                description=values.get("description") or "",
                data={"amount": str(amount), "tax_rate": str(rate), "tax": str(tax)},
            )
        )
        sources.append(LineSource(line=index))
    if tax_total:
        if tax_account is None:
            raise ValidationError({"tax_account": "A tax account is required for taxed lines."})
        debit, credit = _sides(_opposite(side), tax_total)
        inputs.append(
            LineInput(
                account_id=tax_account.pk,
                debit=debit,
                credit=credit,
                description="Tax",
                data={GENERATED: "tax"},
            )
        )
        sources.append(LineSource(field="tax_account"))
    debit, credit = _sides(side, net + tax_total)
    inputs.insert(
        0,
        LineInput(
            account_id=party.control_account_id,
            debit=debit,
            credit=credit,
            description=str(header.get("narration") or party.name)[:255],
            party_id=party.pk,
            data={GENERATED: "party"},
        ),
    )
    sources.insert(0, LineSource(field="party"))
    return inputs, sources


def _line_data_keep(stored: Voucher, inputs: Sequence[LineInput]) -> None:
    """Each entered line keeps the values its stored counterpart (same place among the entered
    lines) holds and this form does not show, such as a column the configuration added."""
    kept = [
        data
        for data in stored.lines.order_by("order", "id").values_list("data", flat=True)
        if not data.get(GENERATED)
    ]
    entered = [line for line in inputs if not line.data.get(GENERATED)]
    for line, data in zip(entered, kept, strict=False):
        line.data = data_kept(stored=data, entered=line.data)


def legacy_voucher(
    *, legacy_forms: LegacyForms, voucher_type: VoucherType, stored: Voucher | None = None
) -> LegacyVoucher:
    """The voucher a valid legacy entry makes, stamped as entered through the legacy channel.

    Saving the `stored` voucher keeps the values of its `data` this form does not show (a field
    the configuration-driven screen added), so a rollback to this screen loses nothing.
    """
    header_form = legacy_forms.header
    header = header_form.cleaned_data
    lines = [(index, form.cleaned_data) for index, form in legacy_forms.lines.filled_forms()]
    rule, side = header_form.posting_rule, header_form.side
    if rule == JOURNAL:
        inputs, sources = _journal_lines(lines)
    elif rule == COUNTERPART:
        inputs, sources = _counterpart_lines(header, lines, side)
    elif rule == INVOICE:
        inputs, sources = _invoice_lines(header, lines, side)
    else:  # pragma: no cover - the forms define only the three rules
        raise ValueError(f"unknown posting rule {rule!r}")
    if stored is not None:
        _line_data_keep(stored, inputs)
    voucher_input = VoucherInput(
        voucher_type=voucher_type,
        date=header["date"],
        lines=inputs,
        reference=header.get("reference") or "",
        narration=header.get("narration") or "",
        party_id=_pk(header.get("party")),
        data=data_kept(
            stored=stored.data if stored is not None else {},
            entered={
                name: stored_value(header.get(name)) for name in header_form.data_field_names()
            },
        ),
        entry_channel=EntryChannel.LEGACY,
    )
    return LegacyVoucher(voucher_input=voucher_input, sources=sources)


def legacy_voucher_input(
    *,
    organization: Organization,
    type_code: str,
    header: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
) -> VoucherInput:
    """The voucher the legacy form makes from raw values, as a browser would post them.

    Values are strings: dates in ISO form, accounts and parties by code, amounts as text. Header
    and line fields left out take the form's defaults. Raises ValidationError listing every
    error, each with its field or line, when the form refuses the values.
    """
    code = type_code.upper()
    voucher_type = VoucherType.objects.filter(organization=organization, code=code).first()
    if voucher_type is None:
        raise ValidationError(f"{organization} has no voucher type {code}.")
    legacy_forms = LegacyForms(
        organization=organization,
        type_code=code,
        data=LegacyForms.raw_data(type_code=code, header=header, lines=lines),
    )
    if not legacy_forms.is_valid():
        raise ValidationError(legacy_forms.error_list())
    return legacy_voucher(legacy_forms=legacy_forms, voucher_type=voucher_type).voucher_input


# --- a stored voucher back into the form -------------------------------------------------------


def _amount_text(value: Decimal) -> str:
    return str(value) if value else ""


def _entered_amount(line: VoucherLine, amount: Decimal) -> str:
    """The amount as it was typed when it still matches the line, else the line's own."""
    typed = line.data.get("amount")
    try:
        if typed is not None and Decimal(str(typed)) == amount:
            return str(typed)
    except ArithmeticError:
        pass
    return str(amount)


def legacy_initial(*, voucher: Voucher) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and line values a stored voucher opens with in its legacy form.

    Works for drafts from either screen: the entered lines are those the posting rule did not
    generate, and the bank account comes from the generated counterpart line (or, failing
    that, from the voucher's data).
    """
    form_class: type[VoucherForm] = voucher_form_class(voucher.voucher_type.code)
    stored = list(voucher.lines.select_related("account", "party").order_by("order", "id"))
    generated = {str(line.data.get(GENERATED)): line for line in stored if line.data.get(GENERATED)}
    header: dict[str, Any] = {
        "date": voucher.date,
        "reference": voucher.reference,
        "narration": voucher.narration,
    }
    if voucher.party_id and voucher.party is not None:
        header["party"] = voucher.party.code
    for name in form_class.base_fields:
        if name in form_class.CORE_FIELDS:
            continue
        value = voucher.data.get(name)
        if name == "bank_account" and "counterpart" in generated:
            value = generated["counterpart"].account.code
        elif name == "tax_account" and not value and "tax" in generated:
            value = generated["tax"].account.code
        if value not in (None, ""):
            header[name] = value

    rule, side = form_class.posting_rule, form_class.side
    lines: list[dict[str, Any]] = []
    for line in stored:
        if line.data.get(GENERATED):
            continue
        values: dict[str, Any] = {"account": line.account.code, "description": line.description}
        if rule == JOURNAL:
            values["party"] = line.party.code if line.party is not None else ""
            values["debit"] = _amount_text(line.debit)
            values["credit"] = _amount_text(line.credit)
        else:
            lines_side = side if rule == COUNTERPART else _opposite(side)
            signed = line.debit - line.credit if lines_side == "debit" else line.credit - line.debit
            values["amount"] = _entered_amount(line, signed)
            if rule == INVOICE:
                values["tax_rate"] = str(line.data.get("tax_rate") or "0")
        lines.append(values)
    return header, lines


# --- a refusal shown where it belongs ----------------------------------------------------------

_AMOUNT_FIELDS = {"debit", "credit", "amount"}


def _line_field(form: forms.Form, field: str | None) -> str | None:
    if field is None:
        return None
    if field in form.fields:
        return field
    if field in _AMOUNT_FIELDS and "amount" in form.fields:
        return "amount"
    return None


def rejection_place(
    *, legacy_forms: LegacyForms, sources: Sequence[LineSource], rejected: VoucherRejected
) -> list[str]:
    """Puts each problem on the line or header field it is about; returns the rest.

    Line numbers in the problems count the voucher's lines, generated ones included; `sources`
    turns them back into the grid's lines and the header fields the generated lines come from.
    """
    header = legacy_forms.header
    rest: list[str] = []
    for problem in rejected.problems:
        if not _placed(problem, header=header, legacy_forms=legacy_forms, sources=sources):
            rest.append(problem.describe(rejected.voucher_label))
    return rest


def _placed(
    problem: Problem,
    *,
    header: VoucherForm,
    legacy_forms: LegacyForms,
    sources: Sequence[LineSource],
) -> bool:
    if problem.line is None:
        if problem.field in header.fields:
            header.add_error(problem.field, problem.message)
            return True
        return False
    if not 0 < problem.line <= len(sources):
        return False
    source = sources[problem.line - 1]
    if source.field is not None and source.field in header.fields:
        header.add_error(source.field, problem.message)
        return True
    if source.line is None:
        return False
    form = legacy_forms.lines.forms[source.line]
    form.add_error(_line_field(form, problem.field), problem.message)
    return True
