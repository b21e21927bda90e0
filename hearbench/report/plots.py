"""Score-versus-cost plots and layer/hop sweep curves, as byte-reproducible PNG and SVG.

Costs come from each row's ``complexity`` (see :mod:`hearbench.complexity`): ``params``
(parameters of the network), ``macs_per_second`` (multiply-accumulates per second of audio) and
``latency_ms`` (median time of one timestamp-embedding call); ``macs`` and ``latency`` are
accepted as short names. The trained head's cost and the embedder + head totals
(:mod:`hearbench.complexity.head`) are costs too: ``head_params``, ``head_macs_per_second``
(``head_macs``), ``total_params`` and ``total_macs_per_second`` (``total_macs``), as is every
other numeric figure of :class:`~hearbench.complexity.Complexity` (:data:`OTHER_COSTS`);
:func:`check_cost_axes` refuses any other name before a report starts. A row's cost is the median over its results. The cost axis is
logarithmic, so rows without a positive cost are left out (and logged). The Pareto front (lower
cost, higher score) is drawn as a staircase and its members are labelled.

Figures are drawn on the Agg canvas without :mod:`matplotlib.pyplot`, written without dates or
software versions (PNG ``Software``, SVG ``Date``/``Creator`` metadata dropped) and with a fixed
``svg.hashsalt``, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import textwrap
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, FixedLocator, LogLocator, NullFormatter, NullLocator

from hearbench.api import HearbenchError
from hearbench.atomic import write_bytes_atomic
from hearbench.report.budget import draw_budget, inside
from hearbench.report.labels import place_labels
from hearbench.report.pareto import pareto_front
from hearbench.report.sweeps import label_order, natural_key, sweeps
from hearbench.report.tables import SHORT_MARK, Leaderboard, task_key
from hearbench.results import Result
from hearbench.results.published import task_display_name

logger = logging.getLogger(__name__)

COST_KEYS = {
    "params": "params",
    "macs": "macs_per_second",
    "macs_per_second": "macs_per_second",
    "latency": "latency_ms",
    "latency_ms": "latency_ms",
    "head_params": "head_params",
    "head_macs": "head_macs_per_second",
    "head_macs_per_second": "head_macs_per_second",
    "total_params": "total_params",
    "total_macs": "total_macs_per_second",
    "total_macs_per_second": "total_macs_per_second",
}
OTHER_COSTS = (
    "params_used",
    "scene_macs_per_second",
    "model_macs_10s",
    "latency_ms_p90",
    "scene_latency_ms",
    "scene_latency_ms_p90",
    "realtime_factor",
    "peak_memory_mb",
    "frames_per_second",
    "embedding_width",
    "embedding_floats_per_second",
    "embedding_bytes_per_second",
)
"""The other numeric complexity figures a plot may take as its cost."""
COST_LABELS = {
    "params": "parameters",
    "macs_per_second": "MACs per second of audio",
    "latency_ms": "latency (ms)",
    "head_params": "head parameters",
    "head_macs_per_second": "head MACs per second of audio",
    "total_params": "embedder + head parameters",
    "total_macs_per_second": "embedder + head MACs per second of audio",
}
SWEEP_OPTIONS = ("layers", "hop_ms")
IMAGE_FORMATS = ("png", "svg")

_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}
_LOCAL = "tab:blue"
_PUBLISHED = "0.55"
_FRONT = "tab:red"


def _style() -> AbstractContextManager[None]:
    """Fixed settings every figure is drawn and saved under."""
    return matplotlib.rc_context(
        {"svg.hashsalt": "hearbench", "svg.fonttype": "path", "font.size": 8.0}
    )


def cost_key(x: str) -> str:
    """The complexity key a cost name refers to (``"macs"`` → ``"macs_per_second"``...)."""
    return COST_KEYS.get(x, x)


def check_cost_axes(x: Sequence[str]) -> None:
    """Refuse cost names that are neither in :data:`COST_KEYS` nor in :data:`OTHER_COSTS`.

    Raises:
        HearbenchError: one line naming the unknown cost and the allowed ones.
    """
    known = [*COST_KEYS, *OTHER_COSTS]
    for name in x:
        if name not in known:
            raise HearbenchError(f"--x: {name!r} is not a cost; choose from {', '.join(known)}")


def cost_label(key: str) -> str:
    """Axis label of a complexity key."""
    return COST_LABELS.get(key, key)


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """Render ``fig`` as ``png`` or ``svg`` bytes without dates or version stamps."""
    if fmt not in IMAGE_FORMATS:
        raise HearbenchError(f"image format {fmt!r} is unknown; choose from png, svg")
    buffer = io.BytesIO()
    with _style():
        FigureCanvasAgg(fig)
        fig.savefig(buffer, format=fmt, dpi=150, metadata=_METADATA[fmt])
    return buffer.getvalue()


def save_figure(fig: Figure, stem: Path, formats: Sequence[str] = IMAGE_FORMATS) -> list[Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, atomically; returns the paths."""
    return [
        write_bytes_atomic(stem.with_suffix(f".{fmt}"), figure_bytes(fig, fmt)) for fmt in formats
    ]


