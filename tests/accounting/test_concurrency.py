"""Concurrent posting on PostgreSQL: gapless numbers, one posting per draft, one chain.

Every worker is a thread with its own database connection, closed when the thread ends. The
tests commit for real (transaction=True), so they see each other's locks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from queue import Empty, Queue

import pytest
from django.db import transaction

from accounting.models import (
    CHAIN_GENESIS,
    LedgerChainHead,
    LedgerEntry,
    Voucher,
    VoucherSequence,
    VoucherStatus,
    VoucherType,
)
from accounting.services import posting
from accounting.services.checks import VoucherRejected
from accounting.services.drafts import voucher_draft_create
from accounting.services.posting import voucher_create_posted, voucher_post
from accounting.services.verification import ledger_verify
from tests.threads import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8


def drafts(books, count: int, type_code: str = "PV") -> list[Voucher]:
    return [
        voucher_draft_create(
            organization=books.organization,
            voucher_input=books.entry(
                ("5200", f"{n}.00", ""), ("1120", "", f"{n}.00"), type_code=type_code
            ),
        )
        for n in range(1, count + 1)
    ]


def queue_of(items: list[Voucher]) -> Queue[Voucher]:
    queue: Queue[Voucher] = Queue()
    for item in items:
        queue.put(item)
    return queue


def take_all(queue: Queue[Voucher], action: Callable[[Voucher], object]) -> None:
    while True:
        try:
            item = queue.get_nowait()
        except Empty:
            return
        action(item)


def posted_sequences(type_code: str = "PV") -> list[int]:
    return sorted(
        Voucher.objects.filter(
            voucher_type__code=type_code, status=VoucherStatus.POSTED
        ).values_list("sequence", flat=True)
    )


def test_eight_workers_posting_200_drafts_number_them_1_to_200(books):
    queue = queue_of(drafts(books, 200))
    started = time.monotonic()

    errors = in_threads(
        WORKERS, lambda i: take_all(queue, lambda d: voucher_post(voucher=d, user=None))
    )

    assert errors == []
    assert posted_sequences() == list(range(1, 201))
    numbers = list(Voucher.objects.filter(status="posted").values_list("number", flat=True))
    assert sorted(numbers) == [f"PV-2026-{n:05d}" for n in range(1, 201)]
    assert VoucherSequence.objects.get(voucher_type=books.types["PV"]).last_value == 200
    assert LedgerEntry.objects.count() == 400
    assert time.monotonic() - started < 30
    assert ledger_verify(organization=books.organization).ok


def test_concurrent_create_and_post_on_a_series_without_a_counter_yet_stays_gapless(books):
    # A voucher type made after the fiscal year has no counter row: the first posters race to
    # create it.
    extra = VoucherType.objects.create(
        organization=books.organization, code="XV", name="Extra", numbering_pattern="XV-{seq}"
    )
    books.types["XV"] = extra

    def post_ten(_: int) -> None:
        for _ in range(10):
            voucher_create_posted(
                organization=books.organization,
                voucher_input=books.entry(
                    ("5200", "1.00", ""), ("1120", "", "1.00"), type_code="XV"
                ),
            )

    assert in_threads(WORKERS, post_ten) == []
    assert posted_sequences("XV") == list(range(1, 81))
    assert VoucherSequence.objects.filter(voucher_type=extra).count() == 1


def test_postings_that_fail_half_way_give_their_numbers_back(books, monkeypatch):
    all_drafts = drafts(books, 40)
    every_fifth = {d.pk for d in all_drafts[4::5]}
    queue = queue_of(all_drafts)
    save = posting.voucher_save_with_history

    def fail_some(voucher, **kwargs):
        if voucher.pk in every_fifth:
            raise RuntimeError(f"lost connection while posting {voucher.pk}")
        save(voucher, **kwargs)

    # The failure comes after the ledger rows are written and the number is taken.
    monkeypatch.setattr(posting, "voucher_save_with_history", fail_some)
    errors = in_threads(
        WORKERS, lambda i: take_all(queue, lambda d: _post_expecting_failure(d, every_fifth))
    )

    assert errors == []
    assert posted_sequences() == list(range(1, 33))
    assert set(Voucher.objects.filter(status="draft").values_list("pk", flat=True)) == every_fifth
    assert not LedgerEntry.objects.filter(voucher_id__in=every_fifth).exists()


def _post_expecting_failure(draft: Voucher, failing: set[int]) -> None:
    try:
        voucher_post(voucher=draft, user=None)
    except RuntimeError:
        assert draft.pk in failing


def test_two_connections_posting_the_same_draft_give_one_posting_and_one_clear_refusal(
    books, monkeypatch
):
    draft = drafts(books, 1)[0]
    read_lines = posting.stored_line_facts
    readers: list[int] = []

    def read_slowly(voucher):
        # Whoever holds the voucher's lock keeps it a moment, so the other must wait on it.
        readers.append(threading.get_ident())
        lines = read_lines(voucher)
        time.sleep(0.3)
        return lines

    monkeypatch.setattr(posting, "stored_line_facts", read_slowly)
    outcomes: list[object] = []

    def post(_: int) -> None:
        try:
            outcomes.append(voucher_post(voucher=draft, user=None))
        except VoucherRejected as rejected:
            outcomes.append(rejected)

    assert in_threads(2, post) == []

    posted = [o for o in outcomes if isinstance(o, Voucher)]
    refused = [o for o in outcomes if isinstance(o, VoucherRejected)]
    assert len(posted) == 1 and len(refused) == 1
    assert refused[0].messages == ["PV-2026-00001: is posted; only a draft can be posted"]
    assert len(readers) == 1  # the second poster never got past the lock to read the lines
    assert LedgerEntry.objects.filter(voucher=draft).count() == 2
    assert VoucherSequence.objects.get(voucher_type=books.types["PV"]).last_value == 1


# ---------------------------------------------------------------- the chain


def chain_of(books) -> list[tuple[int, str, str]]:
    return list(
        Voucher.objects.filter(organization=books.organization)
        .order_by("chain_position")
        .values_list("chain_position", "chain_previous", "chain_hash")
    )


def test_posters_of_every_series_of_an_organization_take_consecutive_places_in_its_chain(books):
    # One voucher type per worker: their counters do not serialize them, the chain head does.
    codes = sorted(books.types)

    def post_ten(i: int) -> None:
        for _ in range(10):
            voucher_create_posted(
                organization=books.organization,
                voucher_input=books.entry(
                    ("5200", "1.00", ""), ("1120", "", "1.00"), type_code=codes[i]
                ),
            )

    assert in_threads(WORKERS, post_ten) == []

    chain = chain_of(books)
    assert [position for position, _, _ in chain] == list(range(1, 81))
    previous = [CHAIN_GENESIS] + [digest for _, _, digest in chain[:-1]]
    assert [link for _, link, _ in chain] == previous  # no two claimed the same previous hash
    head = LedgerChainHead.objects.get(organization=books.organization)
    assert (head.last_position, head.last_hash) == (80, chain[-1][2])
    assert ledger_verify(organization=books.organization).ok


def test_a_poster_waits_while_another_holds_the_chain_head(books):
    holding, release, b_done = threading.Event(), threading.Event(), threading.Event()
    posted: dict[str, Voucher] = {}

    def work(i: int) -> None:
        code = "JV" if i == 0 else "PV"  # two series: no shared counter
        if i == 0:  # A: posts inside a transaction it keeps open, holding the chain head
            with transaction.atomic():
                posted[code] = voucher_create_posted(
                    organization=books.organization,
                    voucher_input=books.entry(
                        ("5200", "1.00", ""), ("1120", "", "1.00"), type_code=code
                    ),
                )
                holding.set()
                release.wait(timeout=10)
            return
        holding.wait(timeout=10)
        posted[code] = voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code=code),
        )
        b_done.set()

    waited: list[bool] = []

    def release_later() -> None:
        holding.wait(timeout=10)
        # B has had time to reach the head; it must still be waiting on A's lock.
        waited.append(not b_done.wait(timeout=0.5))
        release.set()

    releaser = threading.Thread(target=release_later)
    releaser.start()
    errors = in_threads(2, work)
    releaser.join(timeout=15)

    assert errors == []
    assert waited == [True], "the second poster did not wait for the chain head"
    assert b_done.is_set()
    first, second = posted["JV"], posted["PV"]
    assert (first.chain_position, second.chain_position) == (1, 2)
    assert second.chain_previous == first.chain_hash
    assert ledger_verify(organization=books.organization).ok
