"""Entry-screen browser benchmark E6: what the user waits for, in Debian's chromium.

The page is served by a live server thread over this run's database and driven by Playwright:
time to an interactive form and the add-line round trip (Alt+N until the new row is in the grid),
for a saved payment of 10 and of 250 lines, each load opened from the voucher list. Skipped,
with a note on stderr, without chromium.

The interactive form is the page's own `entry-interactive` User Timing mark, put by entry.js
when the first field has the focus, its handlers are bound and htmx has started; read from the
page's timeline after the fact, it carries none of Playwright's polling. Beside it the Navigation
Timing of the same loads says where the time goes (printed per phase, p50).

    python -m benchmarks.run --only E6 --db sqlite --runs 1
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings
from django.urls import reverse

from accounting.models import Voucher
from benchmarks.entry_screen import FORM, entry_books, payment_data
from benchmarks.registry import BenchContext, Figure, benchmark

CHROMIUM = "/usr/bin/chromium"
PLAIN_STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
MARK = "entry-interactive"
# The mark, and the first paint with content (which may come just after it).
MARKED = (
    f"() => performance.getEntriesByName({MARK!r}, 'mark').length > 0"
    " && performance.getEntriesByName('first-contentful-paint').length > 0"
)
# Milliseconds from the start of navigation, read once the mark is there.
TIMINGS = f"""() => {{
  const nav = performance.getEntriesByType("navigation")[0];
  const mark = performance.getEntriesByName({MARK!r}, "mark")[0];
  return {{
    requestStart: nav.requestStart,
    responseStart: nav.responseStart,
    responseEnd: nav.responseEnd,
    domInteractive: nav.domInteractive,
    domContentLoadedEventStart: nav.domContentLoadedEventStart,
    domContentLoadedEventEnd: nav.domContentLoadedEventEnd,
    interactive: mark.startTime,
    firstContentfulPaint: performance.getEntriesByName("first-contentful-paint")[0].startTime,
    focused: document.activeElement ? document.activeElement.id : "",
    bytes: nav.decodedBodySize,
  }};
}}"""
# (label, from, to): the phases printed, each a p50 of the loads' differences.
PHASES = [
    ("navigation to request sent", None, "requestStart"),
    ("server (request sent to first byte)", "requestStart", "responseStart"),
    ("download (first to last byte)", "responseStart", "responseEnd"),
    ("parse (last byte to DOM interactive)", "responseEnd", "domInteractive"),
    ("deferred scripts (to DOMContentLoaded)", "domInteractive", "domContentLoadedEventStart"),
    ("DOMContentLoaded handlers to the mark", "domContentLoadedEventStart", "interactive"),
    ("interactive (the mark)", None, "interactive"),
    ("first contentful paint", None, "firstContentfulPaint"),
]


def _application_as_is(application: Any) -> Any:
    return application


@contextmanager
def live_server() -> Iterator[str]:
    """A server thread over this run's database, over plain HTTP as a browser on localhost.

    The static files are served as in production: WhiteNoise, from the collected files with
    hashed names and a year's cache lifetime, so a page loaded again asks for none of them.
    The load-time beacon each page sends is answered by this server too, as in use.
    """
    with override_settings(
        ALLOWED_HOSTS=["localhost"],
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        # Each load sends its load-time beacon, as in use; one user loading the page this
        # often would otherwise be over the minute's budget and turned away.
        VOUCHER_METRICS_BEACONS_PER_MINUTE=100_000,
    ):
        thread = LiveServerThread("localhost", _application_as_is, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        try:
            yield f"http://localhost:{thread.port}"
        finally:
            thread.terminate()
            thread.join()


def _draft_of(ctx: BenchContext, lines: int) -> int:
    # The test client calls itself "testserver" over plain HTTP.
    with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
        b = entry_books(ctx)
        if lines == 10:
            return b.draft_10
        data = payment_data(b.definition, b.version, lines, "save")
        new = reverse("entry-new", args=["PV"])
        response = b.client.post(new, urlencode(data), content_type=FORM)
    assert response.status_code == 302, response.content[:2000]
    return Voucher.objects.latest("pk").pk


def print_breakdown(lines: int, timings: list[dict[str, Any]]) -> None:
    """Where the time to an interactive form goes, phase by phase (p50 of each, ms)."""
    size = statistics.median(t["bytes"] for t in timings)
    print(f"E6 breakdown, {lines} lines ({size / 1024:.0f} KiB of HTML), p50 ms:", file=sys.stderr)
    for label, start, end in PHASES:
        spans = [t[end] - (t[start] if start else 0.0) for t in timings]
        print(f"  {label:<42} {statistics.median(spans):7.1f}", file=sys.stderr)


@benchmark("E6 browser: interactive form and add line", group="entry")
def e6_browser(ctx: BenchContext) -> list[Figure]:
    if not os.access(CHROMIUM, os.X_OK):
        print(f"E6 skipped: no chromium at {CHROMIUM}", file=sys.stderr)
        return []
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls here
    # happen between browser steps, never during one.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    drafts = {lines: _draft_of(ctx, lines) for lines in (10, 250)}
    session = entry_books(ctx).client.cookies[settings.SESSION_COOKIE_NAME].value
    count = ctx.scaled(10, 3)
    figures: list[Figure] = []
    with live_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=url)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}])
        # No request routing here (not even to answer the load-time beacon in the browser):
        # Playwright turns the HTTP cache off for a context that routes, and every load would
        # then fetch every script and stylesheet again, which no returning user does.
        page = context.new_page()
        listing = reverse("voucher-list")
        for lines, pk in drafts.items():
            edit = reverse("entry-edit", args=[pk])
            loads, adds = [], []
            page.goto(edit)  # warm-up: templates and form classes cached, as in a running server
            started = time.perf_counter()
            timings: list[dict[str, Any]] = []
            for _ in range(count):
                # Opened from the voucher list, as a user does: reloading the same long page
                # would also time tearing down the last copy of it, which nobody waits for.
                page.goto(listing)
                # Nothing is asked of the page until it has loaded: Playwright's first script
                # in a new page would otherwise be compiled in the middle of the timed load.
                page.goto(edit)
                page.wait_for_function(MARKED)
                timing = page.evaluate(TIMINGS)
                assert timing["focused"] == "id_date", timing
                timings.append(timing)
                loads.append(timing["interactive"])
            load_seconds = time.perf_counter() - started
            print_breakdown(lines, timings)
            rows = page.locator("#line-rows > tr.line")
            started = time.perf_counter()
            for _ in range(count):
                before, shown = time.perf_counter(), rows.count()
                page.keyboard.press("Alt+N")
                page.wait_for_function(
                    f"() => document.querySelectorAll('#line-rows > tr.line').length > {shown}"
                )
                adds.append((time.perf_counter() - before) * 1000)
            add_seconds = time.perf_counter() - started
            figures += [
                Figure(
                    benchmark=f"E6 browser: interactive form, {lines} lines",
                    unit_count=count,
                    seconds=load_seconds,
                    samples_ms=loads,
                    lines=lines,
                    notes="navigation start to the entry-interactive mark",
                ),
                Figure(
                    benchmark=f"E6 browser: add line, {lines} lines",
                    unit_count=count,
                    seconds=add_seconds,
                    samples_ms=adds,
                    lines=lines,
                    notes="Alt+N to the new row in the grid",
                ),
            ]
        browser.close()
    for figure in figures:
        print(
            f"{figure.benchmark}: p50 {figure.percentile_ms(50):.0f} ms,"
            f" p95 {figure.percentile_ms(95):.0f} ms",
            file=sys.stderr,
        )
    return figures
