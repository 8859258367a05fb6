"""The entry screen of a definition, saved or not, drawn read-only with sample data.

The preview is the entry page itself (`voucher_config/entry.html` and its partials, laid out by
`voucher_config.views.presentation`), filled from the definition's first example, or from its
defaults where it has none; nothing on it can be saved.
"""

from __future__ import annotations

from typing import Any, cast

from accounting.entry_pages import screen_mark, submission_key_new
from accounting.models import EntryChannel
from voucher_config.definition import VoucherDefinition
from voucher_config.entry.actions import AvailableActions, EntryInvalid
from voucher_config.entry.definitions import EntryDefinition
from voucher_config.entry.preview import EntryPreview, entry_preview, entry_totals
from voucher_config.form_factory import ConfiguredForms, EntryLookups, raw_form_data
from voucher_config.models import VoucherTypeConfig, definition_hash
from voucher_config.views.presentation import entry_urls, grid_rows, header_sections, line_columns


def sample_values(definition: VoucherDefinition) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and lines the preview shows: the first example, or the defaults alone."""
    examples = definition.get("examples") or []
    if examples:
        return dict(examples[0]["header"]), [dict(line) for line in examples[0]["lines"]]
    count = definition["lines"].get("initial", 2)
    return {}, [{} for _ in range(count)]


def preview_context(
    *, config: VoucherTypeConfig, definition: VoucherDefinition, draft: bool
) -> dict[str, Any]:
    """The context `voucher_config/entry.html` is drawn with, for a valid `definition` of
    `config`'s type (the stored one, or a draft posted from the editor)."""
    shown = VoucherTypeConfig(
        pk=config.pk,
        organization=config.organization,
        voucher_type=config.voucher_type,
        name=str(definition.get("name") or config.name),
        version=config.version,
        definition=definition,
        definition_hash=definition_hash(cast("dict[str, Any]", definition)),
    )
    entry_def = EntryDefinition(shown, definition, shown.version, shown.definition_hash)
    lookups = EntryLookups(config.organization)
    header, lines = sample_values(definition)
    forms_ = ConfiguredForms(
        entry_def.form_classes,
        definition,
        lookups,
        data=raw_form_data(definition, header, lines),
    )
    preview: EntryPreview | None = None
    try:
        preview = entry_preview(entry_def=entry_def, forms_=forms_, lookups=lookups)
    except EntryInvalid:
        preview = None
    columns = line_columns(entry_def)
    which = "your unsaved changes" if draft else f"version {config.version}"
    source = "its first example" if definition.get("examples") else "its defaults"
    actions = AvailableActions(
        read_only=True,
        notes=[
            f"Preview of the {entry_def.type_name} entry screen with {which}, filled with "
            f"{source}. It is read-only: nothing on it can be saved."
        ],
    )
    return {
        "entry_def": entry_def,
        "heading": f"{entry_def.type_name} voucher: preview",
        "voucher": None,
        "sections": header_sections(entry_def, forms_.header, lookups, show_errors=False),
        "columns": columns,
        "rows": grid_rows(entry_def, forms_, lookups, columns, show_errors=False),
        "total_forms": forms_.lines.total_form_count(),
        "initial_forms": 0,
        "max_lines": entry_def.max_lines,
        "form_errors": [],
        "totals": preview.totals if preview else entry_totals(entry_def=entry_def, forms_=forms_),
        "preview": preview,
        "notice": "",
        "alert": "",
        "urls": entry_urls(entry_def, None),
        "screen_mark": screen_mark(EntryChannel.CONFIG),
        "submission_key": submission_key_new(),
        "actions": actions,
        "preview_only": True,
    }