def _new_figure(width: float, height: float) -> Figure:
    with _style():
        return Figure(figsize=(width, height), layout="constrained")


@dataclass(frozen=True)
class _Point:
    cost: float
    score: float
    label: str
    published: bool
    shortened: bool = False
    inside: bool = False


@dataclass(frozen=True)
class Panel:
    """The points of one panel and the rows it could not place."""

    points: list[_Point]
    not_in: list[str]
    no_cost: list[str]


def _plotted(value: float, significant: bool = False) -> float:
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
            _Point(
                _plotted(float(cost), significant=True),
                _plotted(float(score)),
                row.label,
                row.published,
                bool(row.shortened),
                inside(row.complexity, budget or {}),
            )
        )
    return Panel(points, not_in, no_cost)


def _no_cost_note(key: str, rows: Sequence[str], limit: int = 4, width: int = 80) -> str:
    if not rows:
        return ""
    names = ", ".join(rows[:limit]) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
    note = f"not on the log axis (no positive {cost_label(key)}): {names}"
    return "\n" + textwrap.fill(note, width)


LABEL_EVERY_LOCAL = 12
"""Up to this many hearbench points in a panel, every one of them is labelled."""


def _scatter_front(
    ax: Axes,
    points: Sequence[_Point],
    higher_is_better: bool = True,
    label_size: float = 6.0,
    budget: Mapping[str, float] | None = None,
    key: str | None = None,
) -> list[tuple[_Point, float]]:
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


def _merge_coincident(points: Sequence[_Point]) -> list[_Point]:
    """One label per position: points at the same (cost, score) share it, one name a line."""
    merged: dict[tuple[float, float], _Point] = {}
    for p in points:
        at = (p.cost, p.score)
        if at in merged:
            names = sorted([*merged[at].label.split("\n"), p.label])
            merged[at] = dataclasses.replace(merged[at], label="\n".join(names))
        else:
            merged[at] = p
    return list(merged.values())


def _legend(fig: Figure, axes: Sequence[Axes]) -> None:
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


def _render_and_label(fig: Figure, labels: Sequence[tuple[Axes, Sequence[tuple[_Point, float]]]]) -> None:
    """Fix the layout, then place every label where it overlaps no other label or point."""
    with _style():
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        fig.set_layout_engine("none")
        renderer = canvas.get_renderer()
        for ax, items in labels:
            place_labels(ax, [(p.cost, p.score, p.label, size) for p, size in items], renderer)


