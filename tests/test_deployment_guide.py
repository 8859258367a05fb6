"""Every `python manage.py` command docs/DEPLOYMENT.md names exists, takes the arguments shown,
and, where it is safe inside a test, runs as written."""

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class

from accounting.models import PartyRole
from tests.factories import Books, PartyFactory
from voucher_config.services import seed_organization

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "DEPLOYMENT.md"
COMMAND = re.compile(r"(?<![\w/.])python manage\.py ([^`\n]+?)(?:`|\n|$)")

# Not run here: the suite itself; backup and restore, which need to run outside a transaction
# (tests/accounting/test_backups.py runs them); and the deployment check, which needs production
# environment variables (`make lint` runs it).
NOT_RUN = {"test", "backup_database", "restore_database", "check"}


def guide_commands() -> list[list[str]]:
    return [shlex.split(match.strip()) for match in COMMAND.findall(GUIDE.read_text())]


def test_the_guide_names_the_commands_the_rollout_needs():
    names = {argv[0] for argv in guide_commands()}
    assert {
        "seed_voucher_configs",
        "check_voucher_schemas",
        "compare_channels",
        "check_voucher_health",
        "cleanup_config_drafts",
        "restore_voucher_config",
        "voucher_rollout",
        "waffle_flag",
        "backup_database",
        "restore_database",
        "verify_ledger",
        "migrate",
        "test",
    } <= names


@pytest.mark.parametrize("argv", guide_commands(), ids=lambda argv: " ".join(argv))
def test_each_command_exists_and_accepts_its_arguments(argv):
    name, *args = argv
    app = get_commands().get(name)
    assert app is not None, f"python manage.py {name}: no such command"
    command = load_command_class(app, name)
    command.create_parser("manage.py", name).parse_args(args)


@pytest.mark.slow  # runs every command the guide names
def test_the_commands_run_as_written(db, tmp_path, monkeypatch, settings, capsys):
    settings.BASE_DIR = tmp_path  # backups land under tmp_path/var/backups
    monkeypatch.chdir(tmp_path)
    books = Books(slug="demo")
    seed_organization(organization=books.organization)
    for code, role in (("C1", PartyRole.CUSTOMER), ("S1", PartyRole.SUPPLIER)):
        PartyFactory(organization=books.organization, code=code, role=role)
    for name, *args in guide_commands():
        if name in NOT_RUN:
            continue
        call_command(name, *args)
    out = capsys.readouterr().out
    assert "voucher_config_ui: off for everyone (legacy UI)" in out
    assert "0 with differences" in out
    assert "healthy" in out.lower()
