"""The configuration editor in a real browser: an administrator changes a voucher type without
touching JSON and a clerk gets the change on the next request; a broken definition shows every
problem at once at its field; restore asks for a reason; non-administrators are refused."""

from __future__ import annotations

import json
import os

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from playwright.sync_api import Page, expect
from waffle.models import Flag

from accounting.models import Role
from rollout.routing import FLAG_NAME
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_update

SCREENSHOT = os.environ.get("CONFIG_EDITOR_SCREENSHOT")  # a path, to look at the editor


def configuration_admin(books, username="boss"):
    user = books.member(Role.ADMIN, username=username)
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["voucher_config", "accounting"])
    )
    return user


def payment_config(books) -> VoucherTypeConfig:
    return VoucherTypeConfig.objects.get(organization=books.organization, voucher_type__code="PV")


def change_url(config) -> str:
    return reverse("admin:voucher_config_vouchertypeconfig_change", args=[config.pk])


def fill(page: Page, selector: str, text: str) -> None:
    """Types into a control and leaves it, as a user does (the editor stores on change)."""
    page.locator(selector).fill(text)
    page.locator(selector).press("Tab")


@pytest.mark.browser
def test_an_administrator_adds_a_choice_field_and_a_clerk_gets_it_on_the_next_request(
    context, page, seeded_books, log_in
):
    Flag.objects.update_or_create(name=FLAG_NAME, defaults={"everyone": True})
    admin = configuration_admin(seeded_books)
    clerk = seeded_books.member(Role.CLERK)
    config = payment_config(seeded_books)

    log_in(page, admin)
    page.goto(change_url(config))
    expect(page.locator("#config-editor-body")).to_be_visible()
    expect(page.locator("#id_definition")).to_be_hidden()
    page.get_by_role("button", name="Add header field").click()
    new = "#cfg-header_fields-7"
    expect(page.locator(f"{new}-label")).to_be_focused()
    fill(page, f"{new}-label", "Payment method")
    fill(page, f"{new}-key", "payment_method")
    page.locator(f"{new}-type").select_option("choice")
    page.locator(f"{new}-choices-add").click()
    fill(page, f"{new}-choices-0-value", "cheque")
    fill(page, f"{new}-choices-0-label", "Cheque")
    page.locator(f"{new}-choices-add").click()
    fill(page, f"{new}-choices-1-value", "wire")
    fill(page, f"{new}-choices-1-label", "Bank transfer")
    page.locator(f"{new}-required").check()
    page.get_by_role("button", name="Move Payment method up").click()

    moved = page.locator("#cfg-header_fields-6")
    expect(moved.locator("legend")).to_have_text("Header field 7: Payment method")
    expect(page.locator("#cfg-header_fields-7 legend")).to_have_text("Header field 8: Narration")
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)

    with page.expect_popup() as opened:
        page.get_by_role("button", name="Preview entry screen").click()
    preview = opened.value
    expect(preview.get_by_label("Payment method")).to_be_visible()
    expect(preview.get_by_label("Payment method")).to_be_disabled()
    expect(preview.get_by_label("Payment method").locator("option")).to_have_text(
        ["Cheque", "Bank transfer"]
    )
    notes = preview.locator("fieldset.entry-section").filter(has_text="Payment method")
    expect(notes.locator("legend")).to_have_text("Notes")
    expect(preview.get_by_role("button", name="Save draft")).to_have_count(0)
    preview.close()

    page.get_by_label("Reason for the change").fill("Payment method asked by the auditors")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    config.refresh_from_db()
    assert config.version == 2
    field = config.definition["header_fields"][6]
    assert field == {
        "key": "payment_method",
        "label": "Payment method",
        "type": "choice",
        "choices": [
            {"value": "cheque", "label": "Cheque"},
            {"value": "wire", "label": "Bank transfer"},
        ],
        "required": True,
    }
    assert config.definition["layout"]["header_sections"][2]["fields"] == [
        "payment_method",
        "narration",
    ]

    context.clear_cookies()
    log_in(page, clerk)
    page.goto("/vouchers/PV/new/")
    expect(page.locator("#entry")).to_have_attribute("data-config-version", "2")
    expect(page.get_by_label("Payment method")).to_be_enabled()
    expect(page.get_by_label("Payment method").locator("option")).to_have_text(
        ["Cheque", "Bank transfer"]
    )


