"""The one-page keyboard and quick reference card: printed to PDF by the browser (`make docs`).

The keys are read from the entry screen's own key card (F1), which draws SHORTCUTS in
static/js/entry.js, and checked against the list the manual's keyboard page is generated from,
so the card, the screen and the manual cannot drift apart. The PDF must be exactly one A4 page.
"""

from __future__ import annotations

import html
import importlib.util
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from accounting.models import VoucherType
from accounting.services.demo import DEMO_PASSWORD
from accounting.services.refusals import REFUSALS
from tests.e2e.docs_capture import VIEWPORT, shoot
from tests.e2e.docs_media import DOCS_DIR, QUICK_REFERENCE_PDF

pytestmark = pytest.mark.docs

HOOKS = Path(__file__).resolve().parents[2] / "scripts" / "docs_hooks.py"
A4_POINTS = (595.28, 841.89)
# The refusals users meet most, on the card with what to do (the FAQ has them all).
CARD_REFUSALS = ("balanced", "closed_period", "approval", "four_eyes", "role", "account_inactive")
STATUSES = [
    ("Draft", "saved, not in the ledger; anyone with the clerk role may change it"),
    ("Submitted", "waits for a second person's approval"),
    ("Approved", "approved by a second person; ready to post"),
    ("Posted", "in the ledger with its number; corrected only by reversing"),
    ("Reversed", "a reversal posted the opposite lines; both stay in the ledger"),
    ("Cancelled", "a draft given up; kept for the record, never posted"),
]


def docs_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", HOOKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def card_html(keys: list[tuple[str, str]], types: list[tuple[str, str]]) -> str:
    esc = html.escape
    key_rows = "".join(f"<tr><td><kbd>{esc(k)}</kbd></td><td>{esc(t)}</td></tr>" for k, t in keys)
    type_rows = "".join(f"<tr><td><b>{esc(c)}</b></td><td>{esc(n)}</td></tr>" for c, n in types)
    status_rows = "".join(
        f"<tr><td><b>{esc(s)}</b></td><td>{esc(t)}</td></tr>" for s, t in STATUSES
    )
    refusal_rows = "".join(
        f"<tr><td><b>{esc(REFUSALS[rule].title)}</b><br><code>{esc(rule)}</code></td>"
        f"<td>{esc(REFUSALS[rule].remedy)}</td></tr>"
        for rule in CARD_REFUSALS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Voucher entry: quick reference</title>
<style>
  @page {{ size: A4; margin: 12mm; }}
  body {{ font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #1f2937; margin: 0; }}
  h1 {{ font-size: 15pt; margin: 0 0 2mm; }}
  h2 {{ font-size: 10.5pt; margin: 4mm 0 1.5mm; border-bottom: 1px solid #9ca3af; }}
  p.lead {{ margin: 0 0 2mm; color: #4b5563; }}
  table {{ border-collapse: collapse; width: 100%; }}
  td {{ padding: 0.8mm 1.5mm; vertical-align: top; border-bottom: 1px solid #e5e7eb; }}
  td:first-child {{ white-space: nowrap; width: 30%; }}
  kbd {{ font-family: "DejaVu Sans Mono", monospace; border: 1px solid #6b7280;
         border-radius: 2px; padding: 0 1mm; background: #f3f4f6; }}
  .columns {{ display: grid; grid-template-columns: 1fr 1fr; gap: 6mm; }}
</style></head>
<body>
<h1>Voucher entry — keyboard and quick reference</h1>
<p class="lead">New voucher → choose the type. Everything on the entry screen works without the
mouse; press <kbd>F1</kbd> on the screen for this list of keys.</p>
<h2>Keys on the entry screen</h2>
<table id="keys">{key_rows}</table>
<div class="columns">
<div><h2>Voucher types</h2><table id="types">{type_rows}</table></div>
<div><h2>Statuses</h2><table id="statuses">{status_rows}</table></div>
</div>
<h2>When posting is refused</h2>
<table id="refusals">{refusal_rows}</table>
<p class="lead">Every refusal names its rule; the troubleshooting FAQ of the manual explains each
one. Support needs the voucher number, the time, and the message as shown.</p>
</body></html>"""


def test_quick_reference_card_is_one_a4_page_of_the_screens_own_keys(
    page, context, demo_books, log_in_as
):
    page.set_viewport_size(VIEWPORT)
    log_in_as(page, "admin", DEMO_PASSWORD)
    page.goto("/vouchers/PV/new/")
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_label("Reference").focus()
    page.keyboard.press("F1")
    card = page.get_by_role("dialog", name="Keys")
    expect(card).to_be_visible()
    on_screen = [
        (item.get_attribute("data-key"), item.locator("dd").inner_text())
        for item in card.locator("[data-key]").all()
    ]
    hooks = docs_hooks()
    assert on_screen == hooks.entry_shortcuts(), "the key card and entry.js's SHORTCUTS differ"
    keys = [(hooks.key_label(key), text) for key, text in on_screen]
    types = list(
        VoucherType.objects.filter(organization=demo_books, is_active=True)
        .order_by("code")
        .values_list("code", "name")
    )
    assert len(types) == 8

    sheet = context.new_page()
    sheet.set_content(card_html(keys, types))
    for label, _ in keys:
        expect(sheet.locator("#keys kbd", has_text=label).first).to_be_visible()
    pdf = DOCS_DIR / QUICK_REFERENCE_PDF
    pdf.parent.mkdir(parents=True, exist_ok=True)
    sheet.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1, f"the quick reference has {len(reader.pages)} pages"
    box = reader.pages[0].mediabox
    size = (float(box.width), float(box.height))
    assert abs(size[0] - A4_POINTS[0]) < 1 and abs(size[1] - A4_POINTS[1]) < 1, size
    text = reader.pages[0].extract_text()
    for label, _ in keys:
        assert label in text, f"{label} is missing from the printed card"
    sheet.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    shoot(
        sheet, "quick-reference", sheet.locator("#keys"), sheet.locator("#refusals"), full_page=True
    )
