"""The configuration admin: inline validation errors, versions with diffs, restore, clone, preview."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.factories import UserFactory
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_update, seed_organization


@pytest.fixture
def admin_client(client, books):
    seed_organization(organization=books.organization)
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def payment_config():
    return VoucherTypeConfig.objects.get(voucher_type__code="PV")


def change_url(config):
    return reverse("admin:voucher_config_vouchertypeconfig_change", args=[config.pk])


def post_definition(client, config, definition, reason=""):
    return client.post(
        change_url(config),
        {"is_active": "on", "definition": json.dumps(definition), "change_reason": reason},
    )


def test_admin_edit_saves_a_new_version_with_its_reason(admin_client):
    config = payment_config()
    definition = config.definition
    definition["header_fields"][2]["label"] = "Paid to"
    response = post_definition(admin_client, config, definition, reason="Wording from audit")
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.version == 2
    assert config.history.first().history_change_reason == "Wording from audit"


def test_admin_shows_validation_errors_inline_and_saves_nothing(admin_client):
    config = payment_config()
    definition = config.definition
    definition["line_fields"][2]["type"] = "amout"
    response = post_definition(admin_client, config, definition)
    assert response.status_code == 200
    assert "line_fields[2].type: &#x27;amout&#x27; is not one of" in response.content.decode()
    config.refresh_from_db()
    assert config.version == 1


def test_admin_refuses_text_that_is_not_json(admin_client):
    config = payment_config()
    response = admin_client.post(change_url(config), {"is_active": "on", "definition": "{oops"})
    assert response.status_code == 200
    assert "JSON syntax error at line 1, column 2" in response.content.decode()


def test_versions_page_shows_a_readable_diff_and_restores(admin_client):
    config = payment_config()
    definition = config.definition
    definition["header_fields"][2]["label"] = "Paid to"
    config_update(config=config, definition=definition)

    page = admin_client.get(
        reverse("admin:voucher_config_vouchertypeconfig_versions", args=[config.pk])
    ).content.decode()
    assert "Header field: Paid to</th>" in page
    assert '<td class="change-before">Payee</td>' in page
    assert '<td class="change-after">Paid to</td>' in page

    response = admin_client.post(
        reverse("admin:voucher_config_vouchertypeconfig_restore", args=[config.pk, 1]),
        {"reason": "Audit wording withdrawn", "confirm": "on"},
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.version == 3
    assert config.definition["header_fields"][2]["label"] == "Payee"


def test_clone_creates_a_new_voucher_type_with_the_same_configuration(admin_client, books):
    config = payment_config()
    url = reverse("admin:voucher_config_vouchertypeconfig_clone", args=[config.pk])
    assert admin_client.post(url, {"code": "PV", "name": "Dup"}).status_code == 200
    response = admin_client.post(url, {"code": "PC", "name": "Petty cash payment"})
    assert response.status_code == 302
    clone = VoucherTypeConfig.objects.get(voucher_type__code="PC")
    assert clone.voucher_type.numbering_pattern == "PC-{fy}-{seq:05}"
    assert clone.definition["line_fields"] == config.definition["line_fields"]
    assert clone.definition["name"] == "Petty cash payment"


def test_preview_renders_the_configured_form(admin_client):
    config = payment_config()
    page = admin_client.get(
        reverse("admin:voucher_config_vouchertypeconfig_preview", args=[config.pk])
    ).content.decode()
    assert "Paid from" in page and "Cheque number" in page
    assert 'id="entry-form"' in page and '<fieldset class="entry-body" disabled>' in page


def test_restore_command_brings_back_an_old_version(books, capsys):
    seed_organization(organization=books.organization)
    config = payment_config()
    definition = config.definition
    definition["header_fields"][2]["label"] = "Paid to"
    config_update(config=config, definition=definition)

    call_command("restore_voucher_config", "--org", "acme", "--type", "PV", "--version", "1")
    config.refresh_from_db()
    assert (config.version, config.definition["header_fields"][2]["label"]) == (3, "Payee")
    assert "version 1 restored as version 3" in capsys.readouterr().out

    with pytest.raises(CommandError, match="has no version 9"):
        call_command("restore_voucher_config", "--org", "acme", "--type", "PV", "--version", "9")
    with pytest.raises(CommandError, match="No configuration"):
        call_command("restore_voucher_config", "--org", "acme", "--type", "XX", "--version", "1")


# --- scoped by organization ------------------------------------------------------------------


@pytest.fixture
def rival_admin_client(client, books, other_books):
    """Staff administering rival only, with every permission on configurations and types."""
    from django.contrib.auth.models import Permission

    from accounting.models import Membership, Role

    seed_organization(organization=books.organization)
    seed_organization(organization=other_books.organization)
    user = UserFactory(username="rival-admin", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["voucher_config", "accounting"])
    )
    Membership.objects.create(user=user, organization=other_books.organization, role=Role.ADMIN)
    client.force_login(user)
    return client


def config_of(books, code="PV"):
    return VoucherTypeConfig.objects.get(organization=books.organization, voucher_type__code=code)


def test_another_organizations_configuration_answers_404_on_its_own_views(
    rival_admin_client, books
):
    acme_pv = config_of(books)
    definition_before = acme_pv.definition
    types_before = books.organization.voucher_types.count()
    pages = [
        reverse("admin:voucher_config_vouchertypeconfig_versions", args=[acme_pv.pk]),
        reverse("admin:voucher_config_vouchertypeconfig_preview", args=[acme_pv.pk]),
        reverse("admin:voucher_config_vouchertypeconfig_restore", args=[acme_pv.pk, 1]),
        reverse("admin:voucher_config_vouchertypeconfig_clone", args=[acme_pv.pk]),
        reverse("admin:voucher_config_vouchertypeconfig_history", args=[acme_pv.pk]),
        change_url(acme_pv),
    ]

    for page in pages:
        assert rival_admin_client.get(page).status_code == 404, page
        forged = {"code": "PX", "name": "Taken", "definition": "{}", "is_active": "on"}
        assert rival_admin_client.post(page, forged).status_code == 404, page

    acme_pv.refresh_from_db()
    assert (acme_pv.version, acme_pv.definition) == (1, definition_before)
    assert books.organization.voucher_types.count() == types_before


def test_an_organization_admin_edits_and_restores_their_own_configuration(
    rival_admin_client, other_books
):
    rival_pv = config_of(other_books)
    definition = rival_pv.definition
    definition["header_fields"][2]["label"] = "Paid to"

    edited = post_definition(rival_admin_client, rival_pv, definition, reason="Rival wording")
    restored = rival_admin_client.post(
        reverse("admin:voucher_config_vouchertypeconfig_restore", args=[rival_pv.pk, 1]),
        {"reason": "Back to the shipped wording", "confirm": "on"},
    )

    assert (edited.status_code, restored.status_code) == (302, 302)
    rival_pv.refresh_from_db()
    assert rival_pv.version == 3
    assert rival_pv.definition["header_fields"][2]["label"] == "Payee"


def test_a_configuration_cannot_be_added_for_another_organizations_voucher_type(
    rival_admin_client, books, other_books
):
    acme_type = books.organization.voucher_types.get(code="PV")
    page = rival_admin_client.get(reverse("admin:voucher_config_vouchertypeconfig_add"))
    choices = page.context["adminform"].form.fields["voucher_type"].queryset
    assert not choices.filter(organization=books.organization).exists()
    assert choices.filter(organization=other_books.organization).exists()

    forged = rival_admin_client.post(
        reverse("admin:voucher_config_vouchertypeconfig_add"),
        {
            "organization": other_books.organization.pk,
            "voucher_type": acme_type.pk,
            "definition": json.dumps(config_of(books).definition),
            "is_active": "on",
        },
    )

    assert "voucher_type" in forged.context["adminform"].form.errors
    assert VoucherTypeConfig.objects.filter(voucher_type=acme_type).count() == 1
