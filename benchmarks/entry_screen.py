"""Entry-screen benchmarks E1–E4: server time of the configuration-driven entry page and partials.

Requests go through Django's test client, so the figures are the whole server side (middleware,
session, permission checks, view, template) without the network. Each request is timed alone;
a few warm-up requests run first, as a running server would have its templates and form classes
cached. Targets (2-core machine): page under 30 ms with 10 lines and under 500 ms with 1,000,
partials under 10 ms (p95).

    python -m benchmarks.run --only E --db sqlite           # 3 fresh SQLite databases
    python -m benchmarks.run --only E --db sqlite --runs 1  # quicker

The notes column of run.py's table gives each figure's target and whether its p95 met it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from accounting.models import Membership, Role, Voucher
from accounting.services.chart import DEMO_CHART, chart_of_accounts_load, chart_rows_from_csv
from accounting.services.organizations import fiscal_year_create, organization_create
from benchmarks.posting import count_queries
from benchmarks.registry import BenchContext, Figure, benchmark

YEAR = 2025
EXPENSES = ["5200", "5300", "5400", "5500", "5600", "5700", "5800", "5900"]
HX = {"HX-Request": "true"}
WARM_UP = 3
FORM = "application/x-www-form-urlencoded"  # what a browser and htmx send, not multipart

# Target p95 in milliseconds, by benchmark name prefix.
TARGETS = {"E1": 30.0, "E2": 500.0, "E3": 10.0}


@dataclass
class EntryBooks:
    client: Client
    definition: dict[str, Any]
    version: int
    draft_10: int
    draft_1000: int
    data_10: dict[str, str]


def payment_data(
    books_def: dict[str, Any], version: int, lines: int, action: str
) -> dict[str, str]:
    from voucher_config.form_factory import raw_form_data

    rows = [
        {
            "account": EXPENSES[n % len(EXPENSES)],
            "amount": f"{(n % 97) + 1}.{n % 100:02d}",
            "description": f"Expense {n + 1}",
        }
        for n in range(lines)
    ]
    header = {"date": date(YEAR, 6, 15).isoformat(), "bank_account": "1120", "reference": "BENCH"}
    data = raw_form_data(books_def, header, rows)
    data["config_version"] = str(version)
    data["action"] = action
    return data


def entry_books(ctx: BenchContext) -> EntryBooks:
    """The organization, user and two saved drafts the entry benchmarks share within one run."""
    if "entry_books" in ctx.state:
        return ctx.state["entry_books"]
    from rollout.switch import rollout_set
    from voucher_config.models import VoucherTypeConfig
    from voucher_config.services import seed_organization

    organization = organization_create(slug="entry-bench", name="Entry Benchmark Ltd")
    chart_of_accounts_load(organization=organization, rows=chart_rows_from_csv(DEMO_CHART))
    fiscal_year_create(organization=organization, start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
    seed_organization(organization=organization)
    rollout_set(
        acting_user=None, operator="benchmark", everyone=True
    )  # the configuration UI serves /vouchers/…; E5 switches it off
    user = get_user_model().objects.create_user("entry-bench", password=None)
    Membership.objects.create(user=user, organization=organization, role=Role.ACCOUNTANT)
    config = VoucherTypeConfig.objects.get(organization=organization, voucher_type__code="PV")
    client = Client()
    client.force_login(user)
    new = reverse("entry-new", args=["PV"])
    drafts = []
    for lines in (10, 1000):
        data = payment_data(config.definition, config.version, lines, "save")
        response = client.post(new, urlencode(data), content_type=FORM)
        assert response.status_code == 302, response.content[:2000]
        drafts.append(Voucher.objects.filter(organization=organization).latest("pk").pk)
    ctx.state["entry_books"] = EntryBooks(
        client=client,
        definition=config.definition,
        version=config.version,
        draft_10=drafts[0],
        draft_1000=drafts[1],
        data_10=payment_data(config.definition, config.version, 10, "save"),
    )
    return ctx.state["entry_books"]


def _measure(
    name: str,
    request: Callable[[], Any],
    count: int,
    *,
    lines: int,
    expect: tuple[int, ...] = (200,),
) -> Figure:
    for _ in range(WARM_UP):
        request()
    samples = []
    clock = time.perf_counter
    started = clock()
    for _ in range(count):
        before = clock()
        response = request()
        samples.append((clock() - before) * 1000)
        if response.status_code not in expect:
            raise AssertionError(f"{name}: HTTP {response.status_code}")
    seconds = clock() - started
    queries, _ = count_queries(request)
    figure = Figure(
        benchmark=name,
        unit_count=count,
        seconds=seconds,
        samples_ms=samples,
        queries=queries,
        lines=lines,
    )
    target = next((ms for prefix, ms in TARGETS.items() if name.startswith(prefix)), None)
    if target is not None:
        verdict = "met" if figure.percentile_ms(95) < target else "MISSED"
        figure.notes = f"target p95 < {target:g} ms: {verdict}"
    return figure


def _serving() -> override_settings:
    # The test client calls itself "testserver" over plain HTTP; production settings would
    # refuse the host or redirect to HTTPS before the view ran.
    return override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False)


@benchmark("E1 entry page, 10 lines", group="entry")
def e1_page_10(ctx: BenchContext) -> list[Figure]:
    with _serving():
        b = entry_books(ctx)
        url = reverse("entry-edit", args=[b.draft_10])
        return [
            _measure(
                "E1 entry page, 10 lines", lambda: b.client.get(url), ctx.scaled(200, 40), lines=10
            ),
            _measure(
                "E1 new entry page",
                lambda: b.client.get(reverse("entry-new", args=["PV"])),
                ctx.scaled(200, 40),
                lines=2,
            ),
        ]


@benchmark("E2 entry page, 1,000 lines", group="entry")
def e2_page_1000(ctx: BenchContext) -> list[Figure]:
    with _serving():
        b = entry_books(ctx)
        url = reverse("entry-edit", args=[b.draft_1000])
        return [
            _measure(
                "E2 entry page, 1,000 lines",
                lambda: b.client.get(url),
                ctx.scaled(20, 5),
                lines=1000,
            )
        ]


@benchmark("E3 partials, 10 lines", group="entry")
def e3_partials(ctx: BenchContext) -> list[Figure]:
    with _serving():
        b = entry_books(ctx)
        count = ctx.scaled(200, 40)
        data = b.data_10

        def post(name: str, extra: dict[str, str] | None = None) -> Callable[[], Any]:
            url = reverse(f"entry-{name}", args=["PV"])
            payload = urlencode({**data, **(extra or {})})
            return lambda: b.client.post(url, payload, content_type=FORM, headers=HX)

        def get(name: str, params: dict[str, str]) -> Callable[[], Any]:
            url = reverse(f"entry-{name}", args=["PV"])
            return lambda: b.client.get(url, params, headers=HX)

        partials = [
            ("E3 add line", post("add-line")),
            ("E3 remove line", post("remove-line", {"action": "remove_line-3"})),
            ("E3 live totals", post("totals")),
            ("E3 validate a header field", post("validate", {"changed": "bank_account"})),
            ("E3 validate a line field", post("validate", {"changed": "lines-4-amount"})),
            ("E3 preview", post("preview")),
            (
                "E3 account search",
                get("account-search", {"field": "account", "section": "line", "q": "5"}),
            ),
            (
                "E3 party search",
                get("party-search", {"field": "party", "section": "header", "q": "a"}),
            ),
        ]
        return [_measure(name, request, count, lines=10) for name, request in partials]


@benchmark("E4 save+post, 10 lines", group="entry")
def e4_save_post(ctx: BenchContext) -> list[Figure]:
    with _serving():
        b = entry_books(ctx)
        url = reverse("entry-new", args=["PV"])
        figures = []
        for name, lines, count in (
            ("E4 save+post, 10 lines", 10, ctx.scaled(100, 20)),
            ("E4 save+post, 1,000 lines", 1000, ctx.scaled(5, 2)),
        ):
            payload = urlencode(payment_data(b.definition, b.version, lines, "post"))
            figures.append(
                _measure(
                    name,
                    lambda payload=payload: b.client.post(
                        url, payload, content_type=FORM, headers=HX
                    ),
                    count,
                    lines=lines,
                )
            )
        return figures


@benchmark("E5 legacy entry page, 10 lines", group="entry")
def e5_legacy_page(ctx: BenchContext) -> list[Figure]:
    """The same saved voucher, at the same URL, served by the legacy UI: the comparison the
    rollout's go/no-go needs (the configuration page no more than 5 % slower)."""
    from rollout.switch import rollout_set

    with _serving():
        b = entry_books(ctx)
        url = reverse("entry-edit", args=[b.draft_10])
        count = ctx.scaled(200, 40)
        config = _measure(
            "E5 config entry page, 10 lines", lambda: b.client.get(url), count, lines=10
        )
        rollout_set(acting_user=None, operator="benchmark", everyone=False)
        try:
            legacy = _measure(
                "E5 legacy entry page, 10 lines", lambda: b.client.get(url), count, lines=10
            )
        finally:
            rollout_set(acting_user=None, operator="benchmark", everyone=True)
        ratio = config.percentile_ms(50) / legacy.percentile_ms(50)
        config.notes = f"config / legacy p50: {ratio:.2f} (target ≤ 1.05)"
        return [config, legacy]
