"""The rollout app: connects the session-duration receivers to sign-in and sign-out."""

from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "rollout"
    verbose_name = "Rollout of the configuration UI"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from rollout.sessions import session_ended, session_started

        user_logged_in.connect(session_started, dispatch_uid="rollout.session_started")
        user_logged_out.connect(session_ended, dispatch_uid="rollout.session_ended")
