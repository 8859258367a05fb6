"""Who gets which entry UI: the waffle flag per user, group and sticky percentage, and fallbacks."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.test import RequestFactory
from waffle.models import Flag as RolloutFlag

from accounting.models import EntryChannel
from rollout.routing import (
    FALLBACK_INVALID,
    FALLBACK_NO_CONFIG,
    FLAG_NAME,
    config_ui_enabled_for,
    route_for,
    user_percentage_bucket,
)
from tests.factories import UserFactory
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_update, seed_organization


@pytest.fixture
def seeded(books):
    seed_organization(organization=books.organization)
    return books


def flag() -> RolloutFlag:
    return RolloutFlag.objects.get(name=FLAG_NAME)


def channel_for(user, books, type_code="PV"):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return route_for(request, organization=books.organization, type_code=type_code)


def test_the_flag_exists_and_is_off_after_migrating(db):
    assert flag().everyone is None
    assert not flag().percent
    assert Group.objects.filter(name="Voucher UI testers").exists()


def test_flag_off_routes_everyone_to_legacy(seeded):
    for user in [UserFactory(), UserFactory(is_staff=True), UserFactory(is_superuser=True)]:
        assert channel_for(user, seeded).channel == EntryChannel.LEGACY


def test_flag_for_everyone_routes_everyone_to_config(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(everyone=True)
    assert channel_for(UserFactory(), seeded).channel == EntryChannel.CONFIG


def test_flag_for_a_group_routes_only_that_group_to_config(seeded):
    testers = Group.objects.get(name="Voucher UI testers")
    flag().groups.add(testers)
    tester, other = UserFactory(), UserFactory()
    tester.groups.add(testers)
    assert channel_for(tester, seeded).channel == EntryChannel.CONFIG
    assert channel_for(other, seeded).channel == EntryChannel.LEGACY


def test_flag_for_staff(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(staff=True)
    assert channel_for(UserFactory(is_staff=True), seeded).channel == EntryChannel.CONFIG
    assert channel_for(UserFactory(), seeded).channel == EntryChannel.LEGACY


def test_a_toggle_takes_effect_on_the_next_request(seeded):
    user = UserFactory()
    assert channel_for(user, seeded).channel == EntryChannel.LEGACY
    f = flag()
    f.everyone = True
    f.save()
    assert channel_for(user, seeded).channel == EntryChannel.CONFIG
    f.everyone = False
    f.save()
    assert channel_for(user, seeded).channel == EntryChannel.LEGACY


def test_ten_percent_rollout_is_sticky_per_user_and_lands_near_ten_percent(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(percent=10)
    users = User.objects.bulk_create(User(username=f"rollout{i}") for i in range(1000))
    first = {u.pk: channel_for(u, seeded).channel for u in users}
    share = sum(channel == EntryChannel.CONFIG for channel in first.values()) / len(users)
    assert 0.07 <= share <= 0.13
    again = {u.pk: channel_for(u, seeded).channel for u in users[:200]}
    assert all(first[pk] == channel for pk, channel in again.items())


def test_percentage_buckets_are_spread_and_stable():
    buckets = [user_percentage_bucket(FLAG_NAME, user_id) for user_id in range(1, 5001)]
    assert user_percentage_bucket(FLAG_NAME, 42) == user_percentage_bucket(FLAG_NAME, 42)
    assert 0.08 < sum(b < 10 for b in buckets) / len(buckets) < 0.12
    assert min(buckets) >= 0 and max(buckets) < 100


def test_anonymous_requests_keep_waffles_cookie_behaviour(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(percent=50)
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.COOKIES["dwf_voucher_config_ui"] = "True"
    assert config_ui_enabled_for(request) is True


def test_inactive_config_falls_back_to_legacy(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(everyone=True)
    VoucherTypeConfig.objects.filter(voucher_type__code="PV").update(is_active=False)
    route = channel_for(UserFactory(), seeded)
    assert (route.channel, route.fallback_reason) == (EntryChannel.LEGACY, FALLBACK_NO_CONFIG)


def test_invalid_config_falls_back_to_legacy(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(everyone=True)
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    broken = json.loads(json.dumps(config.definition))
    broken["line_fields"][0]["type"] = "acount"
    VoucherTypeConfig.objects.filter(pk=config.pk).update(definition=broken, version=99)
    route = channel_for(UserFactory(), seeded)
    assert (route.channel, route.fallback_reason) == (EntryChannel.LEGACY, FALLBACK_INVALID)


def test_a_valid_config_change_keeps_routing_to_config(seeded):
    RolloutFlag.objects.filter(name=FLAG_NAME).update(everyone=True)
    config = VoucherTypeConfig.objects.get(voucher_type__code="PV")
    definition = config.definition
    definition["header_fields"][0]["label"] = "Value date"
    config_update(config=config, definition=definition)
    assert channel_for(UserFactory(), seeded).channel == EntryChannel.CONFIG


def test_rollout_command_walks_through_the_phases(seeded, capsys):
    from django.core.management import call_command

    tester, other = UserFactory(), UserFactory()
    tester.groups.add(Group.objects.get(name="Voucher UI testers"))

    call_command("voucher_rollout", "group", "Voucher UI testers")
    assert channel_for(tester, seeded).channel == EntryChannel.CONFIG
    assert channel_for(other, seeded).channel == EntryChannel.LEGACY

    call_command("voucher_rollout", "percent", "10")
    assert channel_for(tester, seeded).channel == EntryChannel.CONFIG

    call_command("voucher_rollout", "everyone")
    assert channel_for(other, seeded).channel == EntryChannel.CONFIG

    call_command("voucher_rollout", "off")
    assert channel_for(tester, seeded).channel == EntryChannel.LEGACY
    call_command("voucher_rollout", "status")
    assert "voucher_config_ui: off for everyone (legacy UI)" in capsys.readouterr().out.splitlines()


def test_waffles_own_command_rolls_back_and_forward(seeded):
    from django.core.management import call_command

    user = UserFactory()
    call_command("waffle_flag", FLAG_NAME, "--everyone")
    assert channel_for(user, seeded).channel == EntryChannel.CONFIG
    call_command("waffle_flag", FLAG_NAME, "--deactivate")
    assert channel_for(user, seeded).channel == EntryChannel.LEGACY


def test_rollout_command_refuses_bad_input(seeded):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="no such group"):
        call_command("voucher_rollout", "group", "Nobody")
    with pytest.raises(CommandError, match=r"between 0 and 99\.9"):
        call_command("voucher_rollout", "percent", "150")
    with pytest.raises(CommandError, match="not a number"):
        call_command("voucher_rollout", "percent", "ten")
