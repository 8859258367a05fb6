"""The configuration editor on the server: what it posts round-trips, every problem comes in one
round at its place, a concurrent save is refused with the difference, versions and history read
as changes, restore asks for a reason, the preview is the entry screen, and only an
organization's administrators reach any of it."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounting.models import Membership, Role
from tests.factories import UserFactory
from voucher_config.editor.diff import definition_changes
from voucher_config.editor.ui_schema import editor_schema
from voucher_config.models import VoucherTypeConfig
from voucher_config.posting_rules import POSTING_RULES
from voucher_config.services import baseline_definitions, config_update, seed_organization
from voucher_config.validation import meta_schema

CODES = sorted(baseline_definitions())


def administrator(books, username="boss", *, role=Role.ADMIN):
    """A staff member of `books` with the admin's permissions on configurations."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["voucher_config", "accounting"])
    )
    Membership.objects.create(user=user, organization=books.organization, role=role)
    return user


@pytest.fixture
def seeded(books):
    seed_organization(organization=books.organization)
    return books


@pytest.fixture
def boss(seeded, client):
    client.force_login(administrator(seeded))
    return client


def config_of(books, code="PV"):
    return VoucherTypeConfig.objects.get(organization=books.organization, voucher_type__code=code)


def change_url(config):
    return reverse("admin:voucher_config_vouchertypeconfig_change", args=[config.pk])


def editor_post(client, config):
    """What the change page's form posts when saved untouched: its fields as drawn."""
    page = client.get(change_url(config))
    assert page.status_code == 200
    body = page.content.decode()
    textarea = re.search(r'<textarea name="definition"[^>]*>(.*?)</textarea>', body, re.S)
    base = re.search(r'name="base_version" value="(\d+)"', body)
    assert textarea and base
    return {
        "is_active": "on",
        "definition": html.unescape(textarea.group(1)).removeprefix("\n"),
        "base_version": base.group(1),
        "change_reason": "",
    }


def editor_data(response) -> dict:
    body = response.content.decode()
    found = re.search(
        r'<script id="config-editor-data" type="application/json">(.*?)</script>', body, re.S
    )
    assert found
    return json.loads(found.group(1))


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_each_baseline_opened_and_saved_unchanged_comes_back_identical(boss, seeded, code):
    config = config_of(seeded, code)
    stored, stored_hash = config.definition, config.definition_hash

    response = boss.post(change_url(config), editor_post(boss, config))

    assert response.status_code == 302
    config.refresh_from_db()
    assert config.definition == stored
    assert config.definition_hash == stored_hash
    assert config.version == 1  # nothing changed, so no new version
    assert definition_changes(stored, config.definition) == []


def test_the_editor_offers_what_the_meta_schema_and_the_posting_rules_know():
    schema = editor_schema()
    field_types = meta_schema()["$defs"]["field"]["properties"]["type"]["enum"]
    by_name = {p["name"]: p for p in schema["field"]}

    assert by_name["type"]["options"] == field_types
    assert set(by_name) == set(meta_schema()["$defs"]["field"]["properties"])
    assert by_name["choices"]["types"] == ["choice"] and by_name["filter"]["types"] == ["account"]
    assert (
        set(schema["rules"])
        == set(POSTING_RULES)
        == set(meta_schema()["properties"]["posting"]["properties"]["rule"]["enum"])
    )
    counterpart = {s["name"]: s for s in schema["rules"]["counterpart"]["settings"]}
    assert counterpart["counterpart_field"] == {
        "name": "counterpart_field",
        "label": "Counterpart field",
        "required": True,
        "input": "field",
        "section": "header_fields",
        "field_type": "account",
    }
    assert counterpart["lines_side"]["options"] == ["debit", "credit"]


# --- problems ------------------------------------------------------------------------------


def test_broken_json_is_told_with_its_line_and_column(boss, seeded):
    config = config_of(seeded)
    data = editor_post(boss, config)
    text = data["definition"]
    # The stored key order depends on the database (PostgreSQL's jsonb orders keys its own way).
    name_line = text.splitlines().index('  "name": "Payment",') + 1
    data["definition"] = text.replace('"name": "Payment",', '"name": "Payment"', 1)

    response = boss.post(change_url(config), data)

    assert response.status_code == 200
    [problem] = editor_data(response)["problems"]
    # The missing comma is noticed where the next key starts.
    assert (problem["line"], problem["column"]) == (name_line + 1, 3)
    assert f"JSON syntax error at line {name_line + 1}, column 3" in response.content.decode()
    config.refresh_from_db()
    assert config.version == 1


