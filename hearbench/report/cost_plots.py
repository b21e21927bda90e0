"""Score-versus-cost plots: each aggregate's HEAR score, and each task's primary score,
against a cost, with the Pareto fronts and a budget."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

from hearbench.report.cost_panels import (
    figure_legend,
    no_cost_note,
    panel_points,
    render_and_label,
    scatter_front,
)
from hearbench.report.costs import cost_key, cost_label
from hearbench.report.figures import new_figure, save_figure
from hearbench.report.tables import Leaderboard

logger = logging.getLogger(__name__)


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
    fig = new_figure(5.6 * len(panels) + 1.8, 4.4)
    labels = []
    axes = []
    for n, (task_set, panel) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), n + 1)
        axes.append(ax)
        labels.append((ax, scatter_front(ax, panel.points, label_size=6.0, budget=budget, key=key)))
        ax.set_xlabel(cost_label(key) + no_cost_note(key, panel.no_cost), fontsize=7)
        ax.set_ylabel(f"HEAR score over {len(task_set.tasks)} {task_set.label} task(s)")
        ax.set_title(f"{task_set.label} aggregate against {cost_label(key)}", fontsize=8)
    figure_legend(fig, axes)
    render_and_label(fig, labels)
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
    fig = new_figure(3.2 * cols + 1.8, 2.8 * rows)
    labels = []
    axes = []
    for n, (column, panel) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, n + 1)
        axes.append(ax)
        labels.append(
            (ax, scatter_front(ax, panel.points, column.higher_is_better, 5.0, budget, key))
        )
        ax.set_title(column.label, fontsize=8)
        ax.set_ylabel(column.metric, fontsize=7)
        ax.set_xlabel(cost_label(key) + no_cost_note(key, panel.no_cost, limit=2, width=55), fontsize=6)
        ax.tick_params(labelsize=6)
    figure_legend(fig, axes)
    render_and_label(fig, labels)
    return save_figure(fig, stem)


