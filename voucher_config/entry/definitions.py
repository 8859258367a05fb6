"""The configuration version an entry form is built from and read with, and who may act on it."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import cast

from accounting.models import EntryChannel, Organization, Voucher
from accounting.services.entry_rules import EntryWorkflow
from voucher_config.config_cache import type_config_cached
from voucher_config.definition import FieldSpec, VoucherDefinition, Workflow
from voucher_config.form_factory import BaseLineFormSet, ConfiguredForm, form_classes_for
from voucher_config.models import VoucherTypeConfig, definition_hash
from voucher_config.services import config_definition_at

SAVE = "save"
SUBMIT = "submit"
APPROVE = "approve"
POST = "post"
ACTIONS = (SAVE, SUBMIT, APPROVE, POST)


class EntryUnavailable(Exception):
    """The organization has no usable configuration for the voucher type asked for."""


@dataclass(frozen=True)
class ConfigChange:
    """What changed in a configuration between the version a form showed and the active one."""

    type_name: str
    old_version: int
    new_version: int
    added: list[str]
    removed: list[str]
    changed: list[str]

    def explain(self) -> str:
        parts = []
        for word, labels in (
            ("added", self.added),
            ("removed", self.removed),
            ("changed", self.changed),
        ):
            if labels:
                parts.append(f"{word} {', '.join(labels)}")
        what = f" ({'; '.join(parts)})" if parts else ""
        return (
            f"The {self.type_name} form was changed by an administrator while you were entering "
            f"this voucher: version {self.old_version} became version {self.new_version}{what}. "
            "Nothing was saved. Your entries are kept in the updated form below; check them "
            "and save again."
        )


class ConfigChanged(Exception):
    """The active configuration is not the one the form was rendered with."""

    def __init__(self, change: ConfigChange, current: EntryDefinition):
        self.change = change
        self.current = current
        super().__init__(change.explain())


@dataclass(frozen=True)
class EntryDefinition:
    """One version of a configuration, as an entry form is rendered and read with it."""

    config: VoucherTypeConfig
    definition: VoucherDefinition
    version: int
    config_hash: str

    @property
    def cache_key(self) -> Hashable:
        return (self.config.pk, self.version, self.config_hash)

    @property
    def form_classes(self) -> tuple[type[ConfiguredForm], type[BaseLineFormSet]]:
        return form_classes_for(self.definition, cache_key=self.cache_key)

    @property
    def is_current(self) -> bool:
        return self.version == self.config.version

    @property
    def current(self) -> EntryDefinition:
        """The configuration's latest version (this one, unless it is older)."""
        return self if self.is_current else _entry_definition(self.config, None)

    @property
    def type_name(self) -> str:
        return str(self.definition.get("name") or self.config.voucher_type.name)

    @property
    def max_lines(self) -> int:
        return self.definition["lines"].get("max", 1000)

    @property
    def workflow(self) -> Workflow:
        workflow: Workflow = self.definition.get("workflow") or {}
        return workflow

    @property
    def requires_approval(self) -> bool:
        return bool(self.workflow.get("requires_approval"))

    @property
    def entry_workflow(self) -> EntryWorkflow:
        """The workflow the ledger applies: its type's, which saving this configuration wrote."""
        return EntryWorkflow.of(self.config.voucher_type)

    @cached_property
    def header_specs(self) -> dict[str, FieldSpec]:
        return {spec["key"]: spec for spec in self.definition["header_fields"]}

    @cached_property
    def line_specs(self) -> dict[str, FieldSpec]:
        return {spec["key"]: spec for spec in self.definition["line_fields"]}

    def label(self, key: str) -> str:
        spec = self.header_specs.get(key) or self.line_specs.get(key)
        return str(spec["label"]) if spec else key


def entry_definition_of(config: VoucherTypeConfig) -> EntryDefinition:
    """The current version of a configuration already read."""
    return _entry_definition(config, None)


