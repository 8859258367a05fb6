"""The configuration of a voucher type, read through the shared cache.

Every routed entry request asks which configuration serves its type; the answer changes only
when an administrator saves a configuration (or its voucher type or organization), so it is
kept in the default cache per (organization, type) and deleted whenever one of those is saved
or deleted: at once, and again when the transaction commits, so a reader between the two cannot
keep the old answer. With Redis every process sees the deletion on its next request.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction

from accounting.models import Organization, VoucherType
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import type_config

# Long enough to save the query on nearly every request, short enough that a change made behind
# the ORM's back (raw SQL, a restored backup) is seen within the hour.
CONFIG_CACHE_SECONDS = 3600
NO_CONFIG = "none"  # cached for a type without a configuration


def config_cache_key(*, organization_id: int, type_code: str) -> str:
    return f"voucher_config:type_config:{organization_id}:{type_code}"


def type_config_cached(*, organization: Organization, type_code: str) -> VoucherTypeConfig | None:
    """`type_config`, answered from the cache when it holds the answer."""
    key = config_cache_key(organization_id=organization.pk, type_code=type_code)
    cached = cache.get(key)
    if cached == NO_CONFIG:
        return None
    if isinstance(cached, VoucherTypeConfig):
        return cached
    config = type_config(organization=organization, type_code=type_code)
    cache.set(key, config if config is not None else NO_CONFIG, CONFIG_CACHE_SECONDS)
    return config


def config_cache_forget(*, organization_id: int, type_codes: list[str]) -> None:
    """Deletes the cached configurations now and once more after the commit."""
    keys = [config_cache_key(organization_id=organization_id, type_code=c) for c in type_codes]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def forget_config(sender: type, instance: VoucherTypeConfig, **_: Any) -> None:
    code = VoucherType.objects.filter(pk=instance.voucher_type_id).values_list("code", flat=True)
    config_cache_forget(organization_id=instance.organization_id, type_codes=list(code))


def forget_voucher_type(sender: type, instance: VoucherType, **_: Any) -> None:
    config_cache_forget(organization_id=instance.organization_id, type_codes=[instance.code])


def forget_organization(sender: type, instance: Organization, **_: Any) -> None:
    codes = VoucherType.objects.filter(organization_id=instance.pk).values_list("code", flat=True)
    config_cache_forget(organization_id=instance.pk, type_codes=list(codes))
