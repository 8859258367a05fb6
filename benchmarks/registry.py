"""The list of benchmarks `python -m benchmarks.run` runs, and the figures each one reports.

A benchmark is a function registered with `@benchmark(...)` in any module of this package. It
runs inside a worker process that has a fresh, migrated database (SQLite or PostgreSQL) and gets
a `BenchContext`: the database vendor, whether the run is `--quick`, and a `state` dict that
benchmarks of one run share in registration order (the posting workloads use it so that W2 and
W3 post into the books W1 left). It returns one or more `Figure`s; run.py takes the median of
each figure over the runs and prints it.

To add the entry-screen benchmarks, write `benchmarks/entry_screen.py` with functions decorated
`@benchmark("E1 entry page, 10 lines", group="entry")`; run.py imports every module of the
package, so nothing else needs to change. `--only E1` selects benchmarks by name prefix.
"""

from __future__ import annotations

import importlib
import pkgutil
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Modules of this package that hold no benchmarks.
NOT_BENCHMARKS = {"registry", "run", "peers", "databases"}
# The posting workloads run first, on a database nothing else has written to yet.
RUN_FIRST = ["posting"]


@dataclass
class BenchContext:
    vendor: str  # "sqlite" or "postgresql"
    quick: bool
    state: dict[str, Any] = field(default_factory=dict)

    def scaled(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass
class Figure:
    """One measured result. `seconds` is the wall time of the whole timed loop."""

    benchmark: str
    unit_count: int  # vouchers posted, pages rendered ...
    seconds: float
    samples_ms: list[float] = field(default_factory=list)
    queries: int | None = None  # SQL statements for one more unit of the same shape
    query_kinds: dict[str, int] = field(default_factory=dict)
    lines: int | None = None
    notes: str = ""

    @property
    def per_second(self) -> float:
        return self.unit_count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, pct: float) -> float:
        if not self.samples_ms:
            return 0.0
        if len(self.samples_ms) == 1:
            return self.samples_ms[0]
        return statistics.quantiles(self.samples_ms, n=100, method="inclusive")[int(pct) - 1]

    def summary(self) -> dict[str, Any]:
        """What travels from the worker process to run.py (the raw samples stay behind)."""
        data = asdict(self)
        data.pop("samples_ms")
        data.update(
            per_second=self.per_second,
            p50_ms=self.percentile_ms(50),
            p95_ms=self.percentile_ms(95),
        )
        return data


BenchFunction = Callable[[BenchContext], list[Figure]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    group: str
    function: BenchFunction


REGISTRY: list[Benchmark] = []


def benchmark(name: str, *, group: str) -> Callable[[BenchFunction], BenchFunction]:
    """Registers a benchmark; they run in the order their modules and definitions come."""

    def register(function: BenchFunction) -> BenchFunction:
        if any(b.name == name for b in REGISTRY):
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY.append(Benchmark(name=name, group=group, function=function))
        return function

    return register


def discover() -> list[Benchmark]:
    """Imports every benchmark module of the package, so their decorators register them."""
    import benchmarks

    names = sorted(
        module.name
        for module in pkgutil.iter_modules(benchmarks.__path__)
        if module.name not in NOT_BENCHMARKS and not module.name.startswith("_")
    )
    for name in sorted(names, key=lambda n: (n not in RUN_FIRST, n)):
        importlib.import_module(f"benchmarks.{name}")
    return list(REGISTRY)
