"""The forms of support's pages: sending feedback, filtering it, publishing an announcement."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accounting.models import EntryChannel
from support.models import MESSAGE_MAX_LENGTH


class FeedbackForm(forms.Form):
    message = forms.CharField(
        label="Your feedback",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What worked, what did not, what you expected. Say which voucher if it helps.",
    )
    # Filled in by the page (static/js/feedback.js): where it was sent from and how it loaded.
    path = forms.CharField(max_length=300, required=False, widget=forms.HiddenInput)
    channel = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    voucher_type = forms.CharField(max_length=10, required=False, widget=forms.HiddenInput)
    load_ms = forms.CharField(max_length=12, required=False, widget=forms.HiddenInput)

    def clean_load_ms(self) -> int | None:
        """The page's load time, or None when the browser could not measure it: a missing or
        odd value is no reason to lose the message."""
        value = str(self.cleaned_data.get("load_ms") or "").strip()
        return int(value) if value.isdigit() else None


class FeedbackFilterForm(forms.Form):
    channel = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any screen"),
            (EntryChannel.CONFIG, "Configuration-driven form"),
            (EntryChannel.LEGACY, "Legacy form"),
        ],
    )
    voucher_type = forms.ChoiceField(required=False, label="Voucher type")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Open and handled"), ("open", "Open"), ("handled", "Handled")],
    )

    def __init__(self, *args: Any, type_codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["voucher_type"].choices = [  # type: ignore[attr-defined]
            ("", "Any type"),
            *((code, code) for code in type_codes),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError(f"To ({end}) is before From ({start}).")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The list's filters: from the start of From to the end of To, in the site's zone."""
        data = self.cleaned_data if self.is_valid() else {}
        zone = timezone.get_current_timezone()
        start, end = data.get("start"), data.get("end")
        state = data.get("state") or ""
        return {
            "channel": data.get("channel") or "",
            "voucher_type": data.get("voucher_type") or "",
            "since": datetime.combine(start, time.min, zone) if start else None,
            "until": datetime.combine(end + timedelta(days=1), time.min, zone) if end else None,
            "handled": {"open": False, "handled": True}.get(state),
        }


class AnnouncementForm(forms.Form):
    title = forms.CharField(max_length=120)
    message = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
