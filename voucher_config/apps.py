"""The voucher configuration app: keeps the cached configurations in step with their rows, and
names a configured voucher's own fields on its page."""

from django.apps import AppConfig


class VoucherConfigConfig(AppConfig):
    name = "voucher_config"
    verbose_name = "Voucher configuration"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounting.models import Organization, VoucherType
        from accounting.voucher_terms import data_terms_reader_register
        from voucher_config import config_cache
        from voucher_config.models import VoucherTypeConfig
        from voucher_config.voucher_terms import configured_data_terms

        data_terms_reader_register(configured_data_terms)

        for event, signal in (("saved", post_save), ("deleted", post_delete)):
            for model, receiver in (
                (VoucherTypeConfig, config_cache.forget_config),
                (VoucherType, config_cache.forget_voucher_type),
                (Organization, config_cache.forget_organization),
            ):
                signal.connect(
                    receiver, sender=model, dispatch_uid=f"config_cache.{model.__name__}.{event}"
                )
