"""The admin scoped by organization: a staff user who administers one organization (rival) sees,
changes and adds only that organization's rows; site-wide models are for superusers only.

The models come from the admin's own registry, and whether a model belongs to an organization is
found from its foreign keys here, not from the admin classes: a model registered later without
scoping fails these tests.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db.models import Model
from django.forms import ModelChoiceField
from django.urls import reverse
from waffle.models import Sample, Switch

from accounting.models import (
    Account,
    AccountingPeriod,
    Membership,
    Organization,
    Party,
    Role,
)
from tests.factories import PartyFactory, UserFactory, post
from voucher_config.services import seed_organization

A_NAME = "Acme Ltd"  # the organization the staff user does not administer (books)


def organization_lookup(model: type[Model]) -> str | None:
    """The lookup from `model` to its organization, following its foreign keys (at most three
    hops); None for a model that belongs to no organization."""
    if model is Organization:
        return "pk"
    frontier: list[tuple[type[Model], str]] = [(model, "")]
    for _ in range(3):
        further = []
        for current, prefix in frontier:
            for field in current._meta.get_fields():
                if not ((field.many_to_one or field.one_to_one) and field.concrete):
                    continue
                if field.related_model is Organization:
                    return f"{prefix}{field.name}"
                further.append((field.related_model, f"{prefix}{field.name}__"))
        frontier = further
    return None


REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
ORGANIZATION_MODELS = [m for m in REGISTERED if organization_lookup(m) is not None]
SITE_WIDE_MODELS = [m for m in REGISTERED if organization_lookup(m) is None]


def label(model: type[Model]) -> str:
    return model._meta.label


def url(model: type[Model], view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def rows_of(model: type[Model], organization: Organization):
    lookup = organization_lookup(model)
    return model._default_manager.filter(**{lookup: organization.pk})


def snapshot(model: type[Model]) -> list[dict]:
    return list(model._default_manager.order_by("pk").values())


@pytest.fixture
def two_organizations(books, other_books):
    """Rows of every model in acme (A) and in rival (B)."""
    for ledger in (books, other_books):
        seed_organization(organization=ledger.organization)
        PartyFactory(organization=ledger.organization)
        clerk = ledger.member(Role.CLERK)
        voucher = post(ledger, ("5200", "100.00", ""), ("1120", "", "100.00"), type_code="PV")
        support_rows(ledger, clerk, voucher)
    return books, other_books


def support_rows(ledger, user, voucher) -> None:
    """A row of each of support's models, and of the ledger's record of refusals."""
    from django.utils import timezone

    from accounting.models import EntryRefusal
    from support.announcements import announcement_publish
    from support.feedback import feedback_send
    from support.models import EntryTiming

    now = timezone.now()
    organization = ledger.organization
    EntryRefusal.objects.create(
        organization=organization,
        user=user,
        voucher_type=voucher.voucher_type,
        action="post",
        channel="config",
        rule="balanced",
        message="is not balanced",
        refused_at=now,
    )
    feedback_send(organization=organization, user=user, message="Slow", path="/")
    announcement_publish(organization=organization, user=None, title="News", message="Monday")
    EntryTiming.objects.create(
        voucher=voucher,
        organization=organization,
        channel="config",
        voucher_type="PV",
        opened_at=now,
        posted_at=now,
        keyboard_only=True,
    )


@pytest.fixture
def rival_admin(other_books):
    """Staff, administrator of rival only, holding every model permission there is: whatever
    it is refused below, the scoping refuses, not a missing permission."""
    user = UserFactory(username="rival-admin", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    Membership.objects.create(user=user, organization=other_books.organization, role=Role.ADMIN)
    return user


@pytest.fixture
def rival_client(client, two_organizations, rival_admin):
    client.force_login(rival_admin)
    return client


def test_the_registry_holds_the_ledger_models_and_the_site_wide_ones():
    assert {"accounting.Voucher", "accounting.Membership", "voucher_config.VoucherTypeConfig"} <= {
        label(m) for m in ORGANIZATION_MODELS
    }
    assert {
        "auth.User",
        "auth.Group",
        "waffle.Flag",
        "waffle.Switch",
        "waffle.Sample",
        "axes.AccessAttempt",
        "axes.AccessFailureLog",
        "axes.AccessLog",
    } == {label(m) for m in SITE_WIDE_MODELS}


@pytest.mark.parametrize("model", ORGANIZATION_MODELS, ids=label)
def test_an_organization_admin_sees_only_their_organization_in_the_changelist(
    rival_client, two_organizations, model
):
    acme, rival = (books.organization for books in two_organizations)
    assert rows_of(model, acme).exists(), f"the fixture needs a row of {label(model)} in acme"
    assert rows_of(model, rival).exists(), f"the fixture needs a row of {label(model)} in rival"

    response = rival_client.get(url(model, "changelist"))

    assert response.status_code == 200
    shown = response.context["cl"].queryset
    assert not shown.filter(pk__in=rows_of(model, acme)).exists()
    assert set(shown.values_list("pk", flat=True)) == set(
        rows_of(model, rival).values_list("pk", flat=True)
    )
    assert A_NAME not in response.content.decode()  # not even in a filter's choices


@pytest.mark.parametrize("model", ORGANIZATION_MODELS, ids=label)
def test_another_organizations_row_answers_404_on_every_page_and_stays_unchanged(
    rival_client, two_organizations, model
):
    acme = two_organizations[0].organization
    row = rows_of(model, acme).first()
    before = snapshot(model)
    pages = [url(model, "change", row.pk), url(model, "delete", row.pk)]
    pages.append(url(model, "history", row.pk))
    history = getattr(model, "history", None)
    if history is not None:
        version = history.filter(**{model._meta.pk.attname: row.pk}).first()
        assert version is not None, f"the fixture's {label(model)} row has no history"
        pages.append(url(model, "simple_history", row.pk, version.history_id))

    for page in pages:
        assert rival_client.get(page).status_code == 404, page
        assert rival_client.post(page, {"post": "yes", "name": "taken"}).status_code == 404, page

    assert snapshot(model) == before


def _organization_choice(model: type[Model], organization: Organization) -> tuple[str, int]:
    """The form field that places a new row in an organization, and its value for one of that
    organization's rows."""
    hop, _, rest = organization_lookup(model).partition("__")
    related = model._meta.get_field(hop).related_model
    return hop, related._default_manager.get(**{rest or "pk": organization.pk}).pk
    # get(): the fixture has one row of the first hop per organization (itself, or its year)


