"""Organizations and memberships keep their history: who changed what, when, and from what."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounting.models import Membership, Organization, Role, VoucherType
from accounting.services.history import HistoryStamp
from accounting.services.organizations import membership_grant
from tests.factories import UserFactory

OPERATOR = "ops-anna"


@pytest.fixture(autouse=True)
def os_account(monkeypatch):
    """The operating-system account that runs the commands."""
    monkeypatch.setattr("accounting.services.history.getpass.getuser", lambda: OPERATOR)


@pytest.fixture
def without_seed_command(monkeypatch):
    monkeypatch.setattr("accounting.management.commands.load_demo_data.get_commands", lambda: {})


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def rows_of(history) -> list[tuple]:
    return [
        (row.history_type, row.history_user, row.history_change_reason)
        for row in history.order_by("history_id")
    ]


@pytest.mark.django_db
def test_creating_an_organization_by_command_records_the_operator():
    run("create_organization", "acme", "--name", "Acme Ltd")

    organization = Organization.objects.get(slug="acme")
    assert rows_of(organization.history) == [("+", None, f"operator: {OPERATOR}")]
    types = VoucherType.history.filter(organization_id=organization.pk)
    assert types.count() == 8
    assert set(types.values_list("history_change_reason", flat=True)) == {f"operator: {OPERATOR}"}


@pytest.mark.django_db
def test_a_named_user_is_recorded_with_the_operator():
    admin = UserFactory(username="root")

    run("create_organization", "acme", "--name", "Acme Ltd", "--user", "root")

    organization = Organization.objects.get(slug="acme")
    assert rows_of(organization.history) == [("+", admin, f"operator: {OPERATOR}")]
    assert set(
        VoucherType.history.filter(organization_id=organization.pk).values_list(
            "history_user", flat=True
        )
    ) == {admin.pk}


@pytest.mark.django_db
def test_an_unknown_user_is_refused_and_nothing_is_created():
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("create_organization", "acme", "--name", "Acme Ltd", "--user", "nobody")

    assert not Organization.objects.exists()
    assert not Organization.history.exists()


@pytest.mark.django_db
def test_loading_the_demo_records_the_operator_on_the_organization_and_memberships(
    without_seed_command,
):
    run("load_demo_data")

    organization = Organization.objects.get(slug="demo")
    assert rows_of(organization.history) == [("+", None, f"operator: {OPERATOR}")]
    memberships = Membership.history.filter(organization_id=organization.pk)
    assert sorted(
        (row.user.username, row.role, row.history_type, row.history_change_reason)
        for row in memberships
    ) == [
        ("admin", Role.ADMIN, "+", f"operator: {OPERATOR}"),
        ("clerk", Role.CLERK, "+", f"operator: {OPERATOR}"),
    ]


@pytest.mark.django_db
def test_granting_a_role_again_writes_no_history_and_a_new_role_writes_one(books):
    user = UserFactory()
    admin = UserFactory(username="root")
    stamp = HistoryStamp(user=admin, reason="promoted")

    membership = membership_grant(user=user, organization=books.organization, stamp=stamp)
    membership_grant(user=user, organization=books.organization, stamp=stamp)
    membership_grant(user=user, organization=books.organization, role=Role.ACCOUNTANT, stamp=stamp)

    assert [
        (row.history_type, row.role, row.history_user, row.history_change_reason)
        for row in membership.history.order_by("history_id")
    ] == [
        ("+", Role.CLERK, admin, "promoted"),
        ("~", Role.ACCOUNTANT, admin, "promoted"),
    ]


@pytest.mark.django_db
def test_changing_a_role_in_the_admin_records_the_user_and_the_old_and_new_role(client, books):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    member = books.member(Role.CLERK)
    membership = Membership.objects.get(user=member, organization=books.organization)

    response = client.post(
        reverse("admin:accounting_membership_change", args=[membership.pk]),
        {"user": member.pk, "organization": books.organization.pk, "role": Role.ACCOUNTANT},
    )

    assert response.status_code == 302
    latest = membership.history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.role) == ("~", root, Role.ACCOUNTANT)
    change = latest.diff_against(latest.prev_record).changes
    assert [(c.field, c.old, c.new) for c in change] == [("role", Role.CLERK, Role.ACCOUNTANT)]
    assert (
        client.get(reverse("admin:accounting_membership_history", args=[membership.pk])).status_code
        == 200
    )


@pytest.mark.django_db
def test_renaming_an_organization_in_the_admin_records_who_did_it(client, books):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    organization = books.organization

    client.post(
        reverse("admin:accounting_organization_change", args=[organization.pk]),
        {
            "slug": organization.slug,
            "name": "Acme Trading",
            "base_currency": "USD",
            "date_format": "%Y-%m-%d",
        },
    )

    latest = organization.history.order_by("-history_id").first()
    assert (latest.history_user, latest.name) == (root, "Acme Trading")
    assert latest.prev_record.name == "Acme Ltd"
