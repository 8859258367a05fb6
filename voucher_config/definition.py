"""The shape of a configuration definition, as `schemas/voucher_type_config.schema.json` states it.

These types describe JSON that the meta-schema has already checked; they check nothing at run
time. A definition read from the database is cast to `VoucherDefinition` once, where it enters
(e.g. `voucher_config.entry.definitions.EntryDefinition`), and passed on typed from there.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

FieldType = Literal[
    "text", "textarea", "date", "amount", "integer", "choice", "boolean", "account", "party"
]
FieldSection = Literal["header_fields", "line_fields"]
FIELD_SECTIONS: tuple[FieldSection, FieldSection] = ("header_fields", "line_fields")
Side = Literal["debit", "credit"]
RoleName = Literal["clerk", "accountant", "admin"]
# The keys of a posting rule that name a field of the form.
PostingReference = Literal[
    "account_field",
    "debit_field",
    "credit_field",
    "counterpart_field",
    "amount_field",
    "party_field",
    "tax_rate_field",
    "tax_account_field",
]


class Choice(TypedDict):
    value: str
    label: str


class AccountFilter(TypedDict, total=False):
    account_types: list[str]
    subtypes: list[str]


class FieldSpec(TypedDict):
    """One field of the header or of a line."""

    key: str
    label: str
    type: FieldType
    help_text: NotRequired[str]
    required: NotRequired[bool]
    read_only: NotRequired[bool]
    default: NotRequired[str | int | float | bool | None]
    max_length: NotRequired[int]
    min_value: NotRequired[int | float]
    max_value: NotRequired[int | float]
    choices: NotRequired[list[Choice]]  # choice fields only
    filter: NotRequired[AccountFilter]  # account fields only
    role: NotRequired[Literal["customer", "supplier", "any"]]  # party fields only


class HeaderSection(TypedDict):
    title: str
    fields: list[str]


class LineColumn(TypedDict):
    field: str
    width: NotRequired[int]


class Layout(TypedDict, total=False):
    header_sections: list[HeaderSection]
    line_columns: list[LineColumn]


class LinesSpec(TypedDict):
    amount_mode: Literal["debit_credit", "single"]
    min: NotRequired[int]
    max: NotRequired[int]
    initial: NotRequired[int]


class PostingRule(TypedDict):
    """How an entry becomes ledger lines.

    One type for the three rules: the meta-schema says which keys each rule needs (journal:
    account, debit and credit fields; counterpart: counterpart field, lines side, account and
    amount fields; invoice: party field, party side, account and amount fields, and optionally
    tax), and every key but `rule` and `account_field` belongs to some rules only.
    """

    rule: Literal["journal", "counterpart", "invoice"]
    account_field: str
    debit_field: NotRequired[str]
    credit_field: NotRequired[str]
    counterpart_field: NotRequired[str]
    lines_side: NotRequired[Side]
    amount_field: NotRequired[str]
    party_field: NotRequired[str]
    party_side: NotRequired[Side]
    tax_rate_field: NotRequired[str]
    tax_account_field: NotRequired[str]
    tax_rounding: NotRequired[Literal["line", "document"]]


class Workflow(TypedDict, total=False):
    requires_approval: bool
    approver_role: RoleName
    poster_role: RoleName


class Example(TypedDict):
    """An entry the configuration must accept and post balanced (`check_voucher_schemas`)."""

    title: NotRequired[str]
    header: dict[str, Any]
    lines: list[dict[str, Any]]


class VoucherDefinition(TypedDict):
    """A voucher type's entry form and posting rule: what `VoucherTypeConfig.definition` holds."""

    schema_version: Literal[1]
    code: str
    name: str
    description: NotRequired[str]
    header_fields: list[FieldSpec]
    line_fields: list[FieldSpec]
    layout: NotRequired[Layout]
    lines: LinesSpec
    posting: PostingRule
    workflow: NotRequired[Workflow]
    examples: NotRequired[list[Example]]
