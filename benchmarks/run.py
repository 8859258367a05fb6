"""`python -m benchmarks.run`: every registered benchmark, 3 fresh databases each, medians printed.

    python -m benchmarks.run                      # SQLite and PostgreSQL, 3 runs each
    python -m benchmarks.run --quick --db sqlite  # fewer vouchers, one database
    python -m benchmarks.run --only W1 W3 --json var/bench.json

Each run is a child process (`--worker`) with DATABASE_URL pointing at a database made for it
(a temporary SQLite file, or `bench_<pid>_<run>` on the PostgreSQL server at BENCH_POSTGRES_URL,
by default the local socket, else 127.0.0.1:5432, user postgres), migrated before the clock
starts and dropped afterwards. The parent prints the medians, the SQL queries per voucher, and our figures
next to the peer figures of BENCHMARKS.md with the ratio. It exits 1 if the queries per posted
voucher differ between 2, 14 and 1,000 lines. docs/PERFORMANCE.md explains the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.databases import (
    VENDORS,
    DatabaseUnavailable,
    fresh_database,
    postgres_host,
    postgres_where,
)
from benchmarks.peers import (
    LiveRun,
    PeerFigures,
    hordak_python,
    hordak_run,
    live_median,
    peers_dir,
    peers_on,
)

ROOT = Path(__file__).resolve().parent.parent
DB_TITLES = {"sqlite": "SQLite (WAL)", "postgresql": "PostgreSQL"}
# The workloads whose queries per voucher must not grow with the number of lines.
CONSTANT_QUERY_SERIES = {
    "create+post": [
        "W1 create+post, 2 lines",
        "W2 create+post, 14 lines",
        "W3 create+post, 1,000 lines",
    ],
    "voucher_post of a draft": [
        "W1 voucher_post of a draft, 2 lines",
        "W3 voucher_post of a draft, 1,000 lines",
    ],
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="a fifth of the vouchers")
    parser.add_argument("--runs", type=int, default=3, help="fresh-database runs per database (3)")
    parser.add_argument("--only", nargs="*", default=[], help="benchmark name prefixes to run")
    parser.add_argument("--json", type=Path, help="also write the medians to this file")
    parser.add_argument(
        "--pg-server-side-binding",
        action="store_true",
        help="experiment: every statement with server-side binding and prepared after 5 uses "
        "(OPTIONS server_side_binding=True, prepare_threshold=5); settings.py does this for "
        "posting's own statements only",
    )
    parser.add_argument(
        "--no-peer",
        action="store_true",
        help="do not run django-hordak beside ours on PostgreSQL (it runs after each of our "
        "PostgreSQL runs when the peer adapters are found: BENCH_PEERS_DIR or ../shared/peers)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- worker (one fresh database)


def worker(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.registry import BenchContext, discover

    if args.pg_server_side_binding and connection.vendor == "postgresql":
        # Before the first connection is made, so that it is opened with these options.
        settings.DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
    call_command("migrate", verbosity=0, interactive=False)
    ctx = BenchContext(vendor=connection.vendor, quick=args.quick)
    figures = []
    for bench in discover():
        if args.only and not any(bench.name.startswith(prefix) for prefix in args.only):
            continue
        figures += [figure.summary() for figure in bench.function(ctx)]
    connection.close()
    args.out.write_text(json.dumps({"vendor": ctx.vendor, "figures": figures}))


def run_once(db: str, run: int, args: argparse.Namespace) -> dict[str, Any]:
    with fresh_database(db, run) as url, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Not DEBUG: a debug connection logs every query, which is not what production pays.
            "DJANGO_DEBUG": "",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            # The load test (benchmarks/load.py) serves the site once, in the first run.
            "BENCH_RUN": str(run),
        }
        # Production settings render pages with the hashed names of the collected static files.
        collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
        subprocess.run(collect, env=env, cwd=ROOT, check=True)
        command = [sys.executable, "-m", "benchmarks.run", "--worker", "--out", str(out)]
        if args.quick:
            command.append("--quick")
        if args.pg_server_side_binding:
            command.append("--pg-server-side-binding")
        if args.only:
            command += ["--only", *args.only]
        subprocess.run(command, env=env, cwd=ROOT, check=True)
        return json.loads(out.read_text())


# ---------------------------------------------------------------- parent: medians and tables


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in runs:
        for figure in result["figures"]:
            by_name[figure["benchmark"]].append(figure)
    merged = {}
    for name, figures in by_name.items():
        last = dict(figures[-1])
        for key in ("per_second", "p50_ms", "p95_ms", "seconds"):
            last[key] = statistics.median(f[key] for f in figures)
        last["runs"] = len(figures)
        last["queries_differ_between_runs"] = len({f["queries"] for f in figures}) > 1
        merged[name] = last
    return merged


def detail_table(vendor: str, figures: dict[str, dict[str, Any]]) -> list[str]:
    out = [
        f"{DB_TITLES[vendor]}: medians of {next(iter(figures.values()))['runs']} fresh-database runs",
        f"  {'benchmark':<42} {'units':>6} {'per s':>9} {'p50 ms':>8} {'p95 ms':>8} {'total s':>8}"
        f" {'queries':>7}  kinds",
    ]
    for name, f in figures.items():
        kinds = ", ".join(f"{k} {v}" for k, v in f["query_kinds"].items()) or f["notes"]
        queries = "" if f["queries"] is None else f["queries"]
        out.append(
            f"  {name:<42} {f['unit_count']:>6} {f['per_second']:>9.1f} {f['p50_ms']:>8.2f}"
            f" {f['p95_ms']:>8.2f} {f['seconds']:>8.3f} {queries:>7}  {kinds}"
        )
    return out


def peer_table(
    vendor: str, figures: dict[str, dict[str, Any]], live: PeerFigures | None = None
) -> list[str]:
    """Our figures beside each peer's on the same database; ratio > 1 means we are ahead.
    `live` is a peer measured in this run; the others are BENCHMARKS.md's figures."""
    w1 = figures.get("W1 create+post, 2 lines")
    w2 = figures.get("W2 create+post, 14 lines")
    w3 = figures.get("W3 create+post, 1,000 lines")
    peers = ([live] if live and live.vendor == vendor else []) + peers_on(vendor)
    if not (w1 or w2 or w3) or not peers:
        return []
    width = 32
    header = f"  {'':<24} {'ours':>12}" + "".join(f" | {p.peer:>{width}}" for p in peers)
    out = [f"{DB_TITLES[vendor]}: ours beside the peers (ratio > 1: ours is ahead)", header]

    def row(
        label: str, ours: float | None, theirs: list[float], higher_is_better: bool, fmt: str
    ) -> str:
        cells = f"  {label:<24} {format(ours, fmt) if ours is not None else '—':>12}"
        for peer_value in theirs:
            if ours:
                ratio = ours / peer_value if higher_is_better else peer_value / ours
                cell = f"{format(peer_value, fmt)}  ×{ratio:.2f}"
            else:
                cell = format(peer_value, fmt)
            cells += f" | {cell:>{width}}"
        return cells

    out.append(
        row("W1 vouchers/s", w1 and w1["per_second"], [p.w1_per_second for p in peers], True, ".1f")
    )
    out.append(
        row("W2 vouchers/s", w2 and w2["per_second"], [p.w2_per_second for p in peers], True, ".1f")
    )
    out.append(row("W3 seconds", w3 and w3["seconds"], [p.w3_seconds for p in peers], False, ".3f"))
    ours_q = f"{w1['queries'] if w1 else '—'} / {w3['queries'] if w3 else '—'}"
    out.append(
        f"  {'queries/voucher W1 / W3':<24} {ours_q:>12}"
        + "".join(f" | {f'{p.queries_w1} / {p.queries_w3:,}':>{width}}" for p in peers)
    )
    return out


