"""The configuration-driven entry screen's rules: forms for a configuration, saving, the workflow.

The views call these functions and only render what they return. Nothing here knows of requests
or templates; problems found while saving or posting are placed on the forms, at the field or
line they concern, and the caller re-renders them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import Q
from jsonschema import Draft202012Validator

from accounting.models import (
    ZERO,
    Account,
    EntryChannel,
    Membership,
    Organization,
    Party,
    Role,
    Voucher,
    VoucherStatus,
)
from accounting.selectors import active_parties, postable_accounts
from accounting.services.checks import (
    AccountFacts,
    LineFacts,
    Problem,
    VoucherRejected,
    line_problems,
    period_problems,
)
from accounting.services.drafts import (
    voucher_approve,
    voucher_draft_create,
    voucher_draft_update,
    voucher_submit,
)
from accounting.services.facts import account_facts_for, period_for
from accounting.services.inputs import LineInput, User, VoucherInput
from accounting.services.posting import voucher_post
from voucher_config.form_factory import (
    LINE_PREFIX,
    BaseLineFormSet,
    ConfiguredForm,
    EntryForms,
    EntryLookups,
    form_classes_for,
)
from voucher_config.models import VoucherTypeConfig, definition_hash
from voucher_config.posting_rules import (
    GENERATED,
    Entry,
    PostingPlan,
    PostingRuleError,
    posting_plan,
    voucher_input,
)
from voucher_config.services import config_definition_at
from voucher_config.validation import CORE_HEADER_TYPES, data_schema

SAVE = "save"
SUBMIT = "submit"
APPROVE = "approve"
POST = "post"
ACTIONS = (SAVE, SUBMIT, APPROVE, POST)

DEFAULT_ROLES = {APPROVE: Role.ACCOUNTANT, POST: Role.ACCOUNTANT}
ROLE_KEYS = {APPROVE: "approver_role", POST: "poster_role"}
ACTION_WORDS = {SAVE: "save", SUBMIT: "submit", APPROVE: "approve", POST: "post"}

# What a generated line's problem is about, in the header: the field that made the line.
GENERATED_FIELD = {
    "counterpart": "counterpart_field",
    "tax": "tax_account_field",
    "party": "party_field",
}


class EntryUnavailable(Exception):
    """The organization has no usable configuration for the voucher type asked for."""


class EntryInvalid(Exception):
    """The entry cannot be saved or acted on; the reasons are on the forms.

    `rejected` is the posting service's refusal when that is what stopped it.
    """

    def __init__(self, rejected: VoucherRejected | None = None):
        self.rejected = rejected
        super().__init__(str(rejected) if rejected else "the entry has errors")


class EntryRefused(Exception):
    """The user may not do this (role) or the voucher is not in a state that allows it."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ConfigChange:
    """What changed in a configuration between the version a form showed and the active one."""

    type_name: str
    old_version: int
    new_version: int
    added: list[str]
    removed: list[str]
    changed: list[str]

    def explain(self) -> str:
        parts = []
        for word, labels in (
            ("added", self.added),
            ("removed", self.removed),
            ("changed", self.changed),
        ):
            if labels:
                parts.append(f"{word} {', '.join(labels)}")
        what = f" ({'; '.join(parts)})" if parts else ""
        return (
            f"The {self.type_name} form was changed by an administrator while you were entering "
            f"this voucher: version {self.old_version} became version {self.new_version}{what}. "
            "Nothing was saved. Your entries are kept in the updated form below; check them "
            "and save again."
        )


class ConfigChanged(Exception):
    """The active configuration is not the one the form was rendered with."""

    def __init__(self, change: ConfigChange, current: EntryDefinition):
        self.change = change
        self.current = current
        super().__init__(change.explain())


