"""The rows every poster of a series or an organization waits on, under 8, 32 and 64 posters.

Posting locks two rows until it commits: the counter of the voucher's series (organization ×
voucher type × fiscal year), which keeps numbers gapless, and the organization's chain head,
which keeps the hash chain in order. Concurrent posters of one series queue on both; posters of
one organization in different series queue on the chain head only; posters of different
organizations share neither. Each case runs N processes (one database connection each) posting
2-line vouchers through `voucher_create_posted` for a fixed time, and reports vouchers per
second and the p95 of the lock wait: the time of the statement that takes the two rows (and
writes the voucher), less its median time with a single poster. Afterwards every organization's chain is verified and
every series checked gapless; the run fails otherwise. PostgreSQL only (SQLite lets one writer
in at a time).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, connections

from accounting.models import Account, Organization, VoucherType
from accounting.services.chart import DEMO_CHART, chart_of_accounts_load, chart_rows_from_csv
from accounting.services.inputs import LineInput, VoucherInput
from accounting.services.organizations import fiscal_year_create, organization_create
from accounting.services.posting import voucher_create_posted
from benchmarks.registry import BenchContext, Figure, benchmark

POSTERS = (8, 32, 64)
# The statement that locks the counter and the chain head and writes the voucher
# (accounting/services/posting_postgres).
TAKE_STATEMENT = "WITH facts AS ("


@dataclass(frozen=True)
class Target:
    """What one poster posts into: an organization, a voucher type, a year, two accounts."""

    organization: Organization
    voucher_type: VoucherType
    year: int
    debit_id: int
    credit_id: int


def _organization(slug: str, years: list[int]) -> Organization:
    organization = organization_create(slug=slug, name=f"Hot spot {slug}")
    chart_of_accounts_load(organization=organization, rows=chart_rows_from_csv(DEMO_CHART))
    for year in years:
        fiscal_year_create(
            organization=organization, start=date(year, 1, 1), end=date(year, 12, 31)
        )
    return organization


def _target(organization: Organization, year: int) -> Target:
    ids = dict(Account.objects.filter(organization=organization).values_list("code", "id"))
    payment = VoucherType.objects.get(organization=organization, code="PV")
    return Target(organization, payment, year, ids["5200"], ids["1120"])


def _targets(ctx: BenchContext) -> dict[str, Callable[[int], Target]]:
    """Per case, the target of poster i: one series; one organization in its own year per
    poster; an organization per poster."""
    if "hotspot_targets" not in ctx.state:
        most = max(POSTERS)
        years = [2001 + i for i in range(most)]
        shared = _organization("hot-series", [years[0]])
        one_series = _target(shared, years[0])
        by_year = _organization("hot-chain", years)
        per_year = [_target(by_year, year) for year in years]
        per_org = [
            _target(_organization(f"hot-org-{i}", [years[0]]), years[0]) for i in range(most)
        ]
        ctx.state["hotspot_targets"] = {
            "one series (counter and chain head)": lambda i: one_series,
            "one organization, a series each (chain head)": lambda i: per_year[i],
            "an organization each (nothing shared)": lambda i: per_org[i],
        }
    return ctx.state["hotspot_targets"]


def _voucher(target: Target, serial: int) -> VoucherInput:
    amount = Decimal(100 + serial % 90_000) / 100
    return VoucherInput(
        voucher_type=target.voucher_type,
        date=date(target.year, 1 + serial % 12, 1 + serial % 28),
        lines=[
            LineInput(account_id=target.debit_id, debit=amount, description="hot spot"),
            LineInput(account_id=target.credit_id, credit=amount, description="hot spot"),
        ],
        narration="Hot spot benchmark",
    )


@dataclass
class PosterResult:
    posted: int = 0
    take_ms: list[float] | None = None
    post_ms: list[float] | None = None
    error: str = ""


def _poster(target: Target, start: Any, seconds: float, results: Any, index: int) -> None:
    """One poster, in a process of its own (as a server's workers are): once every poster is
    connected, posts for `seconds`, then sends back its counts and timings."""
    takes: list[float] = []
    posts: list[float] = []
    error = ""

    def time_take(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not sql.startswith(TAKE_STATEMENT):
            return execute(sql, params, many, context)
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            takes.append((time.perf_counter() - before) * 1000)

    serial = 0
    try:
        connection.ensure_connection()
        start.wait()
        until = time.perf_counter() + seconds
        with connection.execute_wrapper(time_take):
            while time.perf_counter() < until:
                before = time.perf_counter()
                voucher_create_posted(
                    organization=target.organization, voucher_input=_voucher(target, serial)
                )
                posts.append((time.perf_counter() - before) * 1000)
                serial += 1
    except Exception as exc:  # reported in the figure's notes; the run goes on
        error = f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()
        results.put((index, PosterResult(serial, takes, posts, error)))


def _run(targets: Callable[[int], Target], posters: int, seconds: float) -> list[PosterResult]:
    """`posters` processes posting at once for `seconds`, each on its own connection."""
    context = multiprocessing.get_context("fork")
    # The children open their own connections; none may inherit this process's socket.
    connections.close_all()
    start = context.Barrier(posters + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_poster, args=(targets(i), start, seconds, results, i))
        for i in range(posters)
    ]
    for process in processes:
        process.start()
    start.wait()
    collected = dict(results.get() for _ in processes)
    for process in processes:
        process.join()
    return [collected[i] for i in range(posters)]


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[94]


@benchmark("H hot spots: counter and chain head", group="hotspots")
def hot_spots(ctx: BenchContext) -> list[Figure]:
    if ctx.vendor != "postgresql":
        return []
    seconds = 2.0 if ctx.quick else 5.0
    figures = []
    for case, targets in _targets(ctx).items():
        # The take statement's own time with nobody to wait for.
        alone = _run(targets, 1, 1.0)[0]
        baseline = statistics.median(alone.take_ms or [0.0])
        for posters in POSTERS:
            results = _run(targets, posters, seconds)
            takes = [t for r in results for t in r.take_ms or []]
            posts = [t for r in results for t in r.post_ms or []]
            errors = [r.error for r in results if r.error]
            waits = [max(0.0, t - baseline) for t in takes]
            figures.append(
                Figure(
                    benchmark=f"H {case}, {posters} posters",
                    unit_count=sum(r.posted for r in results),
                    seconds=seconds,
                    samples_ms=posts,
                    notes=(
                        f"lock wait p95 {_p95(waits):.1f} ms, p50 {statistics.median(waits or [0]):.1f}"
                        f" ms (take alone {baseline:.2f} ms)"
                        + (f"; {len(errors)} posters failed: {errors[0]}" if errors else "")
                    ),
                )
            )
    _books_checked()
    return figures


def _books_checked() -> None:
    """Every organization the posters wrote to: chain clean, each series gapless."""
    from django.db.models import Count, Max, Min

    from accounting.models import Voucher
    from accounting.services.verification import ledger_verify

    for organization in Organization.objects.filter(slug__startswith="hot-"):
        found = ledger_verify(organization=organization)
        if not found.ok:
            raise RuntimeError(f"verify_ledger after the hot spots: {found.summary()}")
    series = (
        Voucher.objects.filter(organization__slug__startswith="hot-", sequence__isnull=False)
        .values("organization", "voucher_type", "fiscal_year")
        .annotate(count=Count("id"), first=Min("sequence"), last=Max("sequence"))
    )
    for row in series:
        if (row["first"], row["last"]) != (1, row["count"]):
            raise RuntimeError(f"numbering has a gap or a repeat after the hot spots: {row}")
