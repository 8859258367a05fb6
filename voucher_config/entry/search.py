"""Search-as-you-type for the account and party fields of an entry form: one query each."""

from __future__ import annotations

from django.db.models import Q

from accounting.models import Account, Organization, Party
from accounting.selectors import active_parties, postable_accounts
from voucher_config.definition import AccountFilter, FieldSpec

SEARCH_LIMIT = 20


def account_search(
    *, organization: Organization, spec: FieldSpec, query: str, limit: int = SEARCH_LIMIT
) -> list[Account]:
    """Postable accounts of the organization that the field's filter allows, matching `query`
    at the start of the code or anywhere in the name."""
    flt: AccountFilter = spec.get("filter") or {}
    accounts = postable_accounts(
        organization=organization,
        account_types=flt.get("account_types") or (),
        subtypes=flt.get("subtypes") or (),
    )
    query = query.strip()
    if query:
        accounts = accounts.filter(Q(code__istartswith=query) | Q(name__icontains=query))
    return list(accounts.order_by("code").only("id", "code", "name")[:limit])


def party_search(
    *, organization: Organization, spec: FieldSpec, query: str, limit: int = SEARCH_LIMIT
) -> list[Party]:
    """Active parties of the organization in the field's role, matching `query`."""
    parties = active_parties(organization=organization, role=spec.get("role"))
    query = query.strip()
    if query:
        parties = parties.filter(Q(code__istartswith=query) | Q(name__icontains=query))
    return list(parties.order_by("name", "code").only("id", "code", "name")[:limit])