@dataclass(frozen=True)
class EntryDefinition:
    """One version of a configuration, as an entry form is rendered and read with it."""

    config: VoucherTypeConfig
    definition: dict[str, Any]
    version: int
    config_hash: str

    @property
    def cache_key(self) -> Hashable:
        return (self.config.pk, self.version, self.config_hash)

    @property
    def form_classes(self) -> tuple[type[ConfiguredForm], type[BaseLineFormSet]]:
        return form_classes_for(self.definition, cache_key=self.cache_key)

    @property
    def is_current(self) -> bool:
        return self.version == self.config.version

    @property
    def current(self) -> EntryDefinition:
        """The configuration's latest version (this one, unless it is older)."""
        return self if self.is_current else _entry_definition(self.config, None)

    @property
    def type_name(self) -> str:
        return str(self.definition.get("name") or self.config.voucher_type.name)

    @property
    def workflow(self) -> dict[str, Any]:
        return dict(self.definition.get("workflow") or {})

    @property
    def requires_approval(self) -> bool:
        return bool(self.workflow.get("requires_approval"))

    def role_for(self, action: str) -> str:
        """The least role an action needs: entering is a clerk's job, the rest as configured."""
        if action in ROLE_KEYS:
            return str(self.workflow.get(ROLE_KEYS[action]) or DEFAULT_ROLES[action])
        return Role.CLERK

    def may(self, membership: Membership, action: str) -> bool:
        return membership.has_role(self.role_for(action))

    @cached_property
    def header_specs(self) -> dict[str, dict[str, Any]]:
        return {spec["key"]: spec for spec in self.definition["header_fields"]}

    @cached_property
    def line_specs(self) -> dict[str, dict[str, Any]]:
        return {spec["key"]: spec for spec in self.definition["line_fields"]}

    def label(self, key: str) -> str:
        spec = self.header_specs.get(key) or self.line_specs.get(key)
        return str(spec["label"]) if spec else key


def _entry_definition(config: VoucherTypeConfig, version: int | None) -> EntryDefinition:
    if version is not None and version != config.version:
        definition = config_definition_at(config, version)
        if definition is not None:
            return EntryDefinition(config, definition, version, definition_hash(definition))
    return EntryDefinition(config, config.definition, config.version, config.definition_hash)


def entry_definition(
    *,
    organization: Organization,
    type_code: str,
    version: int | None = None,
    require_active: bool = True,
) -> EntryDefinition:
    """The configuration a form for `type_code` is built from: the active one, or `version` of it.

    A version the history no longer holds gives the current one, which the caller can tell
    from `.version`.
    """
    config = (
        VoucherTypeConfig.objects.select_related("voucher_type", "organization")
        .filter(organization=organization, voucher_type__code=type_code)
        .first()
    )
    if config is None or (require_active and not config.is_active):
        known = ", ".join(
            VoucherTypeConfig.objects.filter(organization=organization, is_active=True)
            .order_by("voucher_type__code")
            .values_list("voucher_type__code", flat=True)
        )
        raise EntryUnavailable(
            f"{organization} has no active configuration for voucher type {type_code!r}; "
            f"available: {known or 'none'}."
        )
    return _entry_definition(config, version)


def entry_definition_for_voucher(*, voucher: Voucher) -> EntryDefinition:
    """The configuration version a voucher was entered with (the current one if it is gone)."""
    if voucher.entry_channel != EntryChannel.CONFIG:
        raise EntryUnavailable(
            f"{voucher} was entered through the {voucher.get_entry_channel_display().lower()}; "
            "it can only be changed there."
        )
    config = (
        VoucherTypeConfig.objects.select_related("voucher_type", "organization")
        .filter(organization_id=voucher.organization_id, voucher_type_id=voucher.voucher_type_id)
        .first()
    )
    if config is None:
        raise EntryUnavailable(f"Voucher type {voucher.voucher_type} has no configuration.")
    return _entry_definition(config, voucher.config_version)


# --- building the forms ----------------------------------------------------------------------


def entry_forms_blank(
    *, entry_def: EntryDefinition, lookups: EntryLookups, line_count: int | None = None
) -> EntryForms:
    """An empty entry: the configured defaults and the configured number of blank lines."""
    return EntryForms(entry_def.form_classes, entry_def.definition, lookups, line_count=line_count)


def entry_forms_bound(
    *, entry_def: EntryDefinition, lookups: EntryLookups, data: Mapping[str, Any]
) -> EntryForms:
    return EntryForms(entry_def.form_classes, entry_def.definition, lookups, data=data)


def _amount_text(value: Decimal) -> str:
    return "" if not value else str(value)


