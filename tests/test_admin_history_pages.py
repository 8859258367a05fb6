"""The admin's history pages carry no inline style or script: the Content-Security-Policy
(style-src 'self', script-src 'self') would refuse them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounting.services.posting import voucher_create_posted
from tests.factories import PartyFactory, UserFactory
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import seed_organization

STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


@pytest.fixture
def audited(books, client):
    """A posted voucher, a renamed account and a configuration, each with history; a superuser."""
    seed_organization(organization=books.organization)
    PartyFactory(organization=books.organization)
    voucher = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "100.00", ""), ("1120", "", "100.00"), type_code="PV"),
    )
    account = books.account("5200")
    account.name = "Travel and subsistence"
    account.save()
    config = VoucherTypeConfig.objects.get(organization=books.organization, voucher_type__code="PV")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return {"voucher": voucher, "account": account, "config": config}


def history_urls(obj) -> list[str]:
    """The object's history list and the page of its latest version."""
    prefix = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"
    version = obj.history.first()
    return [
        reverse(f"{prefix}_history", args=[obj.pk]),
        reverse(f"{prefix}_simple_history", args=[obj.pk, version.pk]),
    ]


@pytest.mark.parametrize("name", ["voucher", "account", "config"])
def test_history_pages_have_no_inline_style_or_script(audited, client, name):
    obj = audited[name]
    for url in history_urls(obj):
        response = client.get(url)
        html = response.content.decode()

        assert response.status_code == 200, url
        assert "style-src 'self'" in response["Content-Security-Policy"]
        assert STYLE_ATTRIBUTE.findall(html) == [], url
        assert INLINE_SCRIPT.findall(html) == [], url


def test_history_list_keeps_its_look_through_the_site_stylesheet(audited, client):
    response = client.get(history_urls(audited["account"])[0])
    html = response.content.decode()

    assert 'class="paginator history-paginator"' in html
    assert 'href="/static/css/admin.css"' in html
    assert "Travel and subsistence" in html  # the versions are listed, the override lost nothing


def test_configuration_versions_page_has_no_inline_style_or_script(audited, client):
    url = reverse("admin:voucher_config_vouchertypeconfig_versions", args=[audited["config"].pk])
    html = client.get(url).content.decode()

    assert STYLE_ATTRIBUTE.findall(html) == []
    assert INLINE_SCRIPT.findall(html) == []
