"""The manual's walkthrough of configuring a voucher type, screenshots and video (`make docs`).

Written against the configuration admin as it is (voucher_config/admin.py and
templates/admin/voucher_config/vouchertypeconfig/): the list of configurations, the change form
with the JSON definition, "Versions and diffs" and "Preview form". When the editor changes, this
module is the one to adapt; the manual page is docs/manual/configuring-voucher-types.md.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from accounting.services.demo import DEMO_PASSWORD
from tests.e2e.docs_capture import VIEWPORT, Recording, ffmpeg_available, shoot
from voucher_config.models import VoucherTypeConfig

pytestmark = pytest.mark.docs

NEW_LABEL = "Supplier's reference"
REASON = "Label the reference as suppliers write it"


def relabel_reference(definition: str) -> str:
    """The payment type's definition with its Reference field relabelled."""
    data = json.loads(definition)
    fields = [field for field in data["header_fields"] if field["key"] == "reference"]
    assert fields, "the payment type has no reference field"
    fields[0]["label"] = NEW_LABEL
    return json.dumps(data, indent=2, ensure_ascii=False)


def configure_payment_type(page: Page, step=lambda title: None, pause=lambda: None) -> None:
    step("Open the voucher type configurations")
    page.goto("/admin/")
    page.get_by_role("link", name="Voucher type configurations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("voucher type configuration")
    payment = page.get_by_role("link", name="PV Payment")
    shoot(page, "config-list", payment)
    pause()

    step("Change the payment type's definition")
    payment.click()
    definition = page.get_by_label("Definition")
    expect(definition).to_be_visible()
    before = VoucherTypeConfig.objects.get(voucher_type__code="PV").version
    definition.fill(relabel_reference(definition.input_value()))
    page.get_by_label("Change reason").fill(REASON)
    # Scroll the definition to the changed label, so that the picture shows the change.
    definition.evaluate(
        """(area, label) => {
            const line = area.value.slice(0, area.value.indexOf(label)).split("\\n").length;
            area.scrollTop = Math.max(0, (line - 8) * parseFloat(getComputedStyle(area).lineHeight));
        }""",
        NEW_LABEL,
    )
    pause()
    shoot(
        page,
        "config-edit",
        definition,
        page.get_by_label("Change reason"),
        of=page.locator("#vouchertypeconfig_form"),
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    assert config.version == before + 1
    pause()

    step("Compare the versions")
    page.get_by_role("link", name="Versions and diffs").click()
    expect(page.locator("body")).to_contain_text(REASON)
    expect(page.locator("body")).to_contain_text(NEW_LABEL)
    shoot(page, "config-versions", page.get_by_text(REASON).first, full_page=True)
    pause()

    step("Preview the form")
    page.go_back()
    page.get_by_role("link", name="Preview form").click()
    expect(page.get_by_text(NEW_LABEL).first).to_be_visible()
    shoot(page, "config-preview", page.get_by_text(NEW_LABEL).first, full_page=True)
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
