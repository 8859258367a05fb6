from django.apps import AppConfig


class VoucherConfigConfig(AppConfig):
    name = "voucher_config"
    verbose_name = "Voucher configuration"
