"""What support keeps: feedback sent from a screen, announcements and who dismissed them, and
how each voucher entered from a screen was entered (time on the form, keyboard only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from accounting.models import EntryChannel, Organization, Voucher

MESSAGE_MAX_LENGTH = 4000


class Feedback(models.Model):
    """A message a user sent from a screen, with where they were and how the page loaded."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    screen = models.CharField(max_length=100, blank=True)  # the page's URL name
    path = models.CharField(max_length=300, blank=True)
    voucher_type = models.CharField(max_length=10, blank=True)  # the type's code
    channel = models.CharField(max_length=20, choices=EntryChannel.choices, blank=True)
    load_ms = models.PositiveIntegerField(null=True, blank=True)  # Navigation Timing, browser
    created_at = models.DateTimeField()
    handled = models.BooleanField(default=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"Feedback {self.pk} on {self.screen or 'a page'}"


class Announcement(models.Model):
    """A notice an administrator publishes to an organization's users, until withdrawn."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=120)
    message = models.TextField(max_length=2000)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class AnnouncementDismissal(models.Model):
    """A user closed an announcement: it is not shown to them again."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="dismissals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "user"], name="announcement_dismissed_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} dismissed {self.announcement_id}"


class EntryTiming(models.Model):
    """How a voucher posted from an entry screen was entered: when its form was opened (carried
    signed in the form, so opening a page writes nothing) and whether a pointer was used."""

    voucher = models.OneToOneField(Voucher, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, choices=EntryChannel.choices)
    voucher_type = models.CharField(max_length=10)
    opened_at = models.DateTimeField()
    posted_at = models.DateTimeField()
    keyboard_only = models.BooleanField(null=True)  # None: the page ran no script to tell

    class Meta:
        indexes = [models.Index(fields=["organization", "posted_at"])]

    def __str__(self) -> str:
        return f"{self.voucher_id}: {self.seconds:.1f} s"

    @property
    def seconds(self) -> float:
        return (self.posted_at - self.opened_at).total_seconds()
