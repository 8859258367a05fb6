"""Each organization's own rollout: set on the rollout page by its administrators (or with
`voucher_rollout --org`), confirmed first, audited, read through the cache by the entry URLs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from waffle.models import Flag

from accounting.middleware import SESSION_KEY
from accounting.models import Membership, Role
from rollout import recording
from rollout.models import OrganizationRollout, RolloutGroup, RolloutMode
from rollout.organization_state import CACHE_KEY, organization_state
from rollout.organization_switch import organization_rollout_set, rollout_group_save
from rollout.routing import FLAG_NAME, user_percentage_bucket
from rollout.switch import RolloutRefused
from tests.factories import UserFactory
from tests.voucher_config.test_entry_helpers import new_url, seed

PAGE = "/rollout/"

# The routed new-voucher page's queries before organizations had their own rollout (the flag read
# included): the organization's state comes from the cache, so neither may grow.
LEGACY_PAGE_QUERIES = 11
CONFIG_PAGE_QUERIES = 8


@pytest.fixture(autouse=True)
def without_request_metrics(monkeypatch):
    """The metrics' own queries are pinned in test_metrics.py; left out of the counts here."""
    monkeypatch.setattr(recording, "record_routed_request", lambda *args, **kwargs: None)


@pytest.fixture
def seeded(books, other_books):
    seed(books)
    seed(other_books)
    return books


@pytest.fixture
def admin(books):
    return books.member(Role.ADMIN, username="boss")


def state_of(books) -> dict | None:
    return OrganizationRollout.objects.filter(organization=books.organization).values().first()


def channel_of(client, user, type_code="PV") -> str:
    client.force_login(user)
    response = client.get(new_url(type_code))
    assert response.status_code == 200, response.content.decode()[:500]
    return response["X-Entry-Channel"]


def change(client, data: dict, *, confirm: bool):
    return client.post(PAGE, {**data, **({"confirm": "1"} if confirm else {})})


def test_the_page_switches_one_organization_to_config_and_leaves_another_on_legacy(
    client, seeded, other_books, admin
):
    clerk = seeded.member(Role.CLERK)
    rival_clerk = other_books.member(Role.CLERK)
    assert channel_of(client, clerk) == "legacy"
    assert channel_of(client, rival_clerk) == "legacy"

    client.force_login(admin)
    data = {"action": "organization", "mode": "everyone", "reason": "pilot in Acme"}
    review = change(client, data, confirm=False)
    assert review.status_code == 200
    assert "2 of 2 users will move to the configuration screen" in review.content.decode()
    assert state_of(seeded) is None  # the review changes nothing
    done = change(client, data, confirm=True)
    assert done.status_code == 302

    assert channel_of(client, clerk) == "config"
    assert channel_of(client, admin) == "config"
    assert channel_of(client, rival_clerk) == "legacy"
    assert state_of(other_books) is None


def test_the_organization_state_overrides_the_global_flag_unless_it_inherits(seeded, client, admin):
    clerk = seeded.member(Role.CLERK)
    Flag.objects.filter(name=FLAG_NAME).update(everyone=True)
    assert channel_of(client, clerk) == "config"
    organization_rollout_set(
        organization=seeded.organization, acting_user=admin, mode="off", reason="rollback"
    )
    assert channel_of(client, clerk) == "legacy"
    organization_rollout_set(
        organization=seeded.organization, acting_user=admin, mode="inherit", reason="follow"
    )
    assert channel_of(client, clerk) == "config"


def test_the_global_rollback_is_one_toggle_whatever_the_organizations_chose(
    seeded, other_books, client, admin
):
    clerk = seeded.member(Role.CLERK)
    organization_rollout_set(
        organization=seeded.organization, acting_user=admin, mode="everyone", reason="go live"
    )
    assert channel_of(client, clerk) == "config"

    Flag.objects.get(name=FLAG_NAME).__class__.objects.filter(name=FLAG_NAME).update(
        everyone=False
    )  # voucher_rollout off: the immediate rollback
    cache.clear()

    assert channel_of(client, clerk) == "legacy"
    assert OrganizationRollout.objects.get(organization=seeded.organization).mode == "everyone"