def plot_score_vs_cost(
    board: Leaderboard, x: str, stem: Path, budget: Mapping[str, float] | None = None
) -> list[Path]:
    """Each aggregate's HEAR score against cost, one panel per task set, with the Pareto front.

    A row is placed on a panel only when it is in that aggregate; rows without a positive
    cost are named under the axis. PNG and SVG.

    Args:
        board: The leaderboard (its rows' aggregates and complexity).
        x: Cost name (``params``, ``macs``/``macs_per_second``, ``latency``/``latency_ms``).
        stem: Output path without suffix.
        budget: Limits to draw (:mod:`hearbench.report.budget`), or ``None``.

    Returns:
        The written files, or ``[]`` when no row of any aggregate has that cost.
    """
    key = cost_key(x)
    panels = [(s, panel_points(board, key, s.name, None, budget)) for s in board.task_sets if s.tasks]
    panels = [(s, p) for s, p in panels if p.points]
    if not panels:
        logger.info("no aggregated row has a %s figure; score-versus-%s plot skipped", key, x)
        return []
    fig = _new_figure(5.6 * len(panels) + 1.8, 4.4)
    labels = []
    axes = []
    for n, (task_set, panel) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), n + 1)
        axes.append(ax)
        labels.append((ax, _scatter_front(ax, panel.points, label_size=6.0, budget=budget, key=key)))
        ax.set_xlabel(cost_label(key) + _no_cost_note(key, panel.no_cost), fontsize=7)
        ax.set_ylabel(f"HEAR score over {len(task_set.tasks)} {task_set.label} task(s)")
        ax.set_title(f"{task_set.label} aggregate against {cost_label(key)}", fontsize=8)
    _legend(fig, axes)
    _render_and_label(fig, labels)
    return save_figure(fig, stem)


def plot_tasks_vs_cost(
    board: Leaderboard,
    x: str,
    stem: Path,
    ncols: int = 4,
    budget: Mapping[str, float] | None = None,
) -> list[Path]:
    """One small panel per task: primary score against cost, with each task's Pareto front.

    Returns:
        The written files, or ``[]`` when no task has a row with that cost.
    """
    key = cost_key(x)
    panels = [(c, panel_points(board, key, None, c.task, budget)) for c in board.columns]
    panels = [(c, p) for c, p in panels if p.points]
    if not panels:
        return []
    cols = min(ncols, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = _new_figure(3.2 * cols + 1.8, 2.8 * rows)
    labels = []
    axes = []
    for n, (column, panel) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, n + 1)
        axes.append(ax)
        labels.append(
            (ax, _scatter_front(ax, panel.points, column.higher_is_better, 5.0, budget, key))
        )
        ax.set_title(column.label, fontsize=8)
        ax.set_ylabel(column.metric, fontsize=7)
        ax.set_xlabel(cost_label(key) + _no_cost_note(key, panel.no_cost, limit=2, width=55), fontsize=6)
        ax.tick_params(labelsize=6)
    _legend(fig, axes)
    _render_and_label(fig, labels)
    return save_figure(fig, stem)


