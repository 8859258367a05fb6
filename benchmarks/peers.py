"""The peers' posting figures: those of BENCHMARKS.md (django-ledger 0.8.5, django-hordak 2.0.0,
2-core machine), and django-hordak measured again beside ours in the same `make bench` run."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


# ---------------------------------------------------------------- django-hordak, in the same run

# The peer adapters of BENCHMARKS.md live outside this repository (shared/peers beside it, or
# BENCH_PEERS_DIR); the peer itself is installed from PyPI into its own virtual environment at
# bench time, since it needs Django 5.2. Nothing of it is part of this project.
HORDAK_SPEC = ["django-hordak==2.0.0", "psycopg[binary]"]


def peers_dir() -> Path | None:
    configured = os.environ.get("BENCH_PEERS_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(__file__).resolve().parent.parent.parent / "shared" / "peers")
    for path in candidates:
        if (path / "hordak_peer" / "run_peer.py").is_file():
            return path
    return None


def hordak_python() -> Path | None:
    """The peer's virtual environment (BENCH_PEER_VENV, /tmp/bench-peer-hordak by default),
    made with the system's Python and pip on first use; None if that cannot be done."""
    venv = Path(os.environ.get("BENCH_PEER_VENV", "/tmp/bench-peer-hordak"))
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import hordak, psycopg"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    base = os.environ.get("BENCH_PEER_PYTHON") or shutil.which("python3") or sys.executable
    print(f"installing {' '.join(HORDAK_SPEC)} into {venv} ...", file=sys.stderr, flush=True)
    made = subprocess.run([base, "-m", "venv", "--clear", str(venv)], capture_output=True)
    if made.returncode != 0:
        return None
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*pip, *HORDAK_SPEC], capture_output=True).returncode != 0:
        return None
    return python


def _drop_database(name: str) -> None:
    """The peer leaves its database behind; the bench does not."""
    import psycopg

    from benchmarks.databases import postgres_admin_url

    with psycopg.connect(postgres_admin_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class LiveRun:
    w1_per_second: float | None
    w2_per_second: float | None
    w3_seconds: float | None
    queries_w1: int | None
    queries_w3: int | None


def hordak_run(*, python: Path, adapters: Path, socket_dir: str | None, quick: bool) -> LiveRun:
    """django-hordak (legs) on W1, W2 and W3 in a fresh PostgreSQL database of its own."""
    env = {**os.environ, "PEER_PG_HOST": socket_dir or "127.0.0.1"}
    command = [
        str(python),
        str(adapters / "hordak_peer" / "run_peer.py"),
        "--db",
        "postgres",
        "--variant",
        "legs",
        "--pg-name",
        f"bench_peer_hordak_{os.getpid()}",
    ]
    if quick:
        command += ["--n-w1", "200", "--n-w2", "60"]
    try:
        done = subprocess.run(command, env=env, cwd=adapters, capture_output=True, text=True)
    finally:
        _drop_database(f"bench_peer_hordak_{os.getpid()}")
    result = json.loads(done.stdout or "{}")
    workloads = result.get("workloads", {})

    def figure(name: str, key: str) -> Any:
        return workloads.get(name, {}).get(key)

    return LiveRun(
        w1_per_second=figure("W1", "entries_per_s"),
        w2_per_second=figure("W2", "entries_per_s"),
        w3_seconds=figure("W3", "seconds"),
        queries_w1=figure("W1", "queries_per_entry"),
        queries_w3=figure("W3", "queries_per_entry"),
    )


def live_median(runs: list[LiveRun]) -> PeerFigures | None:
    """The median of the peer's runs, as a row beside ours."""

    def median(values: list[Any]) -> Any:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    if not runs:
        return None
    w1 = median([r.w1_per_second for r in runs])
    w2 = median([r.w2_per_second for r in runs])
    w3 = median([r.w3_seconds for r in runs])
    if w1 is None:
        return None
    return PeerFigures(
        f"django-hordak, this run ×{len(runs)}",
        "postgresql",
        w1,
        w2 or 0.0,
        w3 or 0.0,
        runs[-1].queries_w1 or 0,
        runs[-1].queries_w3 or 0,
    )