def test_schema_and_semantic_problems_come_together_each_with_its_path(boss, seeded):
    config = config_of(seeded)
    definition = config.definition
    definition["header_fields"][4]["type"] = "cheque"  # meta-schema
    definition["line_fields"][0]["label"] = ""  # meta-schema
    definition["posting"]["counterpart_field"] = "party"  # semantic: a party, not an account
    data = editor_post(boss, config) | {"definition": json.dumps(definition)}

    response = boss.post(change_url(config), data)

    problems = {p["path"]: p["message"] for p in editor_data(response)["problems"]}
    assert set(problems) == {
        "header_fields[4].type",
        "line_fields[0].label",
        "posting.counterpart_field",
    }
    assert (
        "is of type party; the counterpart rule needs a account field"
        in problems["posting.counterpart_field"]
    )
    body = response.content.decode()
    assert "3 problems in the definition" in body
    assert '<code class="problem-path">posting.counterpart_field</code>' in body


# --- concurrent edits ----------------------------------------------------------------------


def test_the_second_of_two_concurrent_saves_is_refused_with_the_difference(seeded, client):
    config = config_of(seeded)
    first, second = administrator(seeded, "anna"), administrator(seeded, "bert")
    client.force_login(first)
    anna_form = editor_post(client, config)
    client.force_login(second)
    bert_form = editor_post(client, config)

    anna = json.loads(anna_form["definition"])
    anna["header_fields"][2]["label"] = "Paid to"
    client.force_login(first)
    saved = client.post(change_url(config), anna_form | {"definition": json.dumps(anna)})
    assert saved.status_code == 302

    bert = json.loads(bert_form["definition"])
    bert["header_fields"][3]["label"] = "Our reference"
    client.force_login(second)
    refused = client.post(change_url(config), bert_form | {"definition": json.dumps(bert)})

    assert refused.status_code == 200
    body = refused.content.decode()
    assert "anna saved version 2 of this configuration while you were editing version 1" in body
    conflict = body[body.index('id="version-conflict"') :]
    assert "Header field: Paid to</th>" in conflict and "Our reference" in conflict
    assert 'name="base_version" value="2"' in body
    config.refresh_from_db()
    assert (config.version, config.definition["header_fields"][2]["label"]) == (2, "Paid to")
    assert config.definition["header_fields"][3]["label"] == "Reference"

    # Having seen the difference, Bert saves again on top of version 2.
    again = client.post(
        change_url(config), bert_form | {"definition": json.dumps(bert), "base_version": "2"}
    )
    assert again.status_code == 302
    config.refresh_from_db()
    assert config.version == 3 and config.definition["header_fields"][3]["label"] == "Our reference"


# --- versions, restore, history ------------------------------------------------------------


def changed_payment(config, *, user=None, reason="Wording from audit"):
    definition = config.definition
    definition["header_fields"][2]["label"] = "Paid to"
    definition["header_fields"].append(
        {
            "key": "method",
            "label": "Method",
            "type": "choice",
            "choices": [{"value": "chq", "label": "Cheque"}],
        }
    )
    definition["posting"]["lines_side"] = "credit"
    return config_update(config=config, definition=definition, user=user, reason=reason)


def test_versions_are_compared_field_by_field(boss, seeded):
    config = changed_payment(config_of(seeded))

    page = boss.get(reverse("admin:voucher_config_vouchertypeconfig_versions", args=[config.pk]))

    body = page.content.decode()
    assert "Changes from version 1" in body
    assert '<th scope="row">Header field: Paid to</th>\n      <td>label changed</td>' in body
    assert '<th scope="row">Header field: Method</th>\n      <td>added</td>' in body
    assert '<th scope="row">Posting rule: lines side</th>' in body
    assert "&quot;" not in body  # no JSON text diff
    assert 'class="breadcrumbs"' in body and 'href="/static/css/admin.css"' in body


def test_restore_asks_for_a_reason_and_a_confirmation_and_makes_a_new_version(boss, seeded):
    config = changed_payment(config_of(seeded))
    url = reverse("admin:voucher_config_vouchertypeconfig_restore", args=[config.pk, 1])

    asked = boss.get(url)
    assert asked.status_code == 200
    assert "Restoring makes the definition of version 1 the new version 3" in asked.content.decode()
    assert "<td>removed</td>" in asked.content.decode()  # the Method field would go

    for incomplete in ({}, {"reason": "undo"}, {"confirm": "on"}):
        assert boss.post(url, incomplete).status_code == 200
    config.refresh_from_db()
    assert config.version == 2

    done = boss.post(url, {"reason": "Audit wording withdrawn", "confirm": "on"})

    assert done.status_code == 302
    config.refresh_from_db()
    assert config.version == 3
    assert config.definition["header_fields"][2]["label"] == "Payee"
    record = config.history.order_by("-history_date").first()
    assert record.history_change_reason == "restored version 1: Audit wording withdrawn"
    assert record.history_user.username == "boss"