def voucher_initial(
    entry_def: EntryDefinition, voucher: Voucher
) -> tuple[dict[str, Any], list[dict[str, Any]], list[LineInput]]:
    """The form values a stored voucher was entered with, and its stored lines as inputs.

    Lines the posting rule added (counterpart, tax, party) are left out: they are made again
    from the header when the voucher is saved.
    """
    definition = entry_def.definition
    posting = definition["posting"]
    header: dict[str, Any] = {}
    columns = {
        "date": voucher.date,
        "reference": voucher.reference,
        "narration": voucher.narration,
        "party": voucher.party.code if voucher.party_id and voucher.party else "",
    }
    for key in entry_def.header_specs:
        header[key] = columns[key] if key in CORE_HEADER_TYPES else voucher.data.get(key)

    stored = list(voucher.lines.select_related("account", "party").order_by("order", "id"))
    lines: list[dict[str, Any]] = []
    for line in stored:
        if line.data.get(GENERATED):
            continue
        values: dict[str, Any] = {}
        for key in entry_def.line_specs:
            if posting["rule"] == "journal" and key == posting.get("debit_field"):
                values[key] = _amount_text(line.debit)
            elif posting["rule"] == "journal" and key == posting.get("credit_field"):
                values[key] = _amount_text(line.credit)
            elif key == posting.get("account_field"):
                values[key] = line.account.code
            elif key == posting.get("amount_field"):
                values[key] = line.data.get(key) or _amount_text(line.debit or line.credit)
            elif key == "account":
                values[key] = line.account.code
            elif key == "party":
                values[key] = line.party.code if line.party else ""
            elif key == "description":
                values[key] = line.description
            elif key in ("debit", "credit"):
                values[key] = _amount_text(getattr(line, key))
            else:
                values[key] = line.data.get(key)
        lines.append(values)
    inputs = [
        LineInput(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            description=line.description,
            party_id=line.party_id,
            data=line.data,
        )
        for line in stored
    ]
    return header, lines, inputs


def entry_forms_for_voucher(
    *, entry_def: EntryDefinition, lookups: EntryLookups, voucher: Voucher
) -> tuple[EntryForms, list[LineInput]]:
    """The forms of a stored voucher, reopened as it was entered, and its stored lines."""
    header, lines, stored = voucher_initial(entry_def, voucher)
    forms_ = EntryForms(
        entry_def.form_classes,
        entry_def.definition,
        lookups,
        initial_header=header,
        initial_lines=lines,
        line_count=max(len(lines), 1),
    )
    return forms_, stored


def raw_lines(data: Mapping[str, Any], keys: Sequence[str]) -> list[dict[str, str]]:
    """The lines of a posted form as raw values, without removed and blank ones."""
    try:
        total = int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS") or 0)
    except ValueError:
        total = 0
    rows = []
    for index in range(min(total, 5000)):
        prefix = f"{LINE_PREFIX}-{index}-"
        if data.get(f"{prefix}DELETE"):
            continue
        row = {key: data[prefix + key] for key in keys if data.get(prefix + key) not in (None, "")}
        if row:
            rows.append(row)
    return rows


def entry_forms_carried_over(
    *,
    entry_def: EntryDefinition,
    lookups: EntryLookups,
    data: Mapping[str, Any],
    previous: EntryDefinition,
) -> EntryForms:
    """A new version's form holding what the user typed into the previous version's form.

    Fields both versions have keep the user's value; new fields show their defaults.
    """
    header: dict[str, Any] = {}
    for key, spec in entry_def.header_specs.items():
        if key not in previous.header_specs:
            continue
        if spec["type"] == "boolean":
            header[key] = bool(data.get(key))
        elif key in data:
            header[key] = data[key]
    shared = [key for key in entry_def.line_specs if key in previous.line_specs]
    lines = raw_lines(data, shared)
    return EntryForms(
        entry_def.form_classes,
        entry_def.definition,
        lookups,
        initial_header=header,
        initial_lines=lines,
        line_count=max(len(lines), entry_def.definition["lines"].get("initial", 2)),
    )