def test_groups_and_percentage_of_the_organization(seeded, client, admin):
    tester, other = seeded.member(Role.CLERK), seeded.member(Role.CLERK)
    group = rollout_group_save(
        organization=seeded.organization,
        acting_user=admin,
        name="Pilots",
        members=[tester],
        reason="first pilots",
    )
    organization_rollout_set(
        organization=seeded.organization,
        acting_user=admin,
        mode="groups",
        groups=[group],
        reason="pilots only",
    )
    assert channel_of(client, tester) == "config"
    assert channel_of(client, other) == "legacy"
    # Adding a member takes effect on the next request: the cached state is dropped.
    rollout_group_save(
        organization=seeded.organization,
        acting_user=admin,
        name="Pilots",
        members=[tester, other],
        reason="more pilots",
    )
    assert channel_of(client, other) == "config"

    bucket = user_percentage_bucket(FLAG_NAME, other.pk)
    organization_rollout_set(
        organization=seeded.organization,
        acting_user=admin,
        mode="percent",
        percent=bucket,
        reason="by share",
    )
    assert channel_of(client, other) == "legacy"  # the bucket is not below the percentage
    organization_rollout_set(
        organization=seeded.organization,
        acting_user=admin,
        mode="percent",
        percent=min(bucket + Decimal("0.1"), Decimal("99.9")),
        reason="by share",
    )
    assert channel_of(client, other) == "config"


def test_a_group_of_another_organization_cannot_be_chosen(seeded, other_books, client, admin):
    rival_admin = other_books.member(Role.ADMIN)
    theirs = rollout_group_save(
        organization=other_books.organization,
        acting_user=rival_admin,
        name="Theirs",
        members=[],
        reason="setup",
    )
    with pytest.raises(ValueError, match="not groups of"):
        organization_rollout_set(
            organization=seeded.organization,
            acting_user=admin,
            mode="groups",
            groups=[theirs],
            reason="x",
        )
    client.force_login(admin)
    response = change(
        client,
        {"action": "organization", "mode": "groups", "groups": [theirs.pk], "reason": "x"},
        confirm=True,
    )
    assert response.status_code == 400
    assert state_of(seeded) is None
    with pytest.raises(ValueError, match="not members of"):
        rollout_group_save(
            organization=seeded.organization,
            acting_user=admin,
            name="Mixed",
            members=[rival_admin],
            reason="x",
        )
    assert not RolloutGroup.objects.filter(name="Mixed").exists()


@pytest.mark.parametrize("who", ["clerk", "accountant", "staff of another organization"])
def test_only_administrators_may_open_or_change_the_page(seeded, other_books, client, who):
    if who == "staff of another organization":
        # Staff, administrator of another organization, and only a clerk in this one.
        user = other_books.member(Role.ADMIN)
        user.is_staff = True
        user.save()
        Membership.objects.create(user=user, organization=seeded.organization, role=Role.CLERK)
    else:
        user = seeded.member(Role.CLERK if who == "clerk" else Role.ACCOUNTANT)
    users = [user]
    for user in users:
        client.force_login(user)
        if who == "staff of another organization":
            session = client.session
            session[SESSION_KEY] = seeded.organization.pk  # this organization is the active one
            session.save()
        assert client.get(PAGE).status_code == 403
        for action in [
            {"action": "organization", "mode": "everyone", "reason": "x"},
            {"action": "group", "name": "Mine", "members": [user.pk], "reason": "x"},
            {"action": "global", "mode": "everyone", "reason": "x"},
        ]:
            assert change(client, action, confirm=False).status_code == 403
            assert change(client, action, confirm=True).status_code == 403
        assert state_of(seeded) is None
        assert not RolloutGroup.objects.exists()
        assert Flag.objects.get(name=FLAG_NAME).everyone is None
        with pytest.raises(RolloutRefused):
            organization_rollout_set(
                organization=seeded.organization, acting_user=user, mode="everyone", reason="x"
            )
    assert state_of(seeded) is None


def test_an_administrator_cannot_change_the_global_default(seeded, client, admin):
    client.force_login(admin)
    response = change(client, {"action": "global", "mode": "everyone", "reason": "x"}, confirm=True)
    assert response.status_code == 403
    assert Flag.objects.get(name=FLAG_NAME).everyone is None
    assert "Global default" not in client.get(PAGE).content.decode()


