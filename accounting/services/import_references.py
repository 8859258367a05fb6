"""References an import would repeat: twice in the file, or already on a voucher of the same type
in the organization, so that a file imported twice, or a voucher already posted, is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from accounting.models import Organization, Voucher, VoucherStatus, VoucherType
from accounting.services.import_files import ImportProblem, VoucherSource

# How many stored vouchers a problem names before it says "and N more".
NAMED_AT_MOST = 3


def _key(source: VoucherSource, types: Mapping[str, VoucherType]) -> tuple[int, str] | None:
    """The voucher type and reference a voucher of the file would take, when it has both."""
    if not source.readable or not isinstance(source.reference, str):
        return None
    reference = source.reference.strip()
    # As the import reads a code: a JSON number such as 10 is the code "10".
    raw_type = source.type
    type_code = "" if raw_type is None or isinstance(raw_type, bool) else str(raw_type).strip()
    voucher_type = types.get(type_code)
    if not reference or voucher_type is None:
        return None
    return voucher_type.pk, reference


def _label(number: str | None, status: str, pk: int) -> str:
    return number or f"{status} voucher #{pk}"


def _stored_labels(
    organization: Organization, keys: set[tuple[int, str]]
) -> dict[tuple[int, str], list[str]]:
    """The organization's vouchers (any status but cancelled) holding those references, by
    voucher type and reference, in one query."""
    stored: dict[tuple[int, str], list[str]] = {}
    if not keys:
        return stored
    rows = (
        Voucher.objects.filter(
            organization=organization,
            voucher_type_id__in={type_id for type_id, _ in keys},
            reference__in={reference for _, reference in keys},
        )
        .exclude(status=VoucherStatus.CANCELLED)
        .order_by("pk")
        .values_list("voucher_type_id", "reference", "number", "status", "pk")
    )
    for type_id, reference, number, status, pk in rows:
        if (type_id, reference) in keys:
            stored.setdefault((type_id, reference), []).append(_label(number, status, pk))
    return stored


def _named(labels: list[str]) -> str:
    shown = ", ".join(labels[:NAMED_AT_MOST])
    more = len(labels) - NAMED_AT_MOST
    return f"{shown} and {more} more" if more > 0 else shown


def reference_problems(
    *,
    organization: Organization,
    sources: Sequence[VoucherSource],
    types: Mapping[str, VoucherType],
) -> list[ImportProblem]:
    """A problem for every voucher of the file whose reference is already on a voucher of its
    type in the organization (cancelled ones aside), or on an earlier voucher of its type in the
    file. An empty reference repeats nothing."""
    keyed: list[tuple[VoucherSource, tuple[int, str]]] = []
    for source in sources:
        key = _key(source, types)
        if key is not None:
            keyed.append((source, key))
    stored = _stored_labels(organization, {key for _, key in keyed})
    first_in_file: dict[tuple[int, str], int] = {}
    problems = []
    for source, key in keyed:
        reference = key[1]
        if key in stored:
            problems.append(
                source.problem(
                    f"reference {reference} is already used by {_named(stored[key])}",
                    rule="duplicate_reference",
                )
            )
        elif key in first_in_file:
            problems.append(
                source.problem(
                    f"reference {reference} is also used by voucher {first_in_file[key]} "
                    "of this file",
                    rule="duplicate_reference",
                )
            )
        else:
            first_in_file[key] = source.position
    return problems