def constant_query_check(vendor: str, figures: dict[str, dict[str, Any]]) -> tuple[list[str], bool]:
    lines, ok = [], True
    for series, names in CONSTANT_QUERY_SERIES.items():
        counts = {n: figures[n]["queries"] for n in names if n in figures}
        if len(counts) < 2:
            continue
        same = len(set(counts.values())) == 1
        ok &= same
        shown = ", ".join(f"{figures[n]['lines']:,} lines: {q}" for n, q in counts.items())
        verdict = "constant" if same else "NOT CONSTANT"
        lines.append(f"  queries per {series} ({DB_TITLES[vendor]}): {shown} -> {verdict}")
    for name, f in figures.items():
        if f["queries_differ_between_runs"]:
            ok = False
            lines.append(f"  {name}: the query count differed between runs")
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        worker(args)
        return 0
    if args.only and all(p.upper().startswith("L") for p in args.only):
        # The load test and the fault run serve PostgreSQL once; they make their own databases.
        args.db, args.runs = "postgres", 1
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: dict[str, dict[str, dict[str, Any]]] = {}
    peer_runs: list[LiveRun] = []
    adapters = peers_dir()
    with_peer = (
        "postgres" in dbs
        and not args.no_peer
        and (not args.only or any(p.upper().startswith("W") for p in args.only))
    )
    peer_python = hordak_python() if with_peer and adapters else None
    if with_peer and peer_python is None:
        print(
            "django-hordak is not run beside ours: no peer adapters (BENCH_PEERS_DIR) or it "
            "did not install; the peer table shows BENCHMARKS.md's figures only.",
            file=sys.stderr,
        )
    for db in dbs:
        runs = []
        for run in range(1, args.runs + 1):
            print(
                f"{db}: run {run} of {args.runs} on a fresh database ...",
                file=sys.stderr,
                flush=True,
            )
            try:
                runs.append(run_once(db, run, args))
                if db == "postgres" and peer_python and adapters:
                    print(f"postgres: django-hordak, run {run} ...", file=sys.stderr, flush=True)
                    peer_runs.append(
                        hordak_run(
                            python=peer_python,
                            adapters=adapters,
                            socket_dir=postgres_host(),
                            quick=args.quick,
                        )
                    )
            except DatabaseUnavailable as exc:
                print(
                    f"PostgreSQL at {postgres_where()} does not answer ({exc}). Start it "
                    "(pg_ctlcluster --skip-systemctl-redirect <version> main start), point "
                    "BENCH_POSTGRES_URL at another server, or use --db sqlite.",
                    file=sys.stderr,
                )
                return 2
        results[VENDORS[db]] = medians(runs)
    report, all_constant = [], True
    if "postgres" in dbs:
        binding = (
            "server-side binding throughout"
            if args.pg_server_side_binding
            else "posting's statements prepared (server-side binding), the rest client-side"
        )
        report.append(f"PostgreSQL: {postgres_where()}, {binding}")
    for vendor, figures in results.items():
        report += ["", *detail_table(vendor, figures)]
    live = live_median(peer_runs)
    for vendor, figures in results.items():
        table = peer_table(vendor, figures, live)
        if table:
            report += ["", *table]
    report.append("")
    for vendor, figures in results.items():
        lines, ok = constant_query_check(vendor, figures)
        report += lines
        all_constant &= ok
    print("\n".join(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all_constant else 1


if __name__ == "__main__":
    sys.exit(main())
