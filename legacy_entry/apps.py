"""The Django app of the legacy entry screens."""

from django.apps import AppConfig


class LegacyEntryConfig(AppConfig):
    name = "legacy_entry"
    verbose_name = "Legacy entry screens"
