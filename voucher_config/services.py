"""Changing configurations: save as a new version, restore an old one, clone, seed the baseline."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from accounting.models import Account, Organization, Party, Role, VoucherType
from accounting.services.voucher_types import voucher_type_workflow_set
from voucher_config.models import VoucherTypeConfig, definition_hash
from voucher_config.validation import DefinitionError, DefinitionInvalid, validate_definition

BASELINE_DIR = Path(__file__).resolve().parent / "baseline"

User = AbstractBaseUser | AnonymousUser | None


def _user(user: User) -> Any:
    return user if getattr(user, "pk", None) else None


@cache
def baseline_definitions() -> dict[str, dict[str, Any]]:
    """The shipped definitions of the eight standard types, by voucher type code."""
    definitions = {}
    for path in sorted(BASELINE_DIR.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        definitions[definition["code"]] = definition
    return definitions


def config_create(
    *,
    organization: Organization,
    voucher_type: VoucherType,
    definition: dict[str, Any],
    user: User = None,
    baseline_hash: str = "",
    reason: str = "created",
) -> VoucherTypeConfig:
    config = VoucherTypeConfig(
        organization=organization,
        voucher_type=voucher_type,
        name=definition.get("name", voucher_type.name),
        definition=definition,
        baseline_hash=baseline_hash,
        updated_by=_user(user),
    )
    config._history_user = _user(user)  # type: ignore[attr-defined]
    config._change_reason = reason  # type: ignore[attr-defined]
    config.save()
    _workflow_to_voucher_type(config, user=user)
    return config


def _workflow_to_voucher_type(config: VoucherTypeConfig, *, user: User) -> None:
    """The ledger applies a type's workflow from the type itself, never from a configuration:
    saving a configuration writes its workflow there."""
    workflow = config.definition.get("workflow") or {}
    voucher_type_workflow_set(
        voucher_type=config.voucher_type,
        requires_approval=bool(workflow.get("requires_approval")),
        approver_role=workflow.get("approver_role") or Role.ACCOUNTANT,
        poster_role=workflow.get("poster_role") or Role.ACCOUNTANT,
        user=user,
        reason=f"workflow of configuration version {config.version}",
    )


@transaction.atomic
def config_update(
    *,
    config: VoucherTypeConfig,
    definition: dict[str, Any],
    user: User = None,
    reason: str = "",
    is_active: bool | None = None,
    baseline_hash: str | None = None,
) -> VoucherTypeConfig:
    """Saves a changed definition as the next version; an unchanged one is left as it is."""
    locked = VoucherTypeConfig.objects.select_for_update().get(pk=config.pk)
    validate_definition(definition, organization=locked.organization)
    changed = definition_hash(definition) != locked.definition_hash
    if is_active is not None and is_active != locked.is_active:
        changed = True
        locked.is_active = is_active
    if baseline_hash is not None and baseline_hash != locked.baseline_hash:
        changed = True
        locked.baseline_hash = baseline_hash
    if not changed:
        return locked
    locked.definition = definition
    locked.name = definition.get("name", locked.name)
    locked.version += 1
    locked.updated_by = _user(user)
    locked._history_user = _user(user)  # type: ignore[attr-defined]
    # The history keeps 100 characters of a reason.
    locked._change_reason = (reason or f"version {locked.version}")[:100]  # type: ignore[attr-defined]
    locked.save()
    _workflow_to_voucher_type(locked, user=user)
    return locked


def config_definition_at(config: VoucherTypeConfig, version: int) -> dict[str, Any] | None:
    """The definition a config had at a version (for vouchers entered with it)."""
    if version == config.version:
        return config.definition
    record = config.history.filter(version=version).order_by("-history_date").first()  # type: ignore[attr-defined]
    return record.definition if record else None


def config_restore(
    *, config: VoucherTypeConfig, version: int, user: User = None, reason: str = ""
) -> VoucherTypeConfig:
    """Brings back an earlier definition as a new version; history keeps every step, with
    the reason the administrator gave."""
    definition = config_definition_at(config, version)
    if definition is None:
        known = sorted(set(config.history.values_list("version", flat=True)))  # type: ignore[attr-defined]
        raise DefinitionInvalid(
            [DefinitionError("version", f"{config} has no version {version}; known: {known}")]
        )
    return config_update(
        config=config,
        definition=definition,
        user=user,
        reason=f"restored version {version}: {reason}" if reason else f"restored version {version}",
    )


@transaction.atomic
def config_clone(
    *, config: VoucherTypeConfig, code: str, name: str, user: User = None
) -> VoucherTypeConfig:
    """A new voucher type in the same organization, configured like an existing one."""
    organization = config.organization
    pattern = config.voucher_type.numbering_pattern.replace(config.voucher_type.code, code, 1)
    if "{seq" not in pattern:
        pattern = f"{code}-{{fy}}-{{seq:05}}"
    voucher_type = VoucherType.objects.create(
        organization=organization, code=code, name=name, numbering_pattern=pattern
    )
    definition = copy.deepcopy(config.definition)
    definition["code"] = code
    definition["name"] = name
    return config_create(
        organization=organization,
        voucher_type=voucher_type,
        definition=definition,
        user=user,
        reason=f"cloned from {config.voucher_type.code} v{config.version}",
    )


def active_config(*, organization: Organization, type_code: str) -> VoucherTypeConfig | None:
    config = type_config(organization=organization, type_code=type_code)
    return config if config is not None and config.is_active else None


def type_config(*, organization: Organization, type_code: str) -> VoucherTypeConfig | None:
    """The configuration of a voucher type, active or not, with its type and organization."""
    return (
        VoucherTypeConfig.objects.select_related("voucher_type", "organization")
        .filter(organization=organization, voucher_type__code=type_code)
        .first()
    )


# --- seeding ---------------------------------------------------------------------------------


@dataclass
class SeedOutcome:
    code: str
    action: str  # created, updated, unchanged, kept (customised), failed
    version: int | None = None
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        version = f" v{self.version}" if self.version else ""
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"{self.code}: {self.action}{version}{notes}"


def baseline_for_organization(
    definition: dict[str, Any], organization: Organization
) -> tuple[dict[str, Any], list[str]]:
    """The baseline adapted to an organization's chart: defaults and examples naming account
    codes the chart lacks are dropped (and reported), so the config stays valid there."""
    adapted = copy.deepcopy(definition)
    notes: list[str] = []
    codes = set(Account.objects.filter(organization=organization).values_list("code", flat=True))
    party_codes = set(
        Party.objects.filter(organization=organization).values_list("code", flat=True)
    )
    for section in ("header_fields", "line_fields"):
        for spec in adapted[section]:
            default = spec.get("default")
            if spec["type"] == "account" and default and default not in codes:
                notes.append(f"default account {default} of '{spec['key']}' is not in the chart")
                spec.pop("default")
            if spec["type"] == "party" and default and default not in party_codes:
                notes.append(f"default party {default} of '{spec['key']}' does not exist")
                spec.pop("default")
    account_keys = {
        spec["key"]
        for section in ("header_fields", "line_fields")
        for spec in adapted[section]
        if spec["type"] == "account"
    }
    kept = []
    for example in adapted.get("examples", []):
        used = {
            value
            for values in [example["header"], *example["lines"]]
            for key, value in values.items()
            if key in account_keys
        }
        missing = sorted(used - codes)
        if missing:
            notes.append(
                f"example '{example.get('title', '')}' dropped: accounts {missing} not in chart"
            )
        else:
            kept.append(example)
    if "examples" in adapted:
        adapted["examples"] = kept
    return adapted, notes


def seed_organization(
    *, organization: Organization, reset: bool = False, dry_run: bool = False, user: User = None
) -> list[SeedOutcome]:
    """Creates or refreshes the baseline configs of one organization; idempotent.

    A config an administrator customised is kept unless `reset` is given.
    """
    outcomes = []
    types = {t.code: t for t in organization.voucher_types.all()}
    existing = {
        c.voucher_type.code: c
        for c in VoucherTypeConfig.objects.filter(organization=organization).select_related(
            "voucher_type"
        )
    }
    for code, baseline in baseline_definitions().items():
        voucher_type = types.get(code)
        if voucher_type is None:
            outcomes.append(SeedOutcome(code, "failed", notes=["no such voucher type"]))
            continue
        definition, notes = baseline_for_organization(baseline, organization)
        shipped_hash = definition_hash(definition)
        config = existing.get(code)
        try:
            with transaction.atomic():
                if config is None:
                    action, version = "created", 1
                    if not dry_run:
                        version = config_create(
                            organization=organization,
                            voucher_type=voucher_type,
                            definition=definition,
                            user=user,
                            baseline_hash=shipped_hash,
                            reason="seeded from baseline",
                        ).version
                elif config.definition_hash == shipped_hash:
                    action, version = "unchanged", config.version
                elif config.is_customised and not reset:
                    action, version = "kept", config.version
                    notes.append("customised by an administrator; --reset replaces it")
                else:
                    action, version = "updated", config.version + 1
                    if not dry_run:
                        version = config_update(
                            config=config,
                            definition=definition,
                            user=user,
                            baseline_hash=shipped_hash,
                            reason="reset to baseline" if reset else "baseline updated",
                        ).version
        except DefinitionInvalid as exc:
            outcomes.append(SeedOutcome(code, "failed", notes=[str(e) for e in exc.errors]))
            continue
        outcomes.append(SeedOutcome(code, action, version, notes))
    return outcomes
