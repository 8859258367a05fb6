"""Draft vouchers: create, replace, submit, approve and cancel, each atomic and audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from accounting.models import (
    ZERO,
    Account,
    EntryChannel,
    Organization,
    Party,
    Voucher,
    VoucherLine,
    VoucherStatus,
    VoucherType,
)
from accounting.services.rules import (
    AccountFacts,
    Problem,
    VoucherRejected,
    account_problems,
    amount_problems,
)

User = AbstractBaseUser | AnonymousUser | None


@dataclass
class LineInput:
    """One entered line: an account id, one side's amount, and what else the line carries."""

    account_id: int | None
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str = ""
    party_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class VoucherInput:
    """A whole entered voucher, as the forms, the import and the tests hand it over."""

    voucher_type: VoucherType
    date: date
    lines: Sequence[LineInput]
    reference: str = ""
    narration: str = ""
    party_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    entry_channel: str = EntryChannel.LEGACY
    config_version: int | None = None
    config_hash: str = ""
    requires_approval: bool = False


def history_user(user: User) -> Any:
    """The user to stamp on rows and history: the acting user, or nobody when anonymous.

    Typed Any because the user foreign keys expect the configured user model.
    """
    return user if getattr(user, "pk", None) else None


@cache
def _historical_model(model: type[Model]) -> Any:
    # `Model.history` builds a new manager class on every access, which costs more than the
    # INSERT it is used for; the historical model behind it never changes.
    return model.history.model  # type: ignore[attr-defined]


def history_rows_create(
    objs: Sequence[Model],
    *,
    user: User,
    when: datetime | None = None,
    history_type: str = "+",
    change_reason: str | None = None,
) -> None:
    """One history row per object, in one INSERT, as django-simple-history would write them.

    `history_type` is "+" for a new row, "~" for a change and "-" for a deletion.
    """
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    historical = _historical_model(type(objs[0]))
    attnames = [f.attname for f in historical.tracked_fields]
    stamp = {
        "history_date": when or timezone.now(),
        "history_user": history_user(user),
        "history_change_reason": change_reason,
        "history_type": history_type,
    }
    historical.objects.bulk_create(
        [historical(**stamp, **{name: getattr(obj, name) for name in attnames}) for obj in objs]
    )


@cache
def _history_copy_sql(model: type[Model], key: str) -> str:
    historical = _historical_model(model)
    quote = connection.ops.quote_name
    tracked = ", ".join(quote(f.column) for f in historical.tracked_fields)
    stamp = ", ".join(
        quote(historical._meta.get_field(name).column)
        for name in ("history_date", "history_user", "history_change_reason", "history_type")
    )
    return (
        f"INSERT INTO {quote(historical._meta.db_table)} ({tracked}, {stamp})"
        f" SELECT {tracked}, %s, %s, %s, %s FROM {quote(model._meta.db_table)}"
        f" WHERE {quote(_column(model, key))} = %s"
    )


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column, f"{name} is not a column of {model}"
    return field.column


def history_rows_copy(
    model: type[Model],
    *,
    key: str,
    value: int,
    user: User,
    when: datetime | None = None,
    history_type: str = "+",
    change_reason: str | None = None,
) -> None:
    """History rows for every row of `model` whose `key` field equals `value`, copied by the
    database in one INSERT … SELECT, so that a voucher's 1,000 lines cost what 2 lines cost.

    The rows are what django-simple-history writes: the stored values of every tracked field,
    stamped with date, user, change reason and type ("+" created, "~" changed, "-" deleted).
    """
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    stamp = [
        connection.ops.adapt_datetimefield_value(when or timezone.now()),
        getattr(history_user(user), "pk", None),
        change_reason,
        history_type,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_history_copy_sql(model, key), [*stamp, value])


def voucher_save_with_history(
    voucher: Voucher,
    *,
    user: User,
    when: datetime | None = None,
    update_fields: Sequence[str] | None = None,
) -> None:
    """Saves a voucher and writes its history row, copied from the row just saved."""
    adding = voucher._state.adding
    voucher.save_without_historical_record(update_fields=update_fields)  # type: ignore[attr-defined]
    history_rows_copy(
        Voucher,
        key="id",
        value=voucher.pk,
        user=user,
        when=when,
        history_type="+" if adding else "~",
    )


@lru_cache(maxsize=128)
def _account_facts_sql(count: int) -> str:
    table = connection.ops.quote_name(Account._meta.db_table)
    placeholders = ", ".join(["%s"] * count)
    return (
        f"SELECT a.id, a.code, a.organization_id, a.is_active,"
        f" EXISTS (SELECT 1 FROM {table} c WHERE c.parent_id = a.id)"
        f" FROM {table} a WHERE a.id IN ({placeholders})"
    )