def config_change(previous: EntryDefinition, current: EntryDefinition) -> ConfigChange:
    def specs(entry_def: EntryDefinition) -> dict[str, dict[str, Any]]:
        return {
            **{f"h:{k}": v for k, v in entry_def.header_specs.items()},
            **{f"l:{k}": v for k, v in entry_def.line_specs.items()},
        }

    old, new = specs(previous), specs(current)
    return ConfigChange(
        type_name=current.type_name,
        old_version=previous.version,
        new_version=current.version,
        added=[new[k]["label"] for k in new if k not in old],
        removed=[old[k]["label"] for k in old if k not in new],
        changed=[new[k]["label"] for k in new if k in old and old[k] != new[k]],
    )


# --- placing problems where the user will see them -------------------------------------------

# Ledger problems read "<voucher>: is not balanced …"; these starts need a subject put back.
VERB_STARTS = ("is ", "has ", "needs ", "no longer ")


def _sentence(subject: str, message: str, *, named: bool = False) -> str:
    """A ledger problem as a sentence; `named` keeps the subject even before a noun."""
    message = message.rstrip(".")
    if message.startswith(VERB_STARTS):
        return f"{subject} {message}."
    if named:
        return f"{subject}: {message}."
    return f"{message[:1].upper()}{message[1:]}."


def add_header_error(forms_: EntryForms, key: str | None, message: str) -> None:
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
            return str(posting[f"{problem_field}_field"])
        return str(posting["amount_field"])
    if problem_field in entry_def.line_specs:
        return problem_field
    return None


def is_removed(form: forms.Form) -> bool:
    """Whether a posted line carries the grid's deletion mark (read without cleaning it)."""
    if not form.is_bound:
        return False
    name = form.add_prefix(forms.formsets.DELETION_FIELD_NAME)
    return bool(forms.CheckboxInput().value_from_datadict(form.data, form.files, name))


