"""For all eight types the same input posts identical ledger lines through both channels."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounting.models import PartyRole
from rollout import parity
from rollout.parity import compare_channels
from tests.factories import PartyFactory
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import seed_organization

TYPES = ["JV", "PV", "RV", "CV", "SV", "PU", "DN", "CN"]


@pytest.fixture
def seeded(books):
    seed_organization(organization=books.organization)
    PartyFactory(organization=books.organization, code="C1", role=PartyRole.CUSTOMER)
    PartyFactory(organization=books.organization, code="B1", role=PartyRole.BOTH)
    PartyFactory(
        organization=books.organization,
        code="S1",
        role=PartyRole.SUPPLIER,
        control_account=books.account("2100"),
    )
    return books


@pytest.mark.parametrize("type_code", TYPES)
def test_both_channels_post_identical_ledger_lines(seeded, type_code):
    config = VoucherTypeConfig.objects.get(voucher_type__code=type_code)
    report = compare_channels(config=config, sample=25, seed=7)
    assert len(report.samples) == 25
    assert [(s.index, s.differences) for s in report.mismatches] == []


def test_compare_channels_command_reports_parity(seeded, capsys):
    call_command("compare_channels", "--type", "PV", "--sample", "20")
    assert "acme/PV: 20 samples, 0 with differences" in capsys.readouterr().out


def test_compare_channels_exits_1_and_names_the_difference(seeded, monkeypatch, capsys):
    real = parity.legacy_voucher_input

    def off_by_a_cent(**kwargs):
        result = real(**kwargs)
        result.lines[0].debit += Decimal("0.01") if result.lines[0].debit else 0
        result.lines[0].credit += Decimal("0.01") if result.lines[0].credit else 0
        return result

    monkeypatch.setattr(parity, "legacy_voucher_input", off_by_a_cent)
    with pytest.raises(CommandError, match="would post differently"):
        call_command("compare_channels", "--type", "RV", "--sample", "5")
    out = capsys.readouterr().out
    assert "acme/RV: 5 samples, 5 with differences" in out
    assert "line 1: config" in out


def test_compare_channels_json_and_errors(seeded, capsys):
    call_command("compare_channels", "--type", "SV", "--sample", "3", "--format", "json")
    assert '"mismatches": []' in capsys.readouterr().out
    with pytest.raises(CommandError, match="No configuration"):
        call_command("compare_channels", "--type", "ZZ")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("compare_channels", "--type", "PV", "--sample", "0")