@pytest.mark.browser
def test_opened_and_saved_unchanged_the_definition_comes_back_identical(page, seeded_books, log_in):
    admin = configuration_admin(seeded_books)
    config = payment_config(seeded_books)
    stored = config.definition

    log_in(page, admin)
    page.goto(change_url(config))
    expect(page.locator("#config-editor-body")).to_be_visible()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    config.refresh_from_db()
    assert (config.version, config.definition) == (1, stored)


@pytest.mark.browser
def test_a_broken_definition_shows_every_problem_at_once_at_its_field(page, seeded_books, log_in):
    admin = configuration_admin(seeded_books)
    config = payment_config(seeded_books)

    log_in(page, admin)
    page.goto(change_url(config))
    fill(page, "#cfg-header_fields-4-label", "")  # Cheque number: a label is required
    page.locator("#cfg-header_fields-2-type").select_option("text")  # party is a voucher column
    fill(page, "#cfg-header_fields-1-default", "9999")  # no such account in the chart
    fill(page, "#cfg-line_fields-1-max_length", "5000")  # above the meta-schema's maximum
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator("#definition-problems")).to_contain_text("Not saved: 4 problems")

    def problem_at(path: str):
        return page.locator(f'[data-path="{path}"] > .editor-errorlist')

    expect(problem_at("header_fields[4].label")).to_contain_text("should be non-empty")
    expect(problem_at("header_fields[2].type")).to_contain_text(
        "'party' is a voucher column and must be of type party"
    )
    expect(problem_at("header_fields[1].default")).to_contain_text("account 9999 does not exist")
    expect(problem_at("line_fields[1].max_length")).to_contain_text("5000 is greater than")
    # In the advanced view, the same problems with their JSON paths.
    page.get_by_role("button", name="Advanced (JSON)").click()
    expect(page.locator("#id_definition")).to_be_visible()
    paths = page.locator("#definition-problems code").all_inner_texts()
    assert sorted(paths) == [
        "header_fields[1].default",
        "header_fields[2].type",
        "header_fields[4].label",
        "line_fields[1].max_length",
    ]

    # Broken JSON in the advanced view: told with its line and column, and kept to fix.
    text = page.locator("#id_definition").input_value()
    code_line = text.splitlines().index('  "code": "PV",') + 1  # key order depends on the database
    page.locator("#id_definition").fill(text.replace('"code": "PV",', '"code": "PV"', 1))
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator("#editor-json-problem")).to_contain_text(f"line {code_line + 1}, column 3")
    expect(page.locator("#id_definition")).to_be_visible()
    config.refresh_from_db()
    assert config.version == 1


@pytest.mark.browser
def test_restore_asks_for_a_reason_and_makes_a_new_version(page, seeded_books, log_in):
    admin = configuration_admin(seeded_books)
    config = payment_config(seeded_books)
    definition = config.definition
    definition["header_fields"][2]["label"] = "Paid to"
    config_update(config=config, definition=definition, reason="Wording from audit")

    log_in(page, admin)
    page.goto(change_url(config))
    page.get_by_role("link", name="Versions and restore").click()
    expect(page.locator("#version-2 .definition-changes tbody tr")).to_have_count(1)
    expect(page.locator("#version-2 .change-before")).to_have_text("Payee")
    expect(page.locator("#version-2 .change-after")).to_have_text("Paid to")
    page.get_by_role("link", name="Restore version 1…").click()

    page.get_by_role("button", name="Restore version 1").click()
    expect(page.locator(".field-reason .errorlist")).to_contain_text("This field is required")
    page.get_by_label("Reason").fill("Auditors withdrew the wording")
    page.get_by_label("I have checked the differences").check()
    page.get_by_role("button", name="Restore version 1").click()

    expect(page.locator(".messagelist")).to_contain_text("Version 1 restored as version 3")
    expect(page.locator("#version-3 .version-meta")).to_contain_text(
        "restored version 1: Auditors withdrew the wording"
    )
    config.refresh_from_db()
    assert (config.version, config.definition["header_fields"][2]["label"]) == (3, "Payee")


