"""The support app: feedback from every screen, announcements, the support view and the
usage figures of the first month."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Feedback, announcements and support"
