"""Feedback: sending it from any screen, and an administrator marking it handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounting.models import EntryChannel, Organization, Voucher, VoucherType
from support.models import MESSAGE_MAX_LENGTH, Feedback

SCREEN_CHANNELS = (EntryChannel.CONFIG, EntryChannel.LEGACY)
# A page that took longer than this to load was not measured: the number is not a load time.
MAX_LOAD_MS = 10 * 60 * 1000
# Pages whose `pk` is a voucher's: feedback from them is about that voucher's type.
VOUCHER_PAGES = {"entry-edit", "legacy-entry-edit", "voucher-detail", "voucher-reverse"}


class FeedbackInvalid(ValueError):
    """The feedback cannot be stored; the message says what to change."""


@dataclass(frozen=True)
class Screen:
    """Where feedback was sent from: the page's URL name and the voucher type it was about."""

    name: str
    path: str
    voucher_type: str


def screen_of_path(*, organization: Organization, path: str) -> Screen:
    """The screen behind `path` (a path of this site, never another one), with the voucher type
    its URL names — read in the organization only, so another one's ids reveal nothing."""
    path = path.split("?", 1)[0].split("#", 1)[0][:300]
    if not path.startswith("/") or path.startswith("//"):
        return Screen("", "", "")
    try:
        match = resolve(path)
    except Resolver404:
        return Screen("", path, "")
    type_code = ""
    kwargs: dict[str, Any] = match.kwargs
    if "type_code" in kwargs:
        type_code = (
            VoucherType.objects.filter(
                organization=organization, code=str(kwargs["type_code"]).upper()
            )
            .values_list("code", flat=True)
            .first()
            or ""
        )
    elif "pk" in kwargs and match.url_name in VOUCHER_PAGES:
        type_code = (
            Voucher.objects.filter(organization=organization, pk=int(kwargs["pk"]))
            .values_list("voucher_type__code", flat=True)
            .first()
            or ""
        )
    return Screen(match.url_name or "", path, type_code)


def feedback_send(
    *,
    organization: Organization,
    user: Any,
    message: str,
    path: str,
    channel: str = "",
    voucher_type: str = "",
    load_ms: int | None = None,
    now: datetime | None = None,
) -> Feedback:
    """Stores a user's feedback with the screen it came from.

    The screen and the voucher type are read from the page's path on the server; a voucher
    type the page named itself is kept only when the organization has it, and the channel only
    when it is one of the two entry screens.
    """
    message = message.strip()
    if not message:
        raise FeedbackInvalid("Write what you would like to tell us; the message is empty.")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise FeedbackInvalid(
            f"The message has {len(message)} characters; at most {MESSAGE_MAX_LENGTH} are kept."
        )
    screen = screen_of_path(organization=organization, path=path)
    type_code = screen.voucher_type
    if not type_code and voucher_type:
        type_code = (
            VoucherType.objects.filter(organization=organization, code=voucher_type.upper()[:10])
            .values_list("code", flat=True)
            .first()
            or ""
        )
    if load_ms is not None and not 0 <= load_ms <= MAX_LOAD_MS:
        load_ms = None
    return Feedback.objects.create(
        organization=organization,
        user=user,
        message=message,
        screen=screen.name,
        path=screen.path,
        voucher_type=type_code,
        channel=channel if channel in SCREEN_CHANNELS else "",
        load_ms=load_ms,
        created_at=now or timezone.now(),
    )


@transaction.atomic
def feedback_mark_handled(*, feedback: Feedback, user: Any, handled: bool = True) -> Feedback:
    """Marks feedback handled (or open again); the history keeps who did it and when."""
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if feedback.handled == handled:
        return feedback
    feedback.handled = handled
    feedback.handled_by = user if handled else None
    feedback.handled_at = timezone.now() if handled else None
    feedback._change_reason = "handled" if handled else "reopened"  # type: ignore[attr-defined]
    feedback.save(update_fields=["handled", "handled_by", "handled_at"])
    return feedback


def feedback_of(
    *,
    organization: Organization,
    channel: str = "",
    voucher_type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    handled: bool | None = None,
) -> QuerySet[Feedback]:
    """An organization's feedback, newest first, narrowed by channel, type, time and state."""
    rows = Feedback.objects.filter(organization=organization).select_related("user", "handled_by")
    if channel:
        rows = rows.filter(channel=channel)
    if voucher_type:
        rows = rows.filter(voucher_type=voucher_type)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    if handled is not None:
        rows = rows.filter(handled=handled)
    return rows


def feedback_counts(
    *, organizations: list[int] | None, since: datetime, until: datetime
) -> dict[str, int]:
    """Feedback sent in a window per channel ('' for pages that are not an entry screen), in
    the given organizations (None: all of them)."""
    rows = Feedback.objects.filter(created_at__gte=since, created_at__lt=until)
    if organizations is not None:
        rows = rows.filter(organization_id__in=organizations)
    return {
        row["channel"]: row["n"]
        for row in rows.values("channel").annotate(n=Count("id")).order_by("channel")
    }