def test_history_reads_as_who_changed_what_when_and_why(
    boss, seeded, django_assert_max_num_queries
):
    config = config_of(seeded)
    anna = administrator(seeded, "anna")
    anna.first_name, anna.last_name = "Anna", "Berg"
    anna.save()
    for _ in range(5):
        config = changed_payment(config, user=anna)
        definition = config.definition
        definition["header_fields"][2]["label"] = "Payee"
        definition["header_fields"].pop()
        config = config_update(config=config, definition=definition, user=anna, reason="undone")

    url = reverse("admin:voucher_config_vouchertypeconfig_history", args=[config.pk])
    with django_assert_max_num_queries(15):  # not one per version
        page = boss.get(url)

    body = page.content.decode()
    assert "<td>Anna Berg</td>" in body
    assert "Header field Paid to: label changed; Header field Method: added" in body
    assert "<td>Wording from audit</td>" in body
    assert "<td>the system (seeding or a command)</td>" in body
    assert "Deleted user" not in body and "{&#x27;" not in body and "pk=None" not in body


# --- preview -------------------------------------------------------------------------------


def test_the_preview_is_the_entry_screen_read_only_with_the_example(boss, seeded):
    config = config_of(seeded)

    page = boss.get(reverse("admin:voucher_config_vouchertypeconfig_preview", args=[config.pk]))

    body = page.content.decode()
    assert page.templates[0].name == "voucher_config/entry.html"
    assert '<fieldset class="entry-body" disabled>' in body
    assert 'value="PV-EX"' in body  # the example's reference
    assert "Office rent" in body
    assert 'value="save"' not in body and 'value="post"' not in body
    assert "data-entry-channel" not in body  # not counted as an entry page by the rollout


def test_the_preview_of_unsaved_changes_shows_them_and_saves_nothing(boss, seeded):
    config = config_of(seeded)
    definition = config.definition
    definition["header_fields"].insert(
        1,
        {
            "key": "method",
            "label": "Payment method",
            "type": "choice",
            "choices": [{"value": "chq", "label": "Cheque"}, {"value": "wire", "label": "Wire"}],
        },
    )
    url = reverse("admin:voucher_config_vouchertypeconfig_preview", args=[config.pk])

    page = boss.post(url, {"definition": json.dumps(definition)})

    assert page.status_code == 200
    body = page.content.decode()
    assert "Payment method" in body and ">Wire</option>" in body
    assert "with your unsaved changes" in body
    config.refresh_from_db()
    assert config.version == 1

    definition["posting"]["amount_field"] = "nothing"
    refused = boss.post(url, {"definition": json.dumps(definition)})
    assert refused.status_code == 422
    assert "posting.amount_field: &#x27;nothing&#x27; is not one of the line fields" in (
        refused.content.decode()
    )


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CLERK, Role.ACCOUNTANT])
def test_a_non_administrator_gets_403_on_every_page_and_post(seeded, client, role):
    config = config_of(seeded)
    changed_payment(config)
    client.force_login(administrator(seeded, "member", role=role))
    pk = config.pk
    pages = [
        reverse("admin:voucher_config_vouchertypeconfig_changelist"),
        reverse("admin:voucher_config_vouchertypeconfig_add"),
        change_url(config),
        reverse("admin:voucher_config_vouchertypeconfig_versions", args=[pk]),
        reverse("admin:voucher_config_vouchertypeconfig_restore", args=[pk, 1]),
        reverse("admin:voucher_config_vouchertypeconfig_preview", args=[pk]),
        reverse("admin:voucher_config_vouchertypeconfig_clone", args=[pk]),
        reverse("admin:voucher_config_vouchertypeconfig_history", args=[pk]),
    ]
    forged = {
        "definition": json.dumps(config.definition),
        "is_active": "on",
        "reason": "mine now",
        "confirm": "on",
        "code": "PX",
        "name": "Taken",
    }

    for page in pages:
        assert client.get(page).status_code == 403, page
        assert client.post(page, forged).status_code == 403, page

    config.refresh_from_db()
    assert config.version == 2


def test_a_new_configuration_starts_from_the_journal_in_the_editor(boss, seeded):
    page = boss.get(reverse("admin:voucher_config_vouchertypeconfig_add"))

    form = page.context["adminform"].form
    starter = json.loads(form["definition"].value())
    assert starter["posting"]["rule"] == "journal" and "examples" not in starter
    assert starter["code"] == "NEW"
    assert 'id="config-editor-data"' in page.content.decode()
