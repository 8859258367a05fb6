"""Posting workloads W1, W2 and W3 from BENCHMARKS.md, through the posting service itself.

Every voucher is created and posted in its own transaction by `voucher_create_posted`, the call
the entry views, the import and the commands make; W1 is also run the draft way
(`voucher_draft_create`, then `voucher_post`). The books grow: W2 and W3 post into the books W1
left. Inputs are built before the clock starts, so the figures are the service's own time.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.models import Account, Organization, VoucherType
from accounting.services.chart import DEMO_CHART, chart_of_accounts_load, chart_rows_from_csv
from accounting.services.drafts import voucher_draft_create
from accounting.services.inputs import LineInput, VoucherInput
from accounting.services.organizations import fiscal_year_create, organization_create
from accounting.services.posting import voucher_create_posted, voucher_post
from benchmarks.registry import BenchContext, Figure, benchmark

YEAR = 2025
EXPENSE_CODES = [
    "5100", "5200", "5300", "5400", "5500", "5600", "5700",
    "5800", "5900", "5910", "5920", "5930", "5940",
]  # fmt: skip
BANK_CODE = "1120"


@dataclass
class PostingBooks:
    organization: Organization
    payment: VoucherType
    journal: VoucherType
    expense_ids: list[int]
    bank_id: int
    user: Any
    random: random.Random


def books(ctx: BenchContext) -> PostingBooks:
    """The organization the posting workloads share within one run, made on first use."""
    if "posting_books" not in ctx.state:
        organization = organization_create(slug="bench", name="Benchmark Ltd")
        chart_of_accounts_load(organization=organization, rows=chart_rows_from_csv(DEMO_CHART))
        fiscal_year_create(
            organization=organization, start=date(YEAR, 1, 1), end=date(YEAR, 12, 31)
        )
        ids = dict(Account.objects.filter(organization=organization).values_list("code", "id"))
        types = {t.code: t for t in VoucherType.objects.filter(organization=organization)}
        user = get_user_model().objects.create_user("bench-poster", password=None)
        ctx.state["posting_books"] = PostingBooks(
            organization=organization,
            payment=types["PV"],
            journal=types["JV"],
            expense_ids=[ids[code] for code in EXPENSE_CODES],
            bank_id=ids[BANK_CODE],
            user=user,
            random=random.Random(20250101),
        )
    return ctx.state["posting_books"]


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(100, 99_999)) / 100  # 1.00 to 999.99


def _payment(
    b: PostingBooks, debit_count: int, voucher_type: VoucherType | None = None
) -> VoucherInput:
    """Debits to expense accounts (cycling through the 13), one credit to the bank for the sum."""
    rng = b.random
    start = rng.randrange(len(b.expense_ids))
    debits = [
        LineInput(
            account_id=b.expense_ids[(start + i) % len(b.expense_ids)],
            debit=_amount(rng),
            description=f"expense {i + 1}",
        )
        for i in range(debit_count)
    ]
    total = sum((line.debit for line in debits), Decimal("0.00"))
    return VoucherInput(
        voucher_type=voucher_type or b.payment,
        date=date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)),
        lines=[*debits, LineInput(account_id=b.bank_id, credit=total, description="bank")],
        reference=f"REF-{rng.randrange(10**6):06d}",
        narration="Benchmark payment",
    )


def count_queries(action: Callable[[], object]) -> tuple[int, dict[str, int]]:
    """SQL statements one action sends, BEGIN, COMMIT and savepoints included.

    Django 6 records BEGIN and COMMIT in the query log even though they are not cursor calls
    (psycopg sends BEGIN as its own round trip before the first statement; SQLite gets an
    explicit `BEGIN IMMEDIATE`). Older Django versions did not log BEGIN, so it is added here
    when a COMMIT is seen without one.
    """
    with CaptureQueriesContext(connection) as captured:
        action()
    # Statements bound on the server are logged by Django as "QUERY = '<sql>' - PARAMS = …".
    texts = [q["sql"].removeprefix("QUERY = '") for q in captured.captured_queries]
    kinds = Counter(text.split(None, 1)[0].upper() for text in texts)
    if kinds["COMMIT"] and not kinds["BEGIN"]:
        kinds["BEGIN"] += kinds["COMMIT"]
    return sum(kinds.values()), dict(sorted(kinds.items()))


def _timed(
    inputs: list[VoucherInput], post: Callable[[VoucherInput], object]
) -> tuple[float, list[float]]:
    samples = []
    clock = time.perf_counter
    started = clock()
    for voucher_input in inputs:
        before = clock()
        post(voucher_input)
        samples.append((clock() - before) * 1000)
    return clock() - started, samples


def _create_posted(b: PostingBooks) -> Callable[[VoucherInput], object]:
    def post(voucher_input: VoucherInput) -> object:
        return voucher_create_posted(
            organization=b.organization, voucher_input=voucher_input, user=b.user
        )

    return post


def _workload(ctx: BenchContext, name: str, vouchers: int, debit_count: int) -> list[Figure]:
    b = books(ctx)
    inputs = [_payment(b, debit_count) for _ in range(vouchers)]
    seconds, samples = _timed(inputs, _create_posted(b))
    one_more = _payment(b, debit_count)
    queries, kinds = count_queries(lambda: _create_posted(b)(one_more))
    return [
        Figure(
            benchmark=name,
            unit_count=vouchers,
            seconds=seconds,
            samples_ms=samples,
            queries=queries,
            query_kinds=kinds,
            lines=debit_count + 1,
        )
    ]


@benchmark("W1 create+post, 2 lines", group="posting")
def w1(ctx: BenchContext) -> list[Figure]:
    return _workload(ctx, "W1 create+post, 2 lines", ctx.scaled(1000, 200), 1)


@benchmark("W2 create+post, 14 lines", group="posting")
def w2(ctx: BenchContext) -> list[Figure]:
    return _workload(ctx, "W2 create+post, 14 lines", ctx.scaled(300, 60), 13)


@benchmark("W3 create+post, 1,000 lines", group="posting")
def w3(ctx: BenchContext) -> list[Figure]:
    return _workload(ctx, "W3 create+post, 1,000 lines", 1, 999)


@benchmark("W1 draft, then post, 2 lines", group="posting")
def w1_draft_then_post(ctx: BenchContext) -> list[Figure]:
    """W1 the way the entry screen works: save a draft (one transaction), then post it (another).

    Uses the journal type so that its numbers start at 1 like W1's did.
    """
    b = books(ctx)
    vouchers = ctx.scaled(1000, 200)
    inputs = [_payment(b, 1, b.journal) for _ in range(vouchers)]
    post_samples: list[float] = []
    clock = time.perf_counter

    def draft_then_post(voucher_input: VoucherInput) -> None:
        draft = voucher_draft_create(
            organization=b.organization, voucher_input=voucher_input, user=b.user
        )
        before = clock()
        voucher_post(voucher=draft, user=b.user)
        post_samples.append((clock() - before) * 1000)

    seconds, samples = _timed(inputs, draft_then_post)
    draft = voucher_draft_create(
        organization=b.organization, voucher_input=_payment(b, 1, b.journal), user=b.user
    )
    queries, kinds = count_queries(lambda: voucher_post(voucher=draft, user=b.user))
    draft_queries, _ = count_queries(
        lambda: voucher_draft_create(
            organization=b.organization, voucher_input=_payment(b, 1, b.journal), user=b.user
        )
    )
    return [
        Figure(
            benchmark="W1 draft, then post, 2 lines",
            unit_count=vouchers,
            seconds=seconds,
            samples_ms=samples,
            queries=queries + draft_queries,
            lines=2,
            notes=f"draft {draft_queries} + post {queries} queries",
        ),
        Figure(
            benchmark="W1 voucher_post of a draft, 2 lines",
            unit_count=vouchers,
            seconds=sum(post_samples) / 1000,
            samples_ms=post_samples,
            queries=queries,
            query_kinds=kinds,
            lines=2,
            notes="time of voucher_post alone",
        ),
    ]


@benchmark("W3 voucher_post of a draft, 1,000 lines", group="posting")
def w3_post_of_draft(ctx: BenchContext) -> list[Figure]:
    """Posting a saved 1,000-line draft: the same queries as a 2-line one."""
    b = books(ctx)
    draft = voucher_draft_create(
        organization=b.organization, voucher_input=_payment(b, 999, b.journal), user=b.user
    )
    started = time.perf_counter()
    voucher_post(voucher=draft, user=b.user)
    seconds = time.perf_counter() - started
    another = voucher_draft_create(
        organization=b.organization, voucher_input=_payment(b, 999, b.journal), user=b.user
    )
    queries, kinds = count_queries(lambda: voucher_post(voucher=another, user=b.user))
    return [
        Figure(
            benchmark="W3 voucher_post of a draft, 1,000 lines",
            unit_count=1,
            seconds=seconds,
            samples_ms=[seconds * 1000],
            queries=queries,
            query_kinds=kinds,
            lines=1000,
        )
    ]


@benchmark("P posting levers, 2 lines", group="posting")
def posting_levers(ctx: BenchContext) -> list[Figure]:
    """What each lever of PostgreSQL posting gains, W1's shape, in rounds on one connection:
    the statement-per-table way (13 statements), the one statement sent unnamed, and the one
    statement prepared (what `voucher_create_posted` does). PostgreSQL only."""
    if ctx.vendor != "postgresql":
        return []
    from django.conf import settings

    from accounting.services import posting

    b = books(ctx)
    per_round = ctx.scaled(200, 60)
    variants: dict[str, tuple[bool, bool]] = {
        "P statement per table, 2 lines": (False, False),
        "P one statement, unprepared, 2 lines": (True, False),
        "P one statement, prepared, 2 lines": (True, True),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    seconds: dict[str, float] = dict.fromkeys(variants, 0.0)
    queries: dict[str, int] = {}
    one_statement = posting.one_statement_parts
    prepared = getattr(settings, "ACCOUNTING_PREPARED_STATEMENTS", True)
    try:
        for _ in range(3):
            for name, (one, prepare) in variants.items():
                posting.one_statement_parts = one_statement if one else (lambda **kw: None)  # type: ignore[assignment]
                settings.ACCOUNTING_PREPARED_STATEMENTS = prepare
                inputs = [_payment(b, 1) for _ in range(per_round)]
                spent, times = _timed(inputs, _create_posted(b))
                seconds[name] += spent
                samples[name] += times
                queries[name], _ = count_queries(lambda: _create_posted(b)(_payment(b, 1)))
    finally:
        posting.one_statement_parts = one_statement  # type: ignore[assignment]
        settings.ACCOUNTING_PREPARED_STATEMENTS = prepared
    return [
        Figure(
            benchmark=name,
            unit_count=per_round * 3,
            seconds=seconds[name],
            samples_ms=samples[name],
            queries=queries[name],
            lines=2,
            notes="3 interleaved rounds",
        )
        for name in variants
    ]


@benchmark("W verify_ledger after the workloads", group="posting")
def verify_after(ctx: BenchContext) -> list[Figure]:
    """The books the workloads left, checked: the whole hash chain recomputed from the stored
    rows (`ledger_verify`, what the `verify_ledger` command runs), and every series numbered
    1, 2, 3 … without a gap or a repeat. The run fails if either does not hold."""
    from django.db.models import Count, Max, Min

    from accounting.models import Voucher
    from accounting.services.verification import ledger_verify

    b = books(ctx)
    started = time.perf_counter()
    found = ledger_verify(organization=b.organization)
    seconds = time.perf_counter() - started
    if not found.ok:
        raise RuntimeError(f"verify_ledger after the workloads: {found.summary()}")
    series = (
        Voucher.objects.filter(organization=b.organization, sequence__isnull=False)
        .values("voucher_type", "fiscal_year")
        .annotate(count=Count("id"), first=Min("sequence"), last=Max("sequence"))
    )
    for row in series:
        if (row["first"], row["last"]) != (1, row["count"]):
            raise RuntimeError(f"numbering has a gap or a repeat: {row}")
    return [
        Figure(
            benchmark="W verify_ledger after the workloads",
            unit_count=found.vouchers_checked,
            seconds=seconds,
            samples_ms=[seconds * 1000],
            notes=f"chain clean, {len(series)} series gapless",
        )
    ]
