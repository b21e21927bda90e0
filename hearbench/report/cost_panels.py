"""The panels of the complexity plots: score-versus-cost points, the Pareto front, labels.

A row's cost is the median over its results. The cost axis is logarithmic, so rows without a
positive cost are left out (and named under the axis). The Pareto front (lower cost, higher
score) is drawn as a staircase and its members are labelled, each label placed where it
overlaps no other label or point.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, LogLocator, NullFormatter

from hearbench.report.budget import draw_budget, inside
from hearbench.report.costs import cost_label
from hearbench.report.figures import drawing_style
from hearbench.report.labels import place_labels
from hearbench.report.pareto import pareto_front
from hearbench.report.tables import SHORT_MARK, Leaderboard

_LOCAL = "tab:blue"
_PUBLISHED = "0.55"
_FRONT = "tab:red"


@dataclass(frozen=True)
class Point:
    """One row on a panel: its cost and score as drawn, its label and how it is marked."""

    cost: float
    score: float
    label: str
    published: bool
    shortened: bool = False
    inside: bool = False


@dataclass(frozen=True)
class Panel:
    """The points of one panel and the rows it could not place."""

    points: list[Point]
    not_in: list[str]
    no_cost: list[str]


def plotted(value: float, significant: bool = False) -> float:
    """A value as drawn: rounded, so that last-bit noise never moves a pixel."""
    if significant:
        return float(f"{value:.4g}")
    return round(value, 6) + 0.0


def panel_points(
    board: Leaderboard,
    key: str,
    task_set: str | None,
    task: str | None,
    budget: Mapping[str, float] | None = None,
) -> Panel:
    """The rows a panel places: those in the aggregate over ``task_set`` (or with a cell on
    ``task``) that have a positive ``key`` cost; the others, named, by reason. A point is
    ``inside`` when its row's figures are within every limit of ``budget``."""
    points, not_in, no_cost = [], [], []
    for row in board.rows:
        score = math.nan
        if task_set is not None:
            agg = row.aggregates.get(task_set)
            score = agg.hear_score if agg is not None else math.nan
        elif task is not None:
            cell = row.cells.get(task)
            score = cell.mean if cell is not None else math.nan
        if math.isnan(score):
            not_in.append(row.label)
            continue
        cost = row.complexity.get(key)
        if cost is None or not math.isfinite(cost) or cost <= 0:
            no_cost.append(row.label)
            continue
        points.append(
            Point(
                plotted(float(cost), significant=True),
                plotted(float(score)),
                row.label,
                row.published,
                bool(row.shortened),
                inside(row.complexity, budget or {}),
            )
        )
    return Panel(points, not_in, no_cost)


def no_cost_note(key: str, rows: Sequence[str], limit: int = 4, width: int = 80) -> str:
    """The line under a cost axis naming the rows without a positive cost (``""`` if none)."""
    if not rows:
        return ""
    names = ", ".join(rows[:limit]) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
    note = f"not on the log axis (no positive {cost_label(key)}): {names}"
    return "\n" + textwrap.fill(note, width)


LABEL_EVERY_LOCAL = 12
"""Up to this many hearbench points in a panel, every one of them is labelled."""


def scatter_front(
    ax: Axes,
    points: Sequence[Point],
    higher_is_better: bool = True,
    label_size: float = 6.0,
    budget: Mapping[str, float] | None = None,
    key: str | None = None,
) -> list[tuple[Point, float]]:
    """Draw the points and the Pareto front; returns the points to label.

    Those are the front's members, then every hearbench point when there are at most
    :data:`LABEL_EVERY_LOCAL` of them (published points off the front stay unlabelled).

    With a ``budget``, the limit on the cost ``key`` is a dashed vertical line and the points
    inside the budget are ringed.
    """
    for published, color, marker, name in (
        (True, _PUBLISHED, "s", "published"),
        (False, _LOCAL, "o", "hearbench"),
    ):
        for shortened in (False, True):
            chosen = [p for p in points if p.published is published and p.shortened is shortened]
            if not chosen:
                continue
            ax.scatter(
                [p.cost for p in chosen],
                [p.score for p in chosen],
                s=14,
                marker=marker,
                label=f"{name}, shortened probe schedule {SHORT_MARK}" if shortened else name,
                zorder=3,
                facecolors="none" if shortened else color,
                edgecolors=color,
                linewidths=0.8 if shortened else 0,
            )
    if budget:
        limited = key is not None and key in budget
        line = f"budget: {cost_label(key)} ≤ {budget[key]:g}" if key is not None and limited else None
        draw_budget(ax, [(p.cost, p.score) for p in points if p.inside], budget, key, line)
    front = pareto_front([p.cost for p in points], [p.score for p in points], higher_is_better)
    if front:
        ax.step(
            [points[i].cost for i in front],
            [points[i].score for i in front],
            where="post",
            color=_FRONT,
            linewidth=1.0,
            zorder=2,
            label="Pareto front",
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(EngFormatter(places=0, sep=""))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.15, y=0.08)
    ax.grid(True, which="major", linewidth=0.3, color="0.85")
    local = [i for i, p in enumerate(points) if not p.published]
    extra = [i for i in local if i not in front] if len(local) <= LABEL_EVERY_LOCAL else []
    return [(p, label_size) for p in _merge_coincident([points[i] for i in [*front, *extra]])]


def _merge_coincident(points: Sequence[Point]) -> list[Point]:
    """One label per position: points at the same (cost, score) share it, one name a line."""
    merged: dict[tuple[float, float], Point] = {}
    for p in points:
        at = (p.cost, p.score)
        if at in merged:
            names = sorted([*merged[at].label.split("\n"), p.label])
            merged[at] = dataclasses.replace(merged[at], label="\n".join(names))
        else:
            merged[at] = p
    return list(merged.values())


def figure_legend(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend for all panels, outside the data (right of the panels)."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()), list(handles), loc="outside right upper", fontsize=7,
            frameon=False,
        )


def render_and_label(fig: Figure, labels: Sequence[tuple[Axes, Sequence[tuple[Point, float]]]]) -> None:
    """Fix the layout, then place every label where it overlaps no other label or point."""
    with drawing_style():
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        fig.set_layout_engine("none")
        renderer = canvas.get_renderer()
        for ax, items in labels:
            place_labels(ax, [(p.cost, p.score, p.label, size) for p, size in items], renderer)