def _choices_of_other_organizations(form, acme: Organization) -> list[str]:
    leaks = []
    for name, field in form.fields.items():
        if (
            isinstance(field, ModelChoiceField)
            and organization_lookup(field.queryset.model)
            and field.queryset.filter(pk__in=rows_of(field.queryset.model, acme)).exists()
        ):
            leaks.append(name)
    return leaks


@pytest.mark.parametrize("model", ORGANIZATION_MODELS, ids=label)
def test_a_row_cannot_be_added_to_another_organization(rival_client, two_organizations, model):
    acme, rival = (books.organization for books in two_organizations)
    before = snapshot(model)
    page = rival_client.get(url(model, "add"))

    if page.status_code == 403:  # rows only services write, and organizations themselves
        assert rival_client.post(url(model, "add"), {}).status_code == 403
    else:
        assert page.status_code == 200
        form = page.context["adminform"].form
        assert _choices_of_other_organizations(form, acme) == []
        field, acme_value = _organization_choice(model, acme)
        assert set(form.fields[field].queryset.values_list("pk", flat=True)) >= {
            _organization_choice(model, rival)[1]
        }

        forged = rival_client.post(url(model, "add"), {field: acme_value})

        assert forged.status_code == 200
        errors = forged.context["adminform"].form.errors
        assert "Select a valid choice" in str(errors[field])
    assert snapshot(model) == before


@pytest.mark.parametrize("model", ORGANIZATION_MODELS, ids=label)
def test_an_organization_admin_opens_their_own_rows(rival_client, two_organizations, model):
    acme, rival = (books.organization for books in two_organizations)
    row = rows_of(model, rival).first()

    page = rival_client.get(url(model, "change", row.pk))

    assert page.status_code == 200
    assert _choices_of_other_organizations(page.context["adminform"].form, acme) == []
    assert rival_client.get(url(model, "history", row.pk)).status_code == 200


@pytest.fixture
def site_wide_rows(db):
    Switch.objects.create(name="probe", active=False)
    Sample.objects.create(name="probe", percent=50)
    Group.objects.get_or_create(name="Voucher UI testers")
    attempt = {"username": "someone", "ip_address": "203.0.113.9", "user_agent": "probe"}
    AccessAttempt.objects.create(**attempt, failures_since_start=3)
    AccessFailureLog.objects.create(**attempt, locked_out=False)
    AccessLog.objects.create(**attempt)


@pytest.mark.parametrize("model", SITE_WIDE_MODELS, ids=label)
def test_site_wide_models_are_refused_to_staff_holding_their_permissions(
    rival_client, rival_admin, site_wide_rows, model
):
    row = model._default_manager.order_by("pk").first()
    assert row is not None, f"the fixture needs a row of {label(model)}"
    before = snapshot(model)

    assert rival_client.get(url(model, "changelist")).status_code == 403
    assert rival_client.get(url(model, "add")).status_code == 403
    assert rival_client.get(url(model, "change", row.pk)).status_code == 403
    assert rival_client.post(url(model, "change", row.pk), {"name": "x"}).status_code == 403
    assert rival_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    index = rival_client.get(reverse("admin:index")).content.decode()
    assert url(model, "changelist") not in index
    assert snapshot(model) == before
    assert rival_admin.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")