def place_problems(
    forms_: EntryForms,
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
            message = _sentence("This line", problem.message)
            if key is not None and key in target.fields:
                target.add_error(key, message)
            else:
                target.add_error(None, message)
        elif isinstance(target, str):
            key = posting.get(GENERATED_FIELD.get(target, ""), None)
            where = entry_def.label(key) if key else target
            add_header_error(
                forms_,
                key,
                _sentence(f"The {target} line made from {where}", problem.message, named=True),
            )
        else:
            key = problem.field if problem.field in entry_def.header_specs else None
            add_header_error(forms_, key, _sentence("The voucher", problem.message))


# --- reading an entry ------------------------------------------------------------------------


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


def entry_voucher_input(
    *, entry_def: EntryDefinition, forms_: EntryForms
) -> tuple[VoucherInput, PostingPlan]:
    """The voucher an entry makes, or EntryInvalid with the problems placed on the forms."""
    if not forms_.is_valid():
        raise EntryInvalid
    try:
        voucher_in, plan = voucher_input(
            definition=entry_def.definition,
            entry=forms_.entry(),
            voucher_type=entry_def.config.voucher_type,
            version=entry_def.version,
            config_hash=entry_def.config_hash,
        )
    except PostingRuleError as exc:
        add_header_error(forms_, exc.field_key, exc.message)
        raise EntryInvalid from exc
    problems = data_problems(entry_def, voucher_in.data)
    for key, message in problems:
        add_header_error(forms_, key, message)
    if problems:
        raise EntryInvalid
    return voucher_in, plan


def _line_values(form: forms.Form) -> dict[str, Any]:
    # The formset's own DELETE mark is bookkeeping, not something the user entered.
    return {k: v for k, v in form.cleaned_data.items() if k != forms.formsets.DELETION_FIELD_NAME}


def _line_key(line: LineInput) -> tuple[Any, ...]:
    return (
        line.account_id,
        line.debit,
        line.credit,
        line.description,
        line.party_id,
        line.data,
    )


def matches_stored(voucher: Voucher, voucher_in: VoucherInput, stored: Sequence[LineInput]) -> bool:
    """Whether an entry is exactly what the voucher already holds (header and every line)."""
    return (
        voucher.date == voucher_in.date
        and voucher.reference == voucher_in.reference
        and voucher.narration == voucher_in.narration
        and voucher.party_id == voucher_in.party_id
        and voucher.data == voucher_in.data
        and [_line_key(line) for line in stored] == [_line_key(line) for line in voucher_in.lines]
    )


def stored_lines(voucher: Voucher) -> list[LineInput]:
    return [
        LineInput(
            account_id=row[0],
            debit=row[1],
            credit=row[2],
            description=row[3],
            party_id=row[4],
            data=row[5],
        )
        for row in voucher.lines.order_by("order", "id").values_list(
            "account_id", "debit", "credit", "description", "party_id", "data"
        )
    ]


# --- acting on an entry ----------------------------------------------------------------------


@dataclass
class EntryResult:
    voucher: Voucher
    action: str
    saved: bool  # False when the stored voucher already held exactly this entry

    @property
    def message(self) -> str:
        label = self.voucher.number or f"Draft #{self.voucher.pk}"
        if self.action == POST:
            return f"{self.voucher.voucher_type.name} voucher {self.voucher.number} is posted."
        if self.action == SUBMIT:
            return f"{label} is submitted for approval."
        if self.action == APPROVE:
            return f"{label} is approved and can be posted."
        if not self.saved:
            return f"{label}: nothing had changed since it was last saved."
        return f"{label} is saved."


def check_role(*, entry_def: EntryDefinition, membership: Membership, action: str) -> None:
    role = Role(entry_def.role_for(action))
    if not membership.has_role(role):
        raise EntryRefused(
            f"To {ACTION_WORDS[action]} a {entry_def.type_name} voucher you need the "
            f"{role.label} role; yours is {membership.get_role_display()}."
        )


def _refuse_status(voucher: Voucher | None, action: str) -> None:
    if voucher is None:
        if action == APPROVE:
            raise EntryRefused("Only a voucher submitted for approval can be approved.")
        return
    if not voucher.is_editable:
        raise EntryRefused(
            f"{voucher} is {voucher.get_status_display().lower()}; it cannot change."
        )
    if action == APPROVE and voucher.status != VoucherStatus.SUBMITTED:
        raise EntryRefused(
            f"{voucher} is {voucher.get_status_display().lower()}; only a voucher submitted "
            "for approval can be approved."
        )
    if action == SUBMIT and voucher.status == VoucherStatus.APPROVED:
        raise EntryRefused(f"{voucher} is already approved.")


def _rejected(
    forms_: EntryForms, entry_def: EntryDefinition, lines: Sequence[LineInput], exc: VoucherRejected
) -> EntryInvalid:
    place_problems(forms_, entry_def, lines, exc.problems)
    return EntryInvalid(exc)


def entry_act(
    *,
    action: str,
    entry_def: EntryDefinition,
    current: EntryDefinition | None,
    forms_: EntryForms,
    membership: Membership,
    user: User,
    voucher: Voucher | None = None,
) -> EntryResult:
    """Saves an entry as a draft, then submits, approves or posts it as the action asks.

    `entry_def` is the configuration version the form was rendered with and is read with;
    `current` the active one (None when the type has no active configuration). A change that
    must be saved is saved under the active version only: if the form showed another one,
    ConfigChanged is raised and nothing is written. An entry identical to the stored voucher is
    not written again, so approving or posting acts on exactly what was saved.

    Saving and the action run in one transaction: a refused post leaves the draft as it was.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; valid: {', '.join(ACTIONS)}")
    check_role(entry_def=entry_def, membership=membership, action=action)
    _refuse_status(voucher, action)
    voucher_in, _ = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    stored = stored_lines(voucher) if voucher is not None else []
    unchanged = voucher is not None and matches_stored(voucher, voucher_in, stored)

    if not unchanged:
        if action == APPROVE or (voucher is not None and voucher.status == VoucherStatus.APPROVED):
            add_header_error(
                forms_,
                None,
                "You changed the voucher. An approval covers what was submitted: save the "
                "changes as a draft and submit it again, or reload the page to "
                f"{ACTION_WORDS[action]} it as it stands.",
            )
            raise EntryInvalid
        if current is None:
            raise EntryRefused(
                f"{entry_def.type_name} vouchers can no longer be entered: the configuration "
                "is inactive. Ask an administrator."
            )
        if current.version != entry_def.version:
            raise ConfigChanged(config_change(entry_def, current), current)

    organization = membership.organization
    lines: Sequence[LineInput] = stored if unchanged else voucher_in.lines
    try:
        with transaction.atomic():
            if unchanged:
                assert voucher is not None
                saved = voucher
            elif voucher is None:
                saved = voucher_draft_create(
                    organization=organization, voucher_input=voucher_in, user=user
                )
            else:
                saved = voucher_draft_update(voucher=voucher, voucher_input=voucher_in, user=user)
            if action == SUBMIT:
                saved = voucher_submit(voucher=saved, user=user)
            elif action == APPROVE:
                saved = voucher_approve(voucher=saved, user=user)
            elif action == POST:
                saved = voucher_post(voucher=saved, user=user)
    except VoucherRejected as exc:
        raise _rejected(forms_, entry_def, lines, exc) from exc
    saved.voucher_type = entry_def.config.voucher_type
    return EntryResult(voucher=saved, action=action, saved=not unchanged)


# --- totals and the preview ------------------------------------------------------------------


@dataclass
class EntryTotals:
    """What the totals bar shows while the user types."""

    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO
    line_count: int = 0
    lines_with_errors: int = 0
    tax_total: Decimal = ZERO
    tax_rounding_difference: Decimal = ZERO
    entered_total: Decimal = ZERO
    missing: str = ""  # what the posting rule still needs, e.g. "Choose Paid from …"

    @property
    def difference(self) -> Decimal:
        return self.total_debit - self.total_credit

    @property
    def is_balanced(self) -> bool:
        return not self.missing and self.difference == 0 and self.total_debit > 0

    @property
    def is_empty(self) -> bool:
        return self.total_debit == 0 and self.total_credit == 0 and not self.entered_total


def _entered_amounts(entry_def: EntryDefinition, lines: list[dict[str, Any]]) -> Decimal:
    posting = entry_def.definition["posting"]
    key = posting.get("amount_field") or posting.get("debit_field")
    return sum((value.get(key) or ZERO for value in lines), ZERO)


def totals_from_plan(plan: PostingPlan, line_count: int, errors: int = 0) -> EntryTotals:
    return EntryTotals(
        total_debit=plan.total_debit,
        total_credit=plan.total_credit,
        line_count=line_count,
        lines_with_errors=errors,
        tax_total=sum(plan.tax_lines.values(), ZERO),
        tax_rounding_difference=plan.tax_rounding_difference,
    )


def totals_from_lines(lines: Sequence[LineInput]) -> EntryTotals:
    """Totals of stored lines (the voucher as saved)."""
    entered = [line for line in lines if not line.data.get(GENERATED)]
    tax = sum(
        (line.debit + line.credit for line in lines if line.data.get(GENERATED) == "tax"), ZERO
    )
    return EntryTotals(
        total_debit=sum((line.debit for line in lines), ZERO),
        total_credit=sum((line.credit for line in lines), ZERO),
        line_count=len(entered),
        tax_total=tax,
    )


def entry_totals(*, entry_def: EntryDefinition, forms_: EntryForms) -> EntryTotals:
    """Running totals of a bound entry, counting the lines that are valid so far.

    Unlike saving, this never refuses: a line with an error is left out and counted, and a
    header account the rule needs but that is not chosen yet is named.
    """
    forms_.header.is_valid()
    forms_.lines.is_valid()
    header = dict(getattr(forms_.header, "cleaned_data", {}))
    good: list[dict[str, Any]] = []
    errors = 0
    for form in forms_.lines.forms:
        if is_removed(form) or not form.has_changed():
            continue
        if form.is_valid():
            good.append(_line_values(form))
        else:
            errors += 1
    try:
        plan = posting_plan(entry_def.definition, Entry(header=header, lines=good))
    except PostingRuleError as exc:
        return EntryTotals(
            line_count=len(good),
            lines_with_errors=errors,
            entered_total=_entered_amounts(entry_def, good),
            missing=f"{entry_def.label(exc.field_key)}: {exc.message}.",
        )
    return totals_from_plan(plan, len(good), errors)


@dataclass
class PreviewLine:
    number: int
    account_code: str
    account_name: str
    description: str
    party_name: str
    debit: Decimal
    credit: Decimal
    generated: str


@dataclass
class EntryPreview:
    """The exact ledger lines an entry would post, and what would still stop it posting."""

    lines: list[PreviewLine]
    totals: EntryTotals
    problems: list[str] = field(default_factory=list)

    @property
    def can_post(self) -> bool:
        return not self.problems and self.totals.is_balanced


def entry_preview(
    *, entry_def: EntryDefinition, forms_: EntryForms, lookups: EntryLookups
) -> EntryPreview:
    """The ledger lines of a valid entry with the checks posting would make (no writes).

    Raises EntryInvalid, with the problems on the forms, when the entry is not complete.
    """
    voucher_in, plan = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    accounts = {account.pk: account for account in lookups.accounts.values()}
    party_ids = {line.party_id for line in plan.lines if line.party_id} | {voucher_in.party_id}
    parties = {party.pk: party for party in lookups.parties.values()} if party_ids - {None} else {}
    organization = lookups.organization
    # The lookups hold only active accounts without sub-accounts; others are read for the check.
    facts = {
        account.pk: AccountFacts(account.pk, account.code, organization.pk, True, False)
        for account in accounts.values()
    }
    unknown = {line.account_id for line in plan.lines if line.account_id} - set(facts)
    if unknown:
        facts.update(account_facts_for(organization=organization, account_ids=unknown))
    line_facts = [
        LineFacts(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            account=facts.get(line.account_id) if line.account_id else None,
        )
        for line in plan.lines
    ]
    problems = line_problems(line_facts, organization_id=organization.pk)
    problems += period_problems(
        period_for(organization_id=organization.pk, on=voucher_in.date), on=voucher_in.date
    )
    lines = []
    for number, line in enumerate(plan.lines, start=1):
        account = accounts.get(line.account_id) if line.account_id else None
        party = parties.get(line.party_id or voucher_in.party_id or 0)
        lines.append(
            PreviewLine(
                number=number,
                account_code=account.code if account else "",
                account_name=account.name if account else "",
                description=line.description,
                party_name=party.name if party else "",
                debit=line.debit,
                credit=line.credit,
                generated=str(line.data.get(GENERATED) or ""),
            )
        )
    entered = sum(1 for line in plan.lines if not line.data.get(GENERATED))
    return EntryPreview(
        lines=lines,
        totals=totals_from_plan(plan, entered),
        problems=[
            _sentence(f"Line {p.line}" if p.line else "The voucher", p.message) for p in problems
        ],
    )


# --- search-as-you-type ----------------------------------------------------------------------

SEARCH_LIMIT = 20


def lookup_spec(entry_def: EntryDefinition, *, key: str, section: str, kind: str) -> dict[str, Any]:
    """The account or party field a search is for; KeyError when the form has no such field."""
    specs = entry_def.line_specs if section == "line" else entry_def.header_specs
    spec = specs.get(key)
    if spec is None or spec["type"] != kind:
        raise KeyError(f"{entry_def.type_name} has no {kind} field {key!r} in its {section}")
    return spec


def account_search(
    *, organization: Organization, spec: Mapping[str, Any], query: str, limit: int = SEARCH_LIMIT
) -> list[Account]:
    """Postable accounts of the organization that the field's filter allows, matching `query`
    at the start of the code or anywhere in the name; one query."""
    flt = spec.get("filter") or {}
    accounts = postable_accounts(
        organization=organization,
        account_types=flt.get("account_types") or (),
        subtypes=flt.get("subtypes") or (),
    )
    query = query.strip()
    if query:
        accounts = accounts.filter(Q(code__istartswith=query) | Q(name__icontains=query))
    return list(accounts.order_by("code").only("id", "code", "name")[:limit])


def party_search(
    *, organization: Organization, spec: Mapping[str, Any], query: str, limit: int = SEARCH_LIMIT
) -> list[Party]:
    """Active parties of the organization in the field's role, matching `query`; one query."""
    parties = active_parties(organization=organization, role=spec.get("role"))
    query = query.strip()
    if query:
        parties = parties.filter(Q(code__istartswith=query) | Q(name__icontains=query))
    return list(parties.order_by("name", "code").only("id", "code", "name")[:limit])
