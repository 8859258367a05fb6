"""The manual's walkthrough of configuring a voucher type, screenshots and video (`make docs`).

Written against the configuration editor (voucher_config/admin.py, voucher_config/editor/,
static/js/config_editor.js): the list of configurations, the structured editor, "Versions and
restore" and "Preview saved version". When the editor changes, this module is the one to adapt;
the manual page is docs/manual/configuring-voucher-types.md.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounting.services.demo import DEMO_PASSWORD
from tests.e2e.docs_capture import VIEWPORT, Recording, ffmpeg_available, shoot
from voucher_config.models import VoucherTypeConfig

pytestmark = pytest.mark.docs

NEW_LABEL = "Supplier's reference"
REASON = "Label the reference as suppliers write it"


def reference_label_control(page: Page) -> str:
    """The editor's label control of the payment type's Reference field."""
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    keys = [field["key"] for field in config.definition["header_fields"]]
    assert "reference" in keys, "the payment type has no reference field"
    return f"#cfg-header_fields-{keys.index('reference')}-label"


def configure_payment_type(page: Page, step=lambda title: None, pause=lambda: None) -> None:
    step("Open the voucher type configurations")
    page.goto("/admin/")
    page.get_by_role("link", name="Voucher type configurations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("voucher type configuration")
    payment = page.get_by_role("link", name="PV Payment")
    shoot(page, "config-list", payment)
    pause()

    step("Change the Reference field's label")
    label = reference_label_control(page)
    payment.click()
    expect(page.locator("#config-editor-body")).to_be_visible()
    before = VoucherTypeConfig.objects.get(voucher_type__code="PV").version
    page.locator(label).fill(NEW_LABEL)
    page.locator(label).press("Tab")
    reason = page.get_by_label("Reason for the change")
    reason.fill(REASON)
    page.locator(label).scroll_into_view_if_needed()
    pause()
    shoot(page, "config-edit", page.locator(label), reason)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    assert config.version == before + 1
    pause()

    step("Compare the versions")
    page.get_by_role("link", name="Versions and restore").click()
    expect(page.locator("body")).to_contain_text(REASON)
    expect(page.locator("body")).to_contain_text(NEW_LABEL)
    shoot(page, "config-versions", page.get_by_text(REASON).first, full_page=True)
    pause()

    step("Preview the entry screen")
    page.go_back()
    page.get_by_role("link", name="Preview saved version").click()
    expect(page.get_by_label(NEW_LABEL)).to_be_visible()
    shoot(page, "config-preview", page.get_by_label(NEW_LABEL), full_page=True)
    pause()

    step("The entry screen uses the new version")
    page.goto("/vouchers/PV/new/")
    entry = page.locator("#entry")
    expect(entry).to_have_attribute("data-config-version", str(config.version))
    expect(page.get_by_label(NEW_LABEL)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"Form version {config.version}\b"))).to_be_visible()
    shoot(page, "config-in-use", page.get_by_label(NEW_LABEL))
    pause()


def test_configuring_a_voucher_type(new_context, demo_books, log_in_as):
    if not ffmpeg_available():
        pytest.fail("ffmpeg is needed for the manual's videos (apt-get install ffmpeg)")
    recording = Recording("configure-voucher-type", new_context)
    page = recording.page
    page.set_viewport_size(VIEWPORT)
    recording.chapter("Sign in as an administrator")
    log_in_as(page, "admin", DEMO_PASSWORD)
    configure_payment_type(page, recording.chapter, recording.pause)
    recording.finish()