def test_a_superuser_sets_the_global_default_on_the_page_with_history(seeded, client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert "Global default" in client.get(PAGE).content.decode()
    data = {"action": "global", "mode": "everyone", "reason": "all go"}
    assert change(client, data, confirm=False).status_code == 200
    assert Flag.objects.get(name=FLAG_NAME).everyone is None
    assert change(client, data, confirm=True).status_code == 302
    flag = Flag.objects.get(name=FLAG_NAME)
    assert flag.everyone is True
    latest = flag.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (root, "all go")


def test_the_reason_is_required(seeded, client, admin):
    client.force_login(admin)
    for confirm in (False, True):
        response = change(client, {"action": "organization", "mode": "everyone"}, confirm=confirm)
        assert response.status_code == 400
        assert "This field is required" in response.content.decode()
        response = change(
            client, {"action": "organization", "mode": "everyone", "reason": "  "}, confirm=confirm
        )
        assert response.status_code == 400
    assert state_of(seeded) is None
    with pytest.raises(ValueError, match="reason"):
        organization_rollout_set(
            organization=seeded.organization, acting_user=admin, mode="everyone", reason=" "
        )
    assert state_of(seeded) is None


def test_history_rows_carry_user_reason_old_and_new(seeded, client, admin):
    client.force_login(admin)
    change(client, {"action": "organization", "mode": "everyone", "reason": "go"}, confirm=True)
    change(
        client,
        {"action": "organization", "mode": "percent", "percent": "25", "reason": "slower"},
        confirm=True,
    )
    rollout = OrganizationRollout.objects.get(organization=seeded.organization)
    rows = list(rollout.history.order_by("history_date", "history_id"))
    assert [(row.mode, row.history_change_reason) for row in rows] == [
        ("inherit", "state before the change"),
        ("everyone", "go"),
        ("percent", "slower"),
    ]
    assert {row.history_user for row in rows} == {admin}
    delta = rows[2].diff_against(rows[1])
    assert {(c.field, c.old, c.new) for c in delta.changes} == {
        ("mode", "everyone", "percent"),
        ("percent", Decimal("0.0"), Decimal("25.0")),
    }


def test_the_page_lists_each_member_with_screen_and_why(seeded, client, admin):
    tester = seeded.member(Role.CLERK, username="tess")
    seeded.member(Role.CLERK, username="olga")
    group = rollout_group_save(
        organization=seeded.organization,
        acting_user=admin,
        name="Pilots",
        members=[tester],
        reason="x",
    )
    organization_rollout_set(
        organization=seeded.organization,
        acting_user=admin,
        mode="groups",
        groups=[group],
        reason="x",
    )
    seeded.organization.voucher_configs.filter(voucher_type__code="CN").update(is_active=False)
    client.force_login(admin)
    body = client.get(PAGE).content.decode()
    rows = body.split('id="users-per-screen"')[1]
    assert "tess" in rows and "organization: group Pilots" in rows
    assert "organization: in none of the chosen groups" in rows
    assert "1 of 3 users" in body  # on the configuration screen
    assert "CN (fallback to legacy: no active config)" in body
    for form in ("organization", "group"):  # two forms, each label finds its own field
        assert body.count(f'id="{form}_reason"') == 1
    assert f'href="{reverse("rollout-settings")}"' in body  # in the menu


def test_an_inheriting_organization_explains_the_global_flag(seeded, client, admin):
    Flag.objects.filter(name=FLAG_NAME).update(everyone=None, percent=Decimal("50"))
    client.force_login(admin)
    bucket = user_percentage_bucket(FLAG_NAME, admin.pk)
    percent = Flag.objects.get(name=FLAG_NAME).percent  # as the database gives it back
    sign = "<" if bucket < percent else "≥"
    expected = f"global flag: percentage bucket {bucket} {sign} {percent}"
    assert escape(expected) in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("mode", "flag_everyone", "ceiling", "channel"),
    [
        (None, None, LEGACY_PAGE_QUERIES, "legacy"),
        ("inherit", None, LEGACY_PAGE_QUERIES, "legacy"),
        ("off", True, LEGACY_PAGE_QUERIES, "legacy"),
        ("everyone", None, CONFIG_PAGE_QUERIES, "config"),
    ],
)
def test_the_routed_entry_page_queries_do_not_grow(
    seeded, client, admin, django_assert_max_num_queries, mode, flag_everyone, ceiling, channel
):
    Flag.objects.filter(name=FLAG_NAME).update(everyone=flag_everyone)
    if mode is not None:
        organization_rollout_set(
            organization=seeded.organization, acting_user=admin, mode=mode, reason="x"
        )
    clerk = seeded.member(Role.CLERK)
    client.force_login(clerk)
    client.get(new_url("PV"))  # the state is cached from here on
    with django_assert_max_num_queries(ceiling):
        response = client.get(new_url("PV"))
    assert response["X-Entry-Channel"] == channel


def test_the_state_is_read_once_then_from_the_cache(seeded, admin):
    organization_id = seeded.organization.pk
    with CaptureQueriesContext(connection) as first:
        assert organization_state(organization_id=organization_id).inherits
    with CaptureQueriesContext(connection) as second:
        assert organization_state(organization_id=organization_id).inherits
    assert len(first) >= 1 and len(second) == 0
    organization_rollout_set(
        organization=seeded.organization, acting_user=admin, mode="everyone", reason="x"
    )
    assert cache.get(CACHE_KEY.format(organization_id)) is None
    assert organization_state(organization_id=organization_id).mode == RolloutMode.EVERYONE


# --- voucher_rollout --org -------------------------------------------------------------------


