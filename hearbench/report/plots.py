"""Score-versus-cost plots and layer/hop sweep curves, as byte-reproducible PNG and SVG.

Costs come from each row's ``complexity`` (see :mod:`hearbench.complexity`): ``params``
(parameters of the network), ``macs_per_second`` (multiply-accumulates per second of audio) and
``latency_ms`` (median time of one timestamp-embedding call); ``macs`` and ``latency`` are
accepted as short names. A row's cost is the median over its results. The cost axis is
logarithmic, so rows without a positive cost are left out (and logged). The Pareto front (lower
cost, higher score) is drawn as a staircase and its members are labelled.

Figures are drawn on the Agg canvas without :mod:`matplotlib.pyplot`, written without dates or
software versions (PNG ``Software``, SVG ``Date``/``Creator`` metadata dropped) and with a fixed
``svg.hashsalt``, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from hearbench.api import HearbenchError
from hearbench.atomic import write_bytes_atomic
from hearbench.report.pareto import pareto_front
from hearbench.report.published import task_display_name
from hearbench.report.sweeps import label_order, natural_key, sweeps
from hearbench.report.tables import Leaderboard
from hearbench.results import Result

logger = logging.getLogger(__name__)

COST_KEYS = {
    "params": "params",
    "macs": "macs_per_second",
    "macs_per_second": "macs_per_second",
    "latency": "latency_ms",
    "latency_ms": "latency_ms",
}
COST_LABELS = {
    "params": "parameters",
    "macs_per_second": "MACs per second of audio",
    "latency_ms": "latency (ms)",
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


def _scatter_front(
    ax: Axes, points: Sequence[_Point], higher_is_better: bool = True, label_size: float = 6.0
) -> None:
    for published, color, marker, name in (
        (True, _PUBLISHED, "s", "published"),
        (False, _LOCAL, "o", "hearbench"),
    ):
        chosen = [p for p in points if p.published is published]
        if chosen:
            ax.scatter(
                [p.cost for p in chosen],
                [p.score for p in chosen],
                s=14,
                c=color,
                marker=marker,
                label=name,
                zorder=3,
                linewidths=0,
            )
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
        for i in front:
            ax.annotate(
                points[i].label,
                (points[i].cost, points[i].score),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=label_size,
                color="0.15",
            )
    ax.set_xscale("log")
    ax.margins(x=0.15, y=0.08)
    ax.grid(True, which="major", linewidth=0.3, color="0.85")


def _points(board: Leaderboard, key: str, task: str | None) -> list[_Point]:
    points, skipped = [], []
    for row in board.rows:
        if task is None:
            score = row.hear_score
        else:
            cell = row.cells.get(task)
            score = cell.mean if cell is not None else math.nan
        if math.isnan(score):
            continue
        cost = row.complexity.get(key)
        if cost is None or not math.isfinite(cost) or cost <= 0:
            skipped.append(row.label)
            continue
        points.append(_Point(float(cost), float(score), row.label, row.published))
    if skipped:
        logger.debug("no positive %s for %s: left out", key, ", ".join(skipped))
    return points


def plot_score_vs_cost(board: Leaderboard, x: str, stem: Path) -> list[Path]:
    """HEAR score of every row against its cost, with the Pareto front; PNG and SVG.

    Args:
        board: The leaderboard (its rows' HEAR scores and complexity).
        x: Cost name (``params``, ``macs``/``macs_per_second``, ``latency``/``latency_ms``).
        stem: Output path without suffix.

    Returns:
        The written files, or ``[]`` when no row has that cost.
    """
    key = cost_key(x)
    points = _points(board, key, None)
    if len(points) < len(board.rows):
        logger.info(
            "%d of %d rows have no %s figure", len(board.rows) - len(points), len(board.rows), key
        )
    if not points:
        logger.info("no row has a %s figure; score-versus-%s plot skipped", key, x)
        return []
    fig = _new_figure(6.4, 4.4)
    ax = fig.add_subplot()
    _scatter_front(ax, points, label_size=6.5)
    ax.set_xlabel(cost_label(key))
    ax.set_ylabel("HEAR score (normalised, mean over tasks)")
    ax.set_title(f"Score against {cost_label(key)}")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return save_figure(fig, stem)


def plot_tasks_vs_cost(board: Leaderboard, x: str, stem: Path, ncols: int = 4) -> list[Path]:
    """One small panel per task: primary score against cost, with each task's Pareto front.

    Returns:
        The written files, or ``[]`` when no task has a row with that cost.
    """
    key = cost_key(x)
    panels = [(c, _points(board, key, c.task)) for c in board.columns]
    panels = [(c, p) for c, p in panels if p]
    if not panels:
        return []
    cols = min(ncols, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = _new_figure(3.2 * cols, 2.6 * rows)
    for n, (column, points) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, n + 1)
        _scatter_front(ax, points, column.higher_is_better, label_size=5.0)
        ax.set_title(column.label, fontsize=8)
        ax.set_ylabel(column.metric, fontsize=7)
        ax.set_xlabel(cost_label(key), fontsize=7)
        ax.tick_params(labelsize=6)
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
) -> dict[str, list[Path]]:
    """Every plot of a report.

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
            paths = plot(board, name, out_dir / stem)
            if paths:
                written[stem] = paths
    for option in SWEEP_OPTIONS:
        paths = plot_sweep(results, option, out_dir / f"sweep_{option}")
        if paths:
            written[f"sweep_{option}"] = paths
    return written


def figure_captions(written: Mapping[str, Sequence[Path]]) -> list[tuple[str, Path]]:
    """``(caption, svg path)`` of each written plot, for inlining in the HTML page."""
    out = []
    for name, paths in written.items():
        svg = next((p for p in paths if p.suffix == ".svg"), None)
        if svg is None:
            continue
        if name.startswith("score_vs_"):
            caption = (
                f"HEAR score against {cost_label(name[len('score_vs_') :])}; Pareto front in red."
            )
        elif name.startswith("tasks_vs_"):
            caption = f"Primary score per task against {cost_label(name[len('tasks_vs_') :])}."
        else:
            caption = f"Score against {name[len('sweep_') :]} (results differing only in it)."
        out.append((caption, svg))
    return out
