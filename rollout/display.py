"""How the rollout dashboard shows a figure: counts, rates, milliseconds and seconds."""

from __future__ import annotations

from rollout.metrics.summary import AboveLastBound


def shown_ms(value: float | None) -> str:
    if value is None:
        return "–"
    over = "> " if isinstance(value, AboveLastBound) else ""
    return f"{over}{value:,.0f} ms"


def shown_rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def shown_count(value: int) -> str:
    return f"{value:,}"


def shown_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    over = "> " if isinstance(value, AboveLastBound) else ""
    return f"{over}{value / 1000:,.0f} s"