def account_facts_for(
    *, organization: Organization, account_ids: set[int]
) -> dict[int, AccountFacts]:
    """The facts posting checks, for every account the lines name, in one query.

    Hand-written SQL: posting runs this for every voucher, and building the same query through
    the ORM costs several times what the database takes to answer it.
    """
    if not account_ids:
        return {}
    ids = sorted(account_ids)
    with connection.cursor() as cursor:
        cursor.execute(_account_facts_sql(len(ids)), ids)
        rows = cursor.fetchall()
    return {
        row[0]: AccountFacts(row[0], row[1], row[2], bool(row[3]), bool(row[4])) for row in rows
    }


def draft_line_problems(
    *, organization: Organization, voucher_input: VoucherInput
) -> tuple[list[Problem], dict[int, AccountFacts]]:
    """What makes an entry unfit even as a draft: foreign accounts or parties, bad amounts."""
    problems: list[Problem] = []
    if voucher_input.voucher_type.organization_id != organization.pk:
        problems.append(Problem("voucher type belongs to another organization", rule="type"))
    ids = {line.account_id for line in voucher_input.lines if line.account_id}
    facts = account_facts_for(organization=organization, account_ids=ids)
    party_ids = {line.party_id for line in voucher_input.lines if line.party_id}
    if voucher_input.party_id:
        party_ids.add(voucher_input.party_id)
    own_parties = set(
        Party.objects.filter(organization=organization, pk__in=party_ids)
        .order_by()
        .values_list("pk", flat=True)
        if party_ids
        else ()
    )
    if voucher_input.party_id and voucher_input.party_id not in own_parties:
        problems.append(
            Problem("party belongs to another organization", None, "party", "party_organization")
        )
    for number, line in enumerate(voucher_input.lines, start=1):
        # A draft may still be incomplete (a line without an amount), but never malformed.
        problems += [
            p
            for p in amount_problems(line.debit, line.credit, line=number)
            if p.rule != "no_amount"
        ]
        if line.account_id is None:
            # The draft may lack an amount, but a line is stored against an account.
            problems.append(Problem("has no account", number, "account", "account_required"))
        else:
            problems += [
                p
                for p in account_problems(
                    facts.get(line.account_id),
                    organization_id=organization.pk,
                    line=number,
                    account_id=line.account_id,
                )
                if p.rule in ("account_missing", "account_organization")
            ]
        if line.party_id and line.party_id not in own_parties:
            problems.append(
                Problem(
                    "party belongs to another organization", number, "party", "party_organization"
                )
            )
    return problems, facts


def build_lines(voucher: Voucher, lines: Sequence[LineInput]) -> list[VoucherLine]:
    return [
        VoucherLine(
            voucher_id=voucher.pk,
            order=number,
            account_id=line.account_id,  # type: ignore[misc]  # drafts refuse lines without one
            debit=line.debit,
            credit=line.credit,
            description=line.description,
            party_id=line.party_id,
            data=line.data,
        )
        for number, line in enumerate(lines, start=1)
    ]


def lines_save_with_history(
    lines: list[VoucherLine], *, user: User, when: datetime | None = None
) -> None:
    VoucherLine.objects.bulk_create(lines)
    history_rows_create(lines, user=user, when=when)


def voucher_lines_create(
    voucher: Voucher, lines: Sequence[LineInput], *, user: User, when: datetime | None = None
) -> None:
    """Writes a voucher's whole set of lines, which it must not have yet, with their history.

    One INSERT for the lines and one INSERT … SELECT for their history rows, whatever the
    number of lines (up to the few thousand a statement's parameters allow on SQLite).
    """
    _lines_insert(voucher, lines)
    history_rows_copy(VoucherLine, key="voucher", value=voucher.pk, user=user, when=when)


# The columns posting writes, in the order of the values `_lines_insert` sends.
_LINE_FIELDS = ("voucher", "order", "account", "debit", "credit", "description", "party", "data")


@lru_cache(maxsize=64)
def _lines_insert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(VoucherLine, name)) for name in _LINE_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_LINE_FIELDS)) + ")"
    return (
        f"INSERT INTO {quote(VoucherLine._meta.db_table)} ({columns})"
        f" VALUES {', '.join([row] * rows)}"
    )


