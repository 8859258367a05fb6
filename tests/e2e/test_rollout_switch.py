"""The rollout switch in a real browser: the next page load follows the flag, both ways, and a
draft entered in the configuration UI is finished in the legacy UI after a rollback."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect
from waffle.models import Flag

from accounting.models import EntryChannel, LedgerEntry, Voucher, VoucherStatus
from rollout.routing import FLAG_NAME

NEW_PV = "/vouchers/PV/new/"


@pytest.fixture
def rollout_flag(transactional_db) -> Flag:
    """The flag as the migration leaves it: off. Emptying the database between browser tests
    removes what the migration made, so it is made again here."""
    flag, _ = Flag.objects.get_or_create(name=FLAG_NAME, defaults={"everyone": None})
    return flag


def rollout(phase: str) -> str:
    """Switches the flag the way the deployment guide does."""
    out = StringIO()
    call_command("voucher_rollout", phase, stdout=out)
    return out.getvalue()


def entry_channel(page: Page, url: str | None = None) -> str:
    """The channel of the entry page at `url`, or of the page reloaded."""
    response = page.goto(url) if url else page.reload()
    assert response.status == 200, f"{page.url} answered {response.status}"
    root = page.locator("[data-entry-channel]")
    expect(root).to_have_count(1)
    return root.get_attribute("data-entry-channel")


@pytest.mark.browser
def test_the_flag_switches_the_entry_ui_and_a_config_draft_posts_in_legacy(
    page, seeded_books, accountant, rollout_flag, log_in, browser_problems
):
    log_in(page, accountant)
    assert entry_channel(page, NEW_PV) == "legacy"

    assert "on for everyone" in rollout("everyone")
    assert entry_channel(page) == "config"
    page.get_by_label("Reference").fill("ROLLBACK")
    page.get_by_label("Account, line 1").fill("5200")
    page.get_by_label("Description, line 1").fill("Office rent")
    page.get_by_label("Amount, line 1").fill("1200.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    draft = Voucher.objects.get(organization=seeded_books.organization)
    assert (draft.status, draft.entry_channel) == (VoucherStatus.DRAFT, EntryChannel.CONFIG)

    assert "off for everyone" in rollout("off")
    assert entry_channel(page) == "legacy"  # the draft's page, reloaded

    assert entry_channel(page, NEW_PV) == "legacy"
    assert entry_channel(page, f"/vouchers/{draft.pk}/edit/") == "legacy"
    expect(page.get_by_label("Reference")).to_have_value("ROLLBACK")
    expect(page.get_by_label("Account, line 1")).to_have_value("5200")
    expect(page.get_by_label("Amount, line 1")).to_have_value("1200.00")
    page.get_by_role("button", name="Post", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/vouchers/{draft.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("PV-2026-00001")
    draft.refresh_from_db()
    assert (draft.status, draft.number) == (VoucherStatus.POSTED, "PV-2026-00001")
    assert LedgerEntry.objects.filter(voucher=draft).count() == 2
    browser_problems.assert_none()
