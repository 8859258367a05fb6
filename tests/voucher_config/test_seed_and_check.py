import json

import pytest
from django.core.management import CommandError, call_command

from voucher_config.checks import check_organization
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import baseline_definitions, config_update, seed_organization


def seed(books):
    return {o.code: o for o in seed_organization(organization=books.organization)}


def test_every_baseline_config_validates_and_its_examples_post(books):
    outcomes = seed(books)
    assert {code: o.action for code, o in outcomes.items()} == {
        code: "created" for code in ["CN", "CV", "DN", "JV", "PU", "PV", "RV", "SV"]
    }
    reports = check_organization(books.organization)
    assert [str(r) for r in reports if not r.ok] == []
    assert all(r.examples_posted >= 1 for r in reports)


def test_checking_examples_leaves_no_trace(books):
    seed(books)
    check_organization(books.organization)
    assert not books.organization.vouchers.exists()
    assert not books.organization.parties.exists()


def test_seeding_twice_changes_nothing(books):
    seed(books)
    versions = dict(VoucherTypeConfig.objects.values_list("voucher_type__code", "version"))
    second = seed(books)
    assert {o.action for o in second.values()} == {"unchanged"}
    assert dict(VoucherTypeConfig.objects.values_list("voucher_type__code", "version")) == versions


def test_customised_config_survives_reseeding_unless_reset(books):
    seed(books)
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    definition = json.loads(json.dumps(config.definition))
    definition["header_fields"][0]["label"] = "Value date"
    config_update(config=config, definition=definition)

    assert seed(books)["PV"].action == "kept"
    config.refresh_from_db()
    assert config.definition["header_fields"][0]["label"] == "Value date"

    outcome = {o.code: o for o in seed_organization(organization=books.organization, reset=True)}
    assert outcome["PV"].action == "updated"
    config.refresh_from_db()
    assert config.definition["header_fields"][0]["label"] == "Date"
    assert config.version == 3


def test_check_command_names_a_corrupted_row_and_exits_1(books, capsys):
    seed(books)
    broken = VoucherTypeConfig.objects.get(voucher_type__code="SV")
    definition = broken.definition
    definition["line_fields"][1]["type"] = "amout"
    VoucherTypeConfig.objects.filter(pk=broken.pk).update(definition=definition)

    with pytest.raises(CommandError, match="acme/SV"):
        call_command("check_voucher_schemas", "--org", "acme")
    out = capsys.readouterr().out
    assert "FAIL  acme/SV v1: line_fields[1].type: 'amout' is not one of" in out
    assert "OK    acme/PV" in out


def test_baseline_ships_eight_types():
    assert sorted(baseline_definitions()) == ["CN", "CV", "DN", "JV", "PU", "PV", "RV", "SV"]
