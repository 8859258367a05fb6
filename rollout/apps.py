"""The rollout app: connects the session-duration receivers to sign-in and sign-out, and the
metrics flush to the end of a request, and tells support which screen a user gets."""

from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = "Rollout of the configuration UI"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.core.signals import request_finished

        from rollout.metrics.recording import metrics_flush_if_due
        from rollout.sessions import session_ended, session_started
        from rollout.support_screens import screens_for_user
        from support.screens import screen_provider_register

        user_logged_in.connect(session_started, dispatch_uid="rollout.session_started")
        user_logged_out.connect(session_ended, dispatch_uid="rollout.session_ended")
        # Metrics added up in memory are written at the end of a request, at most every few s.
        request_finished.connect(metrics_flush_if_due, dispatch_uid="rollout.metrics_flush")
        # Support's view of a user shows the screen the router picks for them.
        screen_provider_register(screens_for_user)
