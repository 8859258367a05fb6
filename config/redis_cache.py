"""Django's Redis cache, with one client per connection pool instead of a new one per call.

Django's Redis backend builds a `redis.Redis` object for every cache call; a page reads the
session, the rollout flag and the configuration from the cache, so building those clients was a
few percent of every request's time. A client is only a handle on the pool (thread-safe, and the
pool reconnects after a fork), so one per pool serves every call.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis


class ReusedClientRedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's private helpers, which its stubs do not describe.
        base: Any = self
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = base._client(connection_pool=base._get_connection_pool(write))
            self._clients[index] = client
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
