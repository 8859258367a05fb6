"""Work run in several threads at once, each on its own database connection, for the tests of
what happens when requests or posters meet."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Runs work(i) in `count` threads that start together; returns what they raised."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker is stuck"
    return errors
