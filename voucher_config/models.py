"""Voucher type configurations: what a type's entry form holds and how it posts, as data."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from accounting.models import Organization, VoucherType


def definition_hash(definition: dict[str, Any]) -> str:
    """A stable fingerprint of a definition: the same content always gives the same hash."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class VoucherTypeConfig(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="voucher_configs"
    )
    voucher_type = models.ForeignKey(VoucherType, on_delete=models.CASCADE, related_name="configs")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    definition = models.JSONField()
    definition_hash = models.CharField(max_length=64, editable=False)
    # The hash of the shipped baseline this config was last seeded from: when the definition's
    # hash differs, an administrator has customised it and seeding leaves it alone.
    baseline_hash = models.CharField(max_length=64, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "voucher_type__code"]
        verbose_name = "voucher type configuration"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "voucher_type"], name="one_config_per_voucher_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.voucher_type.code} {self.name} v{self.version}"

    @property
    def is_customised(self) -> bool:
        return bool(self.baseline_hash) and self.baseline_hash != self.definition_hash

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Every save validates, whoever saves: admin, command, import or code."""
        from voucher_config.validation import validate_definition

        validate_definition(self.definition, organization=self.organization)
        self.definition_hash = definition_hash(self.definition)
        super().save(*args, **kwargs)