@pytest.mark.browser
def test_a_non_administrator_is_refused_every_configuration_page(
    page, seeded_books, log_in, browser_problems
):
    config = payment_config(seeded_books)
    accountant = seeded_books.member(Role.ACCOUNTANT, username="acct")
    accountant.is_staff = True
    accountant.save()
    browser_problems.allow(r"status of 403")
    pk = config.pk
    pages = [
        change_url(config),
        reverse("admin:voucher_config_vouchertypeconfig_versions", args=[pk]),
        reverse("admin:voucher_config_vouchertypeconfig_restore", args=[pk, 1]),
        reverse("admin:voucher_config_vouchertypeconfig_preview", args=[pk]),
        reverse("admin:voucher_config_vouchertypeconfig_history", args=[pk]),
    ]

    log_in(page, accountant)
    for url in pages:
        assert page.goto(url).status == 403, url
        # The POST from the same signed-in browser, with its CSRF token, is refused too.
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
        answer = page.request.post(
            url,
            form={"definition": json.dumps(config.definition), "reason": "x", "confirm": "on"},
            headers={"X-CSRFToken": token, "Referer": page.url},
        )
        assert answer.status == 403, url
    config.refresh_from_db()
    assert config.version == 1


@pytest.mark.browser
def test_the_second_of_two_administrators_saving_is_shown_the_difference(
    new_context, seeded_books, log_in
):
    config = payment_config(seeded_books)
    anna, bert = (
        configuration_admin(seeded_books, "anna"),
        configuration_admin(seeded_books, "bert"),
    )
    anna_context, bert_context = new_context(), new_context()
    anna_page, bert_page = anna_context.new_page(), bert_context.new_page()
    log_in(anna_page, anna)
    log_in(bert_page, bert)
    anna_page.goto(change_url(config))
    bert_page.goto(change_url(config))

    fill(anna_page, "#cfg-header_fields-2-label", "Paid to")
    anna_page.get_by_role("button", name="Save", exact=True).click()
    expect(anna_page.locator(".messagelist")).to_contain_text("was changed successfully")

    fill(bert_page, "#cfg-header_fields-3-label", "Our reference")
    bert_page.get_by_role("button", name="Save", exact=True).click()

    conflict = bert_page.locator("#version-conflict")
    expect(conflict).to_contain_text("anna saved version 2 while you were editing version 1")
    expect(conflict.locator("table").first.locator(".change-after")).to_have_text(["Paid to"])
    expect(conflict.locator("table").last.locator(".change-after")).to_contain_text(
        ["Payee", "Our reference"]
    )
    expect(bert_page.locator("#cfg-header_fields-3-label")).to_have_value("Our reference")
    config.refresh_from_db()
    assert (config.version, config.definition["header_fields"][3]["label"]) == (2, "Reference")

    bert_page.get_by_role("button", name="Save", exact=True).click()
    expect(bert_page.locator(".messagelist")).to_contain_text("was changed successfully")
    config.refresh_from_db()
    assert config.version == 3
    # Bert saved his editor as it stood, Anna's label included, having been shown it.
    assert [f["label"] for f in config.definition["header_fields"][2:4]] == [
        "Payee",
        "Our reference",
    ]
    # Both closed here: the fixture's wait for the server's last answer needs every browser's
    # open connections gone, and one context's stay open while the other closes.
    anna_context.close()
    bert_context.close()