def test_staff_cannot_make_themselves_a_member_of_another_organization(
    rival_client, rival_admin, two_organizations
):
    acme = two_organizations[0].organization
    mine = Membership.objects.get(user=rival_admin)
    forged = {"user": rival_admin.pk, "organization": acme.pk, "role": Role.ADMIN}

    added = rival_client.post(url(Membership, "add"), forged)
    moved = rival_client.post(url(Membership, "change", mine.pk), forged)

    assert added.status_code == moved.status_code == 200
    assert "organization" in added.context["adminform"].form.errors
    assert "organization" in moved.context["adminform"].form.errors
    assert not Membership.objects.filter(organization=acme, user=rival_admin).exists()
    mine.refresh_from_db()
    assert mine.organization_id != acme.pk


def test_an_organization_admin_adds_a_member_and_an_account_in_their_organization(
    rival_client, two_organizations
):
    rival = two_organizations[1].organization
    newcomer = UserFactory(username="newcomer")

    member = rival_client.post(
        url(Membership, "add"),
        {"user": newcomer.pk, "organization": rival.pk, "role": Role.ACCOUNTANT},
    )
    account = rival_client.post(
        url(Account, "add"),
        {
            "organization": rival.pk,
            "code": "6999",
            "name": "Sundry",
            "account_type": "expense",
            "subtype": "",
            "is_active": "on",
        },
    )

    assert (member.status_code, account.status_code) == (302, 302)
    assert Membership.objects.get(user=newcomer).organization == rival
    assert Account.objects.get(organization=rival, code="6999").name == "Sundry"


def test_an_account_cannot_name_a_parent_of_another_organization(rival_client, two_organizations):
    acme, rival = (books.organization for books in two_organizations)
    account = Account.objects.get(organization=rival, code="5200")
    acme_parent = Account.objects.filter(organization=acme).first()
    parent_before = account.parent_id

    response = rival_client.post(
        url(Account, "change", account.pk),
        {
            "organization": rival.pk,
            "code": "5200",
            "name": account.name,
            "account_type": account.account_type,
            "subtype": account.subtype,
            "is_active": "on",
            "parent": acme_parent.pk,
        },
    )

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.parent_id == parent_before != acme_parent.pk


def test_an_organization_admin_renames_their_organization_but_cannot_add_or_delete_one(
    rival_client, two_organizations
):
    rival = two_organizations[1].organization
    change = url(Organization, "change", rival.pk)

    renamed = rival_client.post(
        change,
        {"slug": "rival", "name": "Rival Group", "base_currency": "USD", "date_format": "%Y-%m-%d"},
    )

    assert renamed.status_code == 302
    assert Organization.objects.get(pk=rival.pk).name == "Rival Group"
    assert (
        rival_client.post(url(Organization, "delete", rival.pk), {"post": "yes"}).status_code == 403
    )
    assert Organization.objects.filter(pk=rival.pk).exists()


def test_staff_who_administer_no_organization_see_no_ledger_model(client, two_organizations):
    accountant = two_organizations[1].member(Role.ACCOUNTANT)
    accountant.is_staff = True
    accountant.save()
    accountant.user_permissions.set(Permission.objects.all())
    client.force_login(accountant)

    assert client.get(url(Account, "changelist")).status_code == 403
    assert client.get(url(Account, "add")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert url(Account, "changelist") not in index


def test_a_superuser_sees_every_organization(client, two_organizations):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get(url(Account, "changelist"))

    assert response.context["cl"].queryset.count() == Account.objects.count()
    orgs = client.get(url(Organization, "changelist")).context["cl"].queryset
    assert orgs.count() == 2


def test_closing_periods_from_the_list_cannot_reach_another_organization(
    rival_client, two_organizations
):
    acme, rival = (books.organization for books in two_organizations)
    acme_period = AccountingPeriod.objects.filter(fiscal_year__organization=acme).first()
    rival_period = AccountingPeriod.objects.filter(fiscal_year__organization=rival).first()

    rival_client.post(
        url(AccountingPeriod, "changelist"),
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-0-id": rival_period.pk,
            "form-0-is_closed": "on",
            "form-1-id": acme_period.pk,
            "form-1-is_closed": "on",
            "_save": "Save",
        },
    )

    acme_period.refresh_from_db()
    assert acme_period.is_closed is False


def test_a_bulk_delete_cannot_reach_another_organizations_rows(rival_client, two_organizations):
    acme, rival = (books.organization for books in two_organizations)
    acme_party = Party.objects.get(organization=acme)
    rival_party = Party.objects.get(organization=rival)

    rival_client.post(
        url(Party, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [acme_party.pk, rival_party.pk],
            "post": "yes",
        },
    )

    assert Party.objects.filter(pk=acme_party.pk).exists()
    assert not Party.objects.filter(pk=rival_party.pk).exists()
