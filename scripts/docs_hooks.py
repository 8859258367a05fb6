"""MkDocs hooks: the manual's pages that are generated from the code, so they cannot drift.

- `<!-- generated: refusals -->` becomes the troubleshooting FAQ, one entry per rule of the
  ledger's refusal registry (accounting/services/refusals.py).
- `<!-- generated: shortcuts -->` becomes the table of keys, read from SHORTCUTS in
  static/js/entry.js, the list the entry screen's own key card (F1) is drawn from.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENTRY_JS = ROOT / "static" / "js" / "entry.js"
REFUSALS_MARK = "<!-- generated: refusals -->"
SHORTCUTS_MARK = "<!-- generated: shortcuts -->"

_SHORTCUTS = re.compile(r"var SHORTCUTS = (\[.*?\n\s*\]);", re.DOTALL)


def entry_shortcuts(path: Path = ENTRY_JS) -> list[tuple[str, str]]:
    """The entry screen's keys as (key, what it does), in the card's order."""
    match = _SHORTCUTS.search(path.read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"no 'var SHORTCUTS = [...]' list in {path}")
    # The list is JSON but for a trailing comma.
    entries = json.loads(re.sub(r",\s*\]$", "]", match.group(1).strip()))
    return [(str(key), str(text)) for key, text in entries]


def key_label(key: str) -> str:
    """A key as the entry screen's card writes it (Control+S → Ctrl+S, ArrowDown → Down)."""
    return key.replace("Control", "Ctrl", 1).replace("Arrow", "", 1)


def shortcuts_markdown() -> str:
    rows = ["| Key | What it does |", "|---|---|"]
    rows += [
        f"| <kbd>{key_label(key)}</kbd> | {text.replace('|', '\\|')} |"
        for key, text in entry_shortcuts()
    ]
    return "\n".join(rows)


def refusals_markdown() -> str:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from accounting.services.refusals import REFUSALS  # plain data: no Django setup needed

    parts = []
    for refusal in sorted(REFUSALS.values(), key=lambda item: (item.where, item.title)):
        parts.append(
            f"### {refusal.title} {{ #{refusal.rule} }}\n\n"
            f"Rule `{refusal.rule}` — seen when {refusal.where}.\n\n"
            f"**What it means.** {refusal.meaning}\n\n"
            f"**What to do.** {refusal.remedy}\n"
        )
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if REFUSALS_MARK in markdown:
        markdown = markdown.replace(REFUSALS_MARK, refusals_markdown())
    if SHORTCUTS_MARK in markdown:
        markdown = markdown.replace(SHORTCUTS_MARK, shortcuts_markdown())
    return markdown