def _entry_definition(config: VoucherTypeConfig, version: int | None) -> EntryDefinition:
    # Where a stored definition enters the entry screen: the meta-schema checked it when saved.
    if version is not None and version != config.version:
        stored = config_definition_at(config, version)
        if stored is not None:
            definition = cast("VoucherDefinition", stored)
            return EntryDefinition(config, definition, version, definition_hash(stored))
    definition = cast("VoucherDefinition", config.definition)
    return EntryDefinition(config, definition, config.version, config.definition_hash)


def entry_definition(
    *,
    organization: Organization,
    type_code: str,
    version: int | None = None,
    require_active: bool = True,
) -> EntryDefinition:
    """The configuration a form for `type_code` is built from: the active one, or `version` of it.

    A version the history no longer holds gives the current one, which the caller can tell
    from `.version`.
    """
    # Through the shared cache, as the entry page's router reads it: a partial costs no query here.
    config = type_config_cached(organization=organization, type_code=type_code)
    if config is None or (require_active and not config.is_active):
        known = ", ".join(
            VoucherTypeConfig.objects.filter(organization=organization, is_active=True)
            .order_by("voucher_type__code")
            .values_list("voucher_type__code", flat=True)
        )
        raise EntryUnavailable(
            f"{organization} has no active configuration for voucher type {type_code!r}; "
            f"available: {known or 'none'}."
        )
    return _entry_definition(config, version)


def entry_definition_as_posted(
    *, entry_def: EntryDefinition, version: int | None
) -> EntryDefinition:
    """The version of `entry_def`'s configuration a posted form was rendered with.

    A form posts the version it showed; without one it is read with `entry_def`.
    """
    if version is None or version == entry_def.version:
        return entry_def
    return entry_definition(
        organization=entry_def.config.organization,
        type_code=entry_def.config.voucher_type.code,
        version=version,
        require_active=False,
    )


def entry_definition_for_voucher(
    *, voucher: Voucher, config: VoucherTypeConfig | None = None
) -> EntryDefinition:
    """The configuration version a voucher was entered with (the current one if it is gone, or
    if it was entered another way, e.g. through the legacy screen after a rollback); `config` is
    the type's configuration when the caller has already read it."""
    if config is None:
        config = (
            VoucherTypeConfig.objects.select_related("voucher_type", "organization")
            .filter(
                organization_id=voucher.organization_id, voucher_type_id=voucher.voucher_type_id
            )
            .first()
        )
    if config is None:
        raise EntryUnavailable(f"Voucher type {voucher.voucher_type} has no configuration.")
    entered_here = voucher.entry_channel == EntryChannel.CONFIG
    return _entry_definition(config, voucher.config_version if entered_here else None)


def config_change(previous: EntryDefinition, current: EntryDefinition) -> ConfigChange:
    """What an administrator changed between the version a form showed and the current one."""

    def specs(entry_def: EntryDefinition) -> dict[str, FieldSpec]:
        return {
            **{f"h:{k}": v for k, v in entry_def.header_specs.items()},
            **{f"l:{k}": v for k, v in entry_def.line_specs.items()},
        }

    old, new = specs(previous), specs(current)
    return ConfigChange(
        type_name=current.type_name,
        old_version=previous.version,
        new_version=current.version,
        added=[new[k]["label"] for k in new if k not in old],
        removed=[old[k]["label"] for k in old if k not in new],
        changed=[new[k]["label"] for k in new if k in old and old[k] != new[k]],
    )


def lookup_spec(entry_def: EntryDefinition, *, key: str, section: str, kind: str) -> FieldSpec:
    """The account or party field a search is for; KeyError when the form has no such field."""
    specs = entry_def.line_specs if section == "line" else entry_def.header_specs
    spec = specs.get(key)
    if spec is None or spec["type"] != kind:
        raise KeyError(f"{entry_def.type_name} has no {kind} field {key!r} in its {section}")
    return spec
