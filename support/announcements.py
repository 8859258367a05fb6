"""Announcements: an administrator publishes a notice to an organization's users; each user
sees it until they dismiss it, once.

Every page shows the active ones, so what a page needs is cached: the organization's active
announcements and the user's dismissals, read together in one cache round trip and from the
database only when a publication, a withdrawal or a dismissal has dropped them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounting.models import Organization
from support.models import Announcement, AnnouncementDismissal

CACHE_SECONDS = 24 * 60 * 60


class AnnouncementInvalid(ValueError):
    """The announcement cannot be published; the message says why."""


@dataclass(frozen=True)
class Notice:
    """An active announcement as a page shows it."""

    pk: int
    title: str
    message: str
    published_at: datetime


def _organization_key(organization_id: int) -> str:
    return f"support:announcements:{organization_id}"


def _dismissed_key(user_id: int, organization_id: int) -> str:
    return f"support:dismissed:{organization_id}:{user_id}"


def _forget_organization(organization_id: int) -> None:
    transaction.on_commit(lambda: cache.delete(_organization_key(organization_id)))
    cache.delete(_organization_key(organization_id))


@transaction.atomic
def announcement_publish(
    *, organization: Organization, user: Any, title: str, message: str
) -> Announcement:
    """Publishes a notice to every user of `organization`, from now until it is withdrawn."""
    title, message = title.strip(), message.strip()
    if not title or not message:
        raise AnnouncementInvalid("An announcement needs a title and a message.")
    announcement = Announcement(
        organization=organization,
        title=title[:120],
        message=message[:2000],
        published_by=user,
        published_at=timezone.now(),
    )
    announcement._change_reason = "published"  # type: ignore[attr-defined]
    announcement.save()
    _forget_organization(organization.pk)
    return announcement


@transaction.atomic
def announcement_withdraw(*, announcement: Announcement, user: Any) -> Announcement:
    """Stops showing a notice to anyone; it stays in the list, with who withdrew it."""
    announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if announcement.withdrawn_at is None:
        announcement.withdrawn_at = timezone.now()
        announcement._change_reason = "withdrawn"  # type: ignore[attr-defined]
        announcement._history_user = user  # type: ignore[attr-defined]
        announcement.save(update_fields=["withdrawn_at"])
        _forget_organization(announcement.organization_id)
    return announcement


def announcement_dismiss(*, announcement: Announcement, user: Any) -> bool:
    """Records that `user` closed the notice; False when they had already closed it."""
    key = _dismissed_key(user.pk, announcement.organization_id)
    try:
        with transaction.atomic():
            AnnouncementDismissal.objects.create(
                announcement=announcement, user=user, dismissed_at=timezone.now()
            )
    except IntegrityError:
        return False
    finally:
        cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
    return True


def notices_for(*, user: Any, organization: Organization | None) -> list[Notice]:
    """The active announcements of `organization` that `user` has not dismissed, newest first.

    On a warm cache this reads no database at all.
    """
    if organization is None or user is None or not user.is_authenticated:
        return []
    org_key = _organization_key(organization.pk)
    dismissed_key = _dismissed_key(user.pk, organization.pk)
    cached = cache.get_many([org_key, dismissed_key])
    notices: list[Notice] | None = cached.get(org_key)
    if notices is None:
        notices = [
            Notice(row.pk, row.title, row.message, row.published_at)
            for row in Announcement.objects.filter(
                organization=organization, withdrawn_at__isnull=True
            )
        ]
        cache.set(org_key, notices, CACHE_SECONDS)
    if not notices:
        return []  # nobody's dismissals need reading while nothing is announced
    dismissed: set[int] | None = cached.get(dismissed_key)
    if dismissed is None:
        dismissed = set(
            AnnouncementDismissal.objects.filter(
                user=user, announcement__organization=organization
            ).values_list("announcement_id", flat=True)
        )
        cache.set(dismissed_key, dismissed, CACHE_SECONDS)
    return [notice for notice in notices if notice.pk not in dismissed]