def _lines_insert(voucher: Voucher, lines: Sequence[LineInput]) -> None:
    """The lines as one multi-row INSERT, numbered from 1 in the order given.

    Hand-written rather than bulk_create: the ORM builds a model instance and prepares every
    field of every row in Python, which for a 1,000-line voucher costs more than the database's
    own work. Values are what bulk_create would send: the amounts are already exact Decimals
    and the JSON column is prepared by its field.
    """
    data_field = VoucherLine._meta.get_field("data")
    assert isinstance(data_field, Field)
    width = len(_LINE_FIELDS)
    params: list[Any] = []
    for number, line in enumerate(lines, start=1):
        params += (
            voucher.pk,
            number,
            line.account_id,
            line.debit,
            line.credit,
            line.description,
            line.party_id,
            data_field.get_db_prep_save(line.data, connection),
        )
    # SQLite caps the parameters of one statement (250,000 on Debian, 32,766 by default).
    per_statement = (connection.features.max_query_params or len(params) or 1) // width or 1
    with connection.cursor() as cursor:
        for first in range(0, len(lines), per_statement):
            chunk = params[first * width : (first + per_statement) * width]
            cursor.execute(_lines_insert_sql(len(chunk) // width), chunk)


def voucher_draft_create(
    *, organization: Organization, voucher_input: VoucherInput, user: User = None
) -> Voucher:
    problems, _ = draft_line_problems(organization=organization, voucher_input=voucher_input)
    if problems:
        raise VoucherRejected(f"Draft {voucher_input.voucher_type.code}", problems)
    with transaction.atomic():
        now = timezone.now()
        voucher = Voucher(
            organization=organization,
            voucher_type=voucher_input.voucher_type,
            date=voucher_input.date,
            reference=voucher_input.reference,
            narration=voucher_input.narration,
            party_id=voucher_input.party_id,
            data=voucher_input.data,
            entry_channel=voucher_input.entry_channel,
            config_version=voucher_input.config_version,
            config_hash=voucher_input.config_hash,
            requires_approval=voucher_input.requires_approval,
            created_by=history_user(user),
        )
        voucher_save_with_history(voucher, user=user, when=now)
        voucher_lines_create(voucher, voucher_input.lines, user=user, when=now)
    return voucher


def voucher_draft_update(
    *, voucher: Voucher, voucher_input: VoucherInput, user: User = None
) -> Voucher:
    """Replaces a draft's header and lines; refused once the voucher has left draft."""
    problems, _ = draft_line_problems(
        organization=voucher.organization, voucher_input=voucher_input
    )
    if problems:
        raise VoucherRejected(str(voucher), problems)
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if locked.status not in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED):
            raise VoucherRejected(
                str(locked), [Problem(f"is {locked.status} and cannot be edited", rule="status")]
            )
        now = timezone.now()
        locked.voucher_type = voucher_input.voucher_type
        for attr in ("date", "reference", "narration", "party_id", "data"):
            setattr(locked, attr, getattr(voucher_input, attr))
        locked.entry_channel = voucher_input.entry_channel
        locked.config_version = voucher_input.config_version
        locked.config_hash = voucher_input.config_hash
        locked.requires_approval = voucher_input.requires_approval
        # An edit after submission sends the voucher back to draft: approval covers what was seen.
        locked.status = VoucherStatus.DRAFT
        locked.submitted_by = None
        voucher_save_with_history(locked, user=user, when=now)
        history_rows_copy(
            VoucherLine,
            key="voucher",
            value=locked.pk,
            user=user,
            when=now,
            history_type="-",
            change_reason="replaced",
        )
        # One DELETE without signals: the deletion history is written just above, and the
        # signal route would add a second history row per line, one query each.
        VoucherLine.objects.filter(voucher=locked)._raw_delete(locked._state.db)
        voucher_lines_create(locked, voucher_input.lines, user=user, when=now)
    return locked


def _transition(
    *, voucher: Voucher, allowed_from: set[str], to: str, user: User, stamp: dict[str, Any]
) -> Voucher:
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if locked.status not in allowed_from:
            allowed = " or ".join(sorted(allowed_from))
            raise VoucherRejected(
                str(locked),
                [
                    Problem(
                        f"is {locked.status}; it must be {allowed} to become {to}", rule="status"
                    )
                ],
            )
        locked.status = to
        for attr, value in stamp.items():
            setattr(locked, attr, value)
        voucher_save_with_history(locked, user=user, update_fields=["status", "updated_at", *stamp])
    return locked


def voucher_submit(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.DRAFT},
        to=VoucherStatus.SUBMITTED,
        user=user,
        stamp={"submitted_by": history_user(user)},
    )


def voucher_approve(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.SUBMITTED},
        to=VoucherStatus.APPROVED,
        user=user,
        stamp={"approved_by": history_user(user), "approved_at": timezone.now()},
    )


def voucher_cancel(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.DRAFT, VoucherStatus.SUBMITTED, VoucherStatus.APPROVED},
        to=VoucherStatus.CANCELLED,
        user=user,
        stamp={},
    )