def plot_sweep(results: Sequence[Result], option: str, stem: Path, ncols: int = 4) -> list[Path]:
    """Score against a swept option (``layers`` or ``hop_ms``), one panel per task.

    ``hop_ms`` is drawn on a logarithmic axis at its values; ``layers`` values are categories
    in numeric order. Error bars are the std over folds.

    Returns:
        The written files, or ``[]`` when no results differ only in ``option``.
    """
    data = sweeps(results, option)
    if not data:
        logger.info("no %s sweep among the results; plot skipped", option)
        return []
    metrics = {task_key(r): r.primary_metric for r in results}
    names = sorted({label for curves in data.values() for label in curves}, key=natural_key)
    cols = min(ncols, len(data))
    rows = math.ceil(len(data) / cols)
    width = max(3.2 * cols, 6.4)
    legend_cols = max(1, min(len(names), int(width // 3.2)))
    legend_rows = math.ceil(len(names) / legend_cols)
    fig = _new_figure(width, 2.6 * rows + 0.2 + 0.2 * legend_rows)
    labels = {p.value for curves in data.values() for pts in curves.values() for p in pts}
    numeric = option == "hop_ms" and all(label_order(v)[0] == 0 and "," not in v for v in labels)
    handles: dict[str, Any] = {}
    styles = {label: f"C{i % 10}" for i, label in enumerate(names)}
    for n, (task, curves) in enumerate(data.items()):
        ax = fig.add_subplot(rows, cols, n + 1)
        order = sorted({p.value for pts in curves.values() for p in pts}, key=label_order)
        position = {v: float(v) if numeric else float(i) for i, v in enumerate(order)}
        for label, pts in curves.items():
            line = ax.errorbar(
                [position[p.value] for p in pts],
                [p.mean for p in pts],
                yerr=[0.0 if math.isnan(p.std) else p.std for p in pts],
                color=styles[label],
                marker="o",
                markersize=3,
                linewidth=1.0,
                capsize=2,
            )
            handles.setdefault(label, line)
        if numeric:
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_locator(FixedLocator([position[v] for v in order]))
        ax.set_xticklabels(order, rotation=0 if numeric else 45, fontsize=6)
        ax.set_title(task_display_name(task), fontsize=8)
        ax.set_xlabel(option, fontsize=7)
        ax.set_ylabel(metrics.get(task, "score"), fontsize=7)
        ax.tick_params(labelsize=6)
        ax.grid(True, linewidth=0.3, color="0.85")
    fig.legend(
        [handles[n] for n in names],
        names,
        loc="outside lower center",
        fontsize=7,
        frameon=False,
        ncols=legend_cols,
    )
    return save_figure(fig, stem)


def write_plots(
    board: Leaderboard,
    results: Sequence[Result],
    out_dir: Path,
    x: Sequence[str] = ("params",),
    budget: Mapping[str, float] | None = None,
) -> dict[str, list[Path]]:
    """Every plot of a report (``budget`` drawn on the score-versus-cost ones).

    Returns:
        ``{name: [png, svg]}`` for the plots written: ``score_vs_<x>``,
        ``tasks_vs_<x>``, ``sweep_layers`` and ``sweep_hop_ms``.
    """
    written: dict[str, list[Path]] = {}
    for name in x:
        key = cost_key(name)
        for stem, plot in (
            (f"score_vs_{key}", plot_score_vs_cost),
            (f"tasks_vs_{key}", plot_tasks_vs_cost),
        ):
            paths = plot(board, name, out_dir / stem, budget=budget)
            if paths:
                written[stem] = paths
    for option in SWEEP_OPTIONS:
        paths = plot_sweep(results, option, out_dir / f"sweep_{option}")
        if paths:
            written[f"sweep_{option}"] = paths
    return written


def _rows_text(rows: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def figure_captions(
    board: Leaderboard, written: Mapping[str, Sequence[Path]]
) -> list[tuple[str, Path]]:
    """``(caption, svg path)`` of each written plot, for inlining in the HTML page.

    Score-versus-cost captions name each aggregate's task set and the rows it leaves out.
    """
    labels = {c.task: c.label for c in board.columns}
    out = []
    for name, paths in written.items():
        svg = next((p for p in paths if p.suffix == ".svg"), None)
        if svg is None:
            continue
        if name.startswith("score_vs_"):
            key = name[len("score_vs_") :]
            parts = [f"HEAR score of each aggregate against {cost_label(key)}; Pareto front in red."]
            for task_set in board.task_sets:
                if not task_set.tasks:
                    continue
                panel = panel_points(board, key, task_set.name, None)
                tasks = ", ".join(labels.get(t, t) for t in task_set.tasks)
                text = f"{task_set.label} panel: over {tasks}"
                if panel.not_in:
                    text += f"; not in this aggregate: {_rows_text(panel.not_in)}"
                if panel.no_cost:
                    text += f"; no positive {cost_label(key)}: {_rows_text(panel.no_cost)}"
                parts.append(text + ".")
            caption = " ".join(parts)
        elif name.startswith("tasks_vs_"):
            caption = f"Primary score per task against {cost_label(name[len('tasks_vs_') :])}."
        else:
            caption = f"Score against {name[len('sweep_') :]} (results differing only in it)."
        if any(r.shortened for r in board.rows):
            caption += f" {SHORT_MARK} / hollow markers: shortened probe schedule."
        out.append((caption, svg))
    return out
