from django.apps import AppConfig


class VoucherConfigConfig(AppConfig):
    name = "voucher_config"
    verbose_name = "Voucher configuration"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from voucher_config.rollout import session_ended, session_started

        user_logged_in.connect(session_started, dispatch_uid="voucher_config.session_started")
        user_logged_out.connect(session_ended, dispatch_uid="voucher_config.session_ended")