def test_voucher_rollout_org_sets_one_organization(seeded, other_books, client, capsys):
    clerk = seeded.member(Role.CLERK)
    admin = seeded.member(Role.ADMIN, username="boss")
    call_command("voucher_rollout", "everyone", "--org", "acme", "--user", "boss")
    assert channel_of(client, clerk) == "config"
    assert channel_of(client, other_books.member(Role.CLERK)) == "legacy"
    rollout = OrganizationRollout.objects.get(organization=seeded.organization)
    latest = rollout.history.latest("history_date")
    assert latest.history_user == admin
    assert latest.history_change_reason == "voucher_rollout by boss"
    assert Flag.objects.get(name=FLAG_NAME).everyone is None  # the global flag untouched

    call_command("voucher_rollout", "percent", "12.5", "--org", "acme", "--user", "boss")
    assert state_of(seeded)["percent"] == Decimal("12.5")
    call_command("voucher_rollout", "off", "--org", "acme", "--user", "boss")
    assert channel_of(client, clerk) == "legacy"
    rollout_group_save(
        organization=seeded.organization,
        acting_user=admin,
        name="Pilots",
        members=[clerk],
        reason="x",
    )
    call_command("voucher_rollout", "group", "Pilots", "--org", "acme", "--user", "boss")
    assert channel_of(client, clerk) == "config"
    capsys.readouterr()
    call_command("voucher_rollout", "status")
    assert "own rollout, --org acme: Acme Ltd: Members of chosen groups (Pilots)" in (
        capsys.readouterr().out
    )
    call_command("voucher_rollout", "inherit", "--org", "acme")
    assert state_of(seeded)["mode"] == "inherit"
    capsys.readouterr()
    call_command("voucher_rollout", "status", "--org", "acme")
    assert "Acme Ltd: Follow the global default" in capsys.readouterr().out


def test_voucher_rollout_org_refuses_a_non_administrator(seeded, other_books):
    seeded.member(Role.ACCOUNTANT, username="acct")
    other_books.member(Role.ADMIN, username="rivalboss")
    for username in ["acct", "rivalboss"]:
        with pytest.raises(CommandError, match="administrator"):
            call_command("voucher_rollout", "everyone", "--org", "acme", "--user", username)
    with pytest.raises(CommandError, match="No organization 'nope'"):
        call_command("voucher_rollout", "everyone", "--org", "nope")
    with pytest.raises(CommandError, match="no rollout group"):
        call_command("voucher_rollout", "group", "Ghosts", "--org", "acme")
    with pytest.raises(CommandError, match="only with --org"):
        call_command("voucher_rollout", "inherit")
    assert state_of(seeded) is None


def test_an_administrator_makes_a_rollout_group_on_the_page_and_rolls_out_to_it(
    seeded, client, admin
):
    tester = seeded.member(Role.CLERK, username="tess")
    other = seeded.member(Role.CLERK)
    client.force_login(admin)
    data = {"action": "group", "name": "Pilots", "members": [tester.pk], "reason": "first ones"}
    review = change(client, data, confirm=False)
    assert "Group Pilots: new group → tess" in review.content.decode()
    assert not RolloutGroup.objects.exists()
    assert change(client, data, confirm=True).status_code == 302
    group = RolloutGroup.objects.get(organization=seeded.organization, name="Pilots")
    assert list(group.members.all()) == [tester]
    latest = group.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (admin, "first ones")

    choose = {"action": "organization", "mode": "groups", "groups": [group.pk], "reason": "pilot"}
    review = change(client, choose, confirm=False)
    assert "1 of 3 users will move to the configuration screen" in review.content.decode()
    change(client, choose, confirm=True)
    assert channel_of(client, tester) == "config"
    assert channel_of(client, other) == "legacy"


def test_a_superuser_of_no_organization_sees_only_the_global_default(seeded, client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    body = client.get(PAGE).content.decode()
    assert 'id="global-description"' in body and "Users per screen" not in body
    response = change(
        client, {"action": "organization", "mode": "everyone", "reason": "x"}, confirm=True
    )
    assert response.status_code == 403
    assert state_of(seeded) is None


def test_an_administrator_of_another_organization_cannot_reach_this_one(
    seeded, other_books, client
):
    rival_admin = other_books.member(Role.ADMIN)
    rival_admin.is_staff = True
    rival_admin.save()
    client.force_login(rival_admin)
    session = client.session
    session[SESSION_KEY] = seeded.organization.pk  # not a member: the middleware ignores it
    session.save()
    data = {"action": "organization", "mode": "everyone", "reason": "mine"}
    assert change(client, data, confirm=True).status_code == 302
    assert state_of(seeded) is None
    assert state_of(other_books)["mode"] == "everyone"
    with pytest.raises(RolloutRefused):
        organization_rollout_set(
            organization=seeded.organization, acting_user=rival_admin, mode="off", reason="x"
        )
    assert state_of(seeded) is None
