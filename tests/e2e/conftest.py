"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Every page records what the browser complained about (console errors, uncaught exceptions,
Content-Security-Policy violations, server errors), and every browser test fails if there was
any it did not declare expected (`browser_problems.allow`).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.utils import override_settings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from accounting.models import Role
from tests.factories import Books
from voucher_config.services import seed_organization

# Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM
# calls made while one runs; the tests' own queries happen between browser steps, never during.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery"
TIMEOUT_MS = 10_000  # generous for a loaded CI machine; a passing run waits far less
expect.set_options(timeout=TIMEOUT_MS)

# Runs in every page before its own scripts, outside the page's Content-Security-Policy: a
# violation the browser only reports as an event still reaches the console this way.
REPORT_PROBLEMS = Path(__file__).with_name("report_problems.js")


# An in-memory SQLite test database is one connection, shared by the test and every server
# thread; used by two threads at once it fails ("bad parameter or other API misuse"), and one
# request's transaction must not swallow another request's queries. So the server
# answers one request at a time (htmx sends several at once), and each query of the test
# itself waits for the request in progress.
DATABASE_TURN = threading.RLock()


class OneRequestAtATime(StaticFilesHandler):
    def __call__(self, environ, start_response):
        with DATABASE_TURN:
            return super().__call__(environ, start_response)


def take_turn(execute, sql, params, many, context):
    with DATABASE_TURN:
        return execute(sql, params, many, context)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, django_db_setup) -> Iterator[LiveServer]:
    """pytest-django's live server (static files included), started with HTTPS redirection off.

    SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread builds its
    handler, so the per-test `plain_http` fixture comes too late for it. It starts after the
    test database exists, so that an in-memory SQLite database is shared with the server thread.
    """
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    shared = list(server.thread.connections_override.values())
    if shared:
        server.thread.static_handler = OneRequestAtATime
        for connection in shared:
            connection.execute_wrappers.append(take_turn)
    with override_settings(SECURE_SSL_REDIRECT=False):
        server.start()
    yield server
    server.stop()
    for connection in shared:
        connection.execute_wrappers.remove(take_turn)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's event loop stops between modules, so the rest of the suite
    # runs without it.
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class BrowserProblems:
    """What the browser reported while a test ran."""

    messages: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow(self, *patterns: str) -> None:
        """Problems matching these patterns are what the test provokes on purpose."""
        self.allowed.extend(patterns)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content-Security-Policy" in message.text:
            where = message.location.get("url") or "page"
            self.messages.append(f"console {message.type} ({where}): {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.messages.append(f"HTTP {response.status} from {response.url}")

    def assert_none(self, *, expected: Sequence[str] = ()) -> None:
        """No problems, except those matching one of the `expected` or allowed patterns."""
        self.allow(*expected)
        unexpected = [
            message
            for message in self.messages
            if not any(re.search(pattern, message) for pattern in self.allowed)
        ]
        assert not unexpected, "the browser reported:\n" + "\n".join(unexpected)


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture(autouse=True)
def no_browser_problems(request: pytest.FixtureRequest) -> Iterator[None]:
    """The one check every browser test gets: set up before the browser (so it is torn down
    after the pages closed), it fails the test on any problem the browser reported."""
    if not any(request.node.get_closest_marker(mark) for mark in ("browser", "docs")):
        yield
        return
    problems: BrowserProblems = request.getfixturevalue("browser_problems")
    yield
    problems.assert_none()


def open_context(
    browser: Browser,
    live_server: LiveServer,
    problems: BrowserProblems,
    **options,
) -> BrowserContext:
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=REPORT_PROBLEMS)
    # The load-time beacon (tested in tests/rollout/test_metrics.py) is answered in the
    # browser: sent on its own whenever a page loads or hides, it would otherwise write to the
    # shared test database at moments no test step waits for.
    context.route("**/metrics/beacon/", lambda route: route.fulfill(status=204))
    context.on("page", problems.watch)
    return context


def close_context(context: BrowserContext) -> None:
    """Closes the browser, then waits until the server has answered all it was sent, so that
    no request is still writing while the database is emptied for the next test."""
    context.close()
    deadline = time.monotonic() + 10
    while any(thread.name.endswith("(process_request_thread)") for thread in threading.enumerate()):
        assert time.monotonic() < deadline, "the live server is still answering a request"
        time.sleep(0.02)


@pytest.fixture
def new_context(browser, live_server, browser_problems) -> Iterator[Callable[..., BrowserContext]]:
    """Opens browser contexts (Playwright's options, e.g. java_script_enabled=False), each
    watched for problems and closed after the test."""
    opened: list[BrowserContext] = []

    def open_one(**options) -> BrowserContext:
        opened.append(open_context(browser, live_server, browser_problems, **options))
        return opened[-1]

    yield open_one
    for context in opened:
        close_context(context)


@pytest.fixture
def context(new_context) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture
def seeded_books(transactional_db) -> Books:
    """The demo books of 2026 (today's year) with the baseline voucher configurations."""
    books = Books(year=2026)
    seed_organization(organization=books.organization)
    return books


@pytest.fixture
def accountant(seeded_books):
    return seeded_books.member(Role.ACCOUNTANT)


@pytest.fixture
def log_in() -> Callable[[Page, object], None]:
    """Signs a user in through the real login page."""

    def sign_in(page: Page, user) -> None:
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).not_to_have_url(re.compile(r"/login/"))

    return sign_in


@pytest.fixture
def demo_books(transactional_db):
    """The demo organization `make run` loads (its chart, parties, users admin and clerk, a
    year of posted vouchers) with the configuration screen on for everyone: what the manual
    shows."""
    from io import StringIO

    from django.core.management import call_command
    from waffle.models import Flag

    from accounting.services.demo import demo_data_load
    from rollout.routing import FLAG_NAME

    result = demo_data_load()
    seed_organization(organization=result.organization)
    Flag.objects.get_or_create(name=FLAG_NAME, defaults={"everyone": None})
    call_command("voucher_rollout", "everyone", stdout=StringIO())
    return result.organization


@pytest.fixture
def log_in_as() -> Callable[[Page, str, str], None]:
    """Signs a user in by name and password through the real login page."""

    def sign_in(page: Page, username: str, password: str) -> None:
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page).not_to_have_url(re.compile(r"/login/"))

    return sign_in
