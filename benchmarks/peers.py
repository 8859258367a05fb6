"""The peer figures from BENCHMARKS.md (django-ledger 0.8.5, django-hordak 2.0.0, 2-core machine)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerFigures:
    peer: str
    vendor: str  # "sqlite" or "postgresql", as Django names them
    w1_per_second: float
    w2_per_second: float
    w3_seconds: float
    queries_w1: int
    queries_w3: int


PEERS = [
    PeerFigures("django-ledger (model API)", "sqlite", 139, 73, 0.35, 14, 1012),
    PeerFigures("django-ledger (commit_txs)", "sqlite", 139, 91, 0.19, 13, 23),
    PeerFigures("django-ledger (model API)", "postgresql", 95, 51, 0.62, 14, 1012),
    PeerFigures("django-ledger (commit_txs)", "postgresql", 93, 63, 0.28, 13, 13),
    PeerFigures("django-hordak (legs)", "postgresql", 686, 161, 0.60, 5, 1003),
]
# django-hordak does not install on SQLite (its triggers are PostgreSQL/MySQL only).


def peers_on(vendor: str) -> list[PeerFigures]:
    return [p for p in PEERS if p.vendor == vendor]
