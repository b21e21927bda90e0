"""A complexity budget: upper limits on cost figures, drawn on the complexity plots.

``--budget params=128000 --budget macs_per_second=30e6`` (the DCASE 2023 Task 1 limits: 128 K
parameters, 30 MMACs per second of audio) draws each limit on every plot whose cost axis it
bounds, and marks the rows inside the budget: those whose figures are known and within every
limit given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from matplotlib.axes import Axes

from hearbench.api import HearbenchError

COLOR = "tab:green"

BUDGET_KEYS = {
    "params": "params",
    "macs": "macs_per_second",
    "macs_per_second": "macs_per_second",
    "latency": "latency_ms",
    "latency_ms": "latency_ms",
}


def parse_budget(pairs: Iterable[str]) -> dict[str, float]:
    """``["params=128000", "macs_per_second=30e6"]`` as ``{complexity key: limit}``.

    Raises:
        HearbenchError: one line naming the value: not ``KEY=VALUE``, an unknown key, a limit
            that is not a positive finite number, or one key given twice.
    """
    budget: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise HearbenchError(f"--budget {pair!r}: expected KEY=VALUE, e.g. params=128000")
        if name not in BUDGET_KEYS:
            known = ", ".join(sorted(set(BUDGET_KEYS.values())))
            raise HearbenchError(f"--budget {pair!r}: unknown key {name!r}; choose from {known}")
        try:
            limit = float(text)
        except ValueError:
            limit = math.nan
        if not math.isfinite(limit) or limit <= 0:
            raise HearbenchError(f"--budget {pair!r}: expected a positive number, got {text!r}")
        key = BUDGET_KEYS[name]
        if key in budget:
            raise HearbenchError(f"--budget {pair!r}: {key} is given twice")
        budget[key] = limit
    return budget


def check_budget(budget: Mapping[str, float]) -> dict[str, float]:
    """A budget given as a mapping, checked as :func:`parse_budget` checks strings."""
    return parse_budget(f"{k}={v}" for k, v in budget.items())


def inside(complexity: Mapping[str, float], budget: Mapping[str, float]) -> bool:
    """Whether every limit of a non-empty ``budget`` holds for the figures in ``complexity``."""
    if not budget:
        return False
    for key, limit in budget.items():
        value = complexity.get(key)
        if value is None or not math.isfinite(float(value)) or float(value) > limit:
            return False
    return True


def budget_text(budget: Mapping[str, float]) -> str:
    """``params ≤ 128000, macs_per_second ≤ 3e+07``."""
    return ", ".join(f"{k} ≤ {v:g}" for k, v in budget.items())


def draw_budget(
    ax: Axes,
    inside_points: Sequence[tuple[float, float]],
    budget: Mapping[str, float],
    key: str | None,
    line_label: str | None,
) -> None:
    """Ring the ``(cost, score)`` points inside the budget; draw the limit on ``key`` dashed."""
    if inside_points:
        ax.scatter(
            [x for x, _ in inside_points],
            [y for _, y in inside_points],
            s=70,
            marker="o",
            facecolors="none",
            edgecolors=COLOR,
            linewidths=1.0,
            zorder=4,
            label="inside the budget",
        )
    if key is not None and key in budget:
        ax.axvline(budget[key], color=COLOR, linestyle="--", linewidth=0.9, zorder=1, label=line_label)
