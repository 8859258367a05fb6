"""An organization's own rollout state as routing reads it: through the default cache, one key per
organization, so a routed request costs no query once the state is cached; dropped on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction

from rollout.models import OrganizationRollout, RolloutMode

CACHE_KEY = "rollout:organization-state:{}"
# A change drops the key after its commit; the timeout only bounds a stale value written by a
# request that read the database just before the change committed.
CACHE_SECONDS = 300


@dataclass(frozen=True)
class OrganizationState:
    mode: str
    percent: Decimal = Decimal(0)
    # The chosen groups, by name, with their members' user ids.
    groups: tuple[tuple[str, frozenset[int]], ...] = ()

    @property
    def inherits(self) -> bool:
        return self.mode == RolloutMode.INHERIT


INHERITED = OrganizationState(mode=RolloutMode.INHERIT)


def organization_state_read(*, organization_id: int) -> OrganizationState:
    """The state from the database, bypassing the cache."""
    row = (
        OrganizationRollout.objects.filter(organization_id=organization_id)
        .prefetch_related("groups__members")
        .first()
    )
    if row is None:
        return INHERITED
    groups = tuple(
        (group.name, frozenset(member.pk for member in group.members.all()))
        for group in sorted(row.groups.all(), key=lambda group: group.name)
    )
    return OrganizationState(mode=row.mode, percent=row.percent, groups=groups)


def organization_state(*, organization_id: int) -> OrganizationState:
    """The state routing goes by: cached, read from the database on a miss."""
    key = CACHE_KEY.format(organization_id)
    state = cache.get(key)
    if not isinstance(state, OrganizationState):
        state = organization_state_read(organization_id=organization_id)
        cache.set(key, state, CACHE_SECONDS)
    return state


def organization_state_forget(*, organization_id: int) -> None:
    """Drops the cached state once the current transaction commits, so the next request on any
    process reads the change."""
    key = CACHE_KEY.format(organization_id)
    cache.delete(key)  # at once too: this process's next read inside the transaction
    transaction.on_commit(lambda: cache.delete(key))
