"""The global rollout flag: changed only by superusers (or an operator at the shell), every change
recorded with who, when, and the values before and after."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from waffle.models import Flag

from accounting.models import Role
from rollout.routing import FLAG_NAME
from rollout.switch import RolloutRefused, rollout_set
from tests.factories import UserFactory


def flag() -> Flag:
    return Flag.objects.get(name=FLAG_NAME)


def flag_state() -> dict:
    return Flag.objects.filter(name=FLAG_NAME).values().get()


def flag_history():
    return flag().history.order_by("history_date", "history_id")


@pytest.fixture
def staffer(books):
    """An organization's administrator, staff, holding waffle's and auth's change permissions."""
    user = books.member(Role.ADMIN, username="staffer")
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["waffle", "auth"],
        )
    )
    return user


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def flag_form(**fields) -> dict:
    data = {
        "name": FLAG_NAME,
        "everyone": "unknown",
        "percent": "",
        "note": "",
        "languages": "",
        "created_0": "2026-01-01",
        "created_1": "00:00:00",
        "modified_0": "2026-01-01",
        "modified_1": "00:00:00",
    }
    data.update(fields)
    return data


def test_staff_with_the_flag_permission_cannot_change_the_flag_in_the_admin(client, staffer):
    assert staffer.has_perm("waffle.change_flag") and staffer.has_perm("auth.change_user")
    client.force_login(staffer)
    before = flag_state()
    change = reverse("admin:waffle_flag_change", args=[flag().pk])

    assert client.get(change).status_code == 403
    assert client.post(change, flag_form(everyone="true")).status_code == 403
    action = client.post(
        reverse("admin:waffle_flag_changelist"),
        {"action": "enable_for_all", "_selected_action": [flag().pk]},
    )
    assert action.status_code == 403
    user_change = reverse("admin:auth_user_change", args=[staffer.pk])
    assert client.post(user_change, {"is_superuser": "on"}).status_code == 403

    assert flag_state() == before
    staffer.refresh_from_db()
    assert staffer.is_superuser is False


def test_a_superuser_changes_the_flag_in_the_admin_and_the_history_says_who(client, root):
    client.force_login(root)
    change = reverse("admin:waffle_flag_change", args=[flag().pk])

    response = client.post(change, flag_form(everyone="true", superusers="on"))

    assert response.status_code == 302
    assert flag().everyone is True
    latest = flag_history().last()
    assert (latest.history_user, latest.everyone) == (root, True)
    assert latest.prev_record.everyone is None
    assert client.get(reverse("admin:waffle_flag_history", args=[flag().pk])).status_code == 200


def test_rollout_command_refuses_a_user_who_is_not_a_superuser(staffer):
    before, versions = flag_state(), flag_history().count()

    with pytest.raises(CommandError, match="'staffer' is not a superuser"):
        call_command("voucher_rollout", "everyone", "--user", "staffer")
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("voucher_rollout", "everyone", "--user", "ghost")

    assert flag_state() == before
    assert flag_history().count() == versions


def test_rollout_command_as_a_superuser_records_user_old_and_new_values(root, capsys):
    call_command("voucher_rollout", "everyone", "--user", "root")

    assert flag().everyone is True
    latest = flag_history().last()
    assert latest.history_user == root
    assert latest.history_change_reason == "voucher_rollout by root"
    assert (latest.prev_record.everyone, latest.everyone) == (None, True)
    delta = latest.diff_against(latest.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("everyone", None, True)]
    assert "on for everyone" in capsys.readouterr().out


def test_rollout_command_without_user_trusts_the_os_operator_and_names_them(db, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "deploy")
    UserFactory(username="deploy")  # a site user of that name who is no superuser: not recorded

    call_command("voucher_rollout", "off")

    latest = flag_history().last()
    assert flag().everyone is False
    assert latest.history_user is None
    assert latest.history_change_reason == "voucher_rollout by OS user deploy"


def test_rollout_command_without_user_records_the_matching_superuser(root, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "root")

    call_command("voucher_rollout", "staff")

    latest = flag_history().last()
    assert (latest.history_user, latest.staff) == (root, True)
    assert latest.history_change_reason == "voucher_rollout by OS user root"


def test_a_group_phase_is_one_history_row_holding_the_groups(root):
    testers = Group.objects.get(name="Voucher UI testers")
    versions = flag_history().count()

    rollout_set(acting_user=root, operator="root", everyone=None, groups=[testers.name])

    assert flag_history().count() == versions + 1
    assert list(flag_history().last().groups.values_list("group", flat=True)) == [testers.pk]


def test_the_service_refuses_a_non_superuser_and_changes_nothing(staffer):
    before, versions = flag_state(), flag_history().count()

    with pytest.raises(RolloutRefused, match="Only a superuser"):
        rollout_set(acting_user=staffer, operator="staffer", everyone=True)

    assert flag_state() == before
    assert flag_history().count() == versions


def test_a_flag_without_history_gets_its_prior_state_recorded_first(root):
    flag().history.all().delete()

    rollout_set(acting_user=root, operator="root", everyone=True)

    first, latest = flag_history()
    assert (first.everyone, latest.everyone) == (None, True)
    assert latest.prev_record == first
