"""The manual's walkthrough of switching the rollout, screenshots and video (`make docs`): an
organization's administrator moves its members from the legacy screen to the configuration
screen on the rollout page, then looks at the dashboard."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect
from waffle.models import Flag

from accounting.services.demo import DEMO_PASSWORD
from rollout.routing import FLAG_NAME
from tests.e2e.docs_capture import VIEWPORT, Recording, ffmpeg_available, shoot

pytestmark = pytest.mark.docs


def entry_channel(page: Page) -> str | None:
    response = page.goto("/vouchers/PV/new/")
    assert response is not None and response.status == 200
    return page.locator("[data-entry-channel]").get_attribute("data-entry-channel")


def test_switching_the_rollout(new_context, demo_books, log_in_as):
    if not ffmpeg_available():
        pytest.fail("ffmpeg is needed for the manual's videos (apt-get install ffmpeg)")
    # The state of Phase 1: the flag is deployed but on for no one, so everyone is on legacy.
    # (Off for everyone would override every organization's own rollout: the rollback.)
    call_command("voucher_rollout", "off", stdout=StringIO())
    flag = Flag.objects.get(name=FLAG_NAME)
    flag.everyone, flag.percent, flag.superusers, flag.staff = None, None, False, False
    flag.save()
    recording = Recording("switch-rollout", new_context)
    page = recording.page
    page.set_viewport_size(VIEWPORT)

    recording.chapter("Today everyone enters on the legacy screen")
    log_in_as(page, "admin", DEMO_PASSWORD)
    assert entry_channel(page) == "legacy"
    expect(page.locator("[data-entry-channel]")).to_be_visible()
    recording.pause()

    recording.chapter("Open the rollout page")
    page.get_by_role("link", name="Rollout settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rollout of the configuration screen")
    expect(page.locator("#on-config")).to_have_text("0 of 2 users")
    shoot(page, "rollout-settings", page.locator("#on-config"), full_page=True)
    recording.pause()

    recording.chapter("Choose who gets the configuration screen")
    page.get_by_label("Configuration screen for everyone").first.check()
    page.get_by_label("Reason").first.fill("Pilot finished; everyone moves on Monday")
    recording.pause()
    page.get_by_role("button", name="Review the change").click()
    moves = page.locator("#moves")
    expect(moves).to_have_text("2 of 2 users will move to the configuration screen.")
    shoot(page, "rollout-review", moves, page.get_by_role("button", name="Confirm"))
    recording.pause()

    recording.chapter("Confirm the change")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("Rollout changed.")
    expect(page.locator("#on-config")).to_have_text("2 of 2 users")
    shoot(page, "rollout-changed", page.get_by_role("status").first, page.locator("#on-config"))
    recording.pause()

    recording.chapter("The next page load uses the configuration screen")
    assert entry_channel(page) == "config"
    expect(page.locator("#entry")).to_be_visible()
    recording.pause()

    recording.chapter("Watch both channels on the dashboard")
    page.goto("/metrics/dashboard/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_be_visible()
    shoot(page, "rollout-dashboard", heading, full_page=True)
    recording.finish()
