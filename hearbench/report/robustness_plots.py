"""Unseen-device score and drop against complexity, with Pareto fronts and the budget.

``robustness_vs_<cost>``: one row of panels per task, the unseen mean (higher is better) and
the drop from clean (lower is better) of every robustness result against its cost, each with
its Pareto front; a budget (:mod:`hearbench.report.budget`) is drawn as on every complexity
plot. Rows without a positive cost are left out and named under the axis.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from hearbench.report.budget import inside
from hearbench.report.cost_panels import (
    Point,
    figure_legend,
    no_cost_note,
    plotted,
    render_and_label,
    scatter_front,
)
from hearbench.report.costs import cost_key, cost_label
from hearbench.report.figures import new_figure, save_figure
from hearbench.report.robustness_table import robustness_results
from hearbench.report.tables import variant_names
from hearbench.results import Result

logger = logging.getLogger(__name__)


def _numeric(result: Result) -> dict[str, float]:
    return {
        str(k): float(v)
        for k, v in (result.complexity or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
    }


def robustness_points(
    results: Sequence[Result], key: str, field: str, budget: Mapping[str, float] | None = None
) -> dict[str, tuple[list[Point], list[str]]]:
    """Per task: the points of ``field`` (``unseen_mean`` or ``drop``) against cost ``key``,
    and the labels of rows without a positive cost."""
    chosen = robustness_results(results)
    names = variant_names({r.embedder_id: r.embedder for r in chosen})
    out: dict[str, tuple[list[Point], list[str]]] = {}
    for result in chosen:
        assert result.robustness is not None
        task = str(result.task["name"])
        points, no_cost = out.setdefault(task, ([], []))
        label = f"{names.get(result.embedder_id, result.embedder_id)} ({result.probe_label})"
        complexity = _numeric(result)
        cost = complexity.get(key)
        if cost is None or cost <= 0:
            no_cost.append(label)
            continue
        value = float(result.robustness.to_dict()[field])
        points.append(
            Point(
                plotted(cost, significant=True),
                plotted(value),
                label,
                False,
                inside=inside(complexity, budget or {}),
            )
        )
    return out


def plot_robustness_vs_cost(
    results: Sequence[Result], x: str, stem: Path, budget: Mapping[str, float] | None = None
) -> list[Path]:
    """Unseen mean and drop against cost ``x``, one row of two panels per task.

    Returns:
        The written files, or ``[]`` when no robustness result has that cost.
    """
    key = cost_key(x)
    unseen = robustness_points(results, key, "unseen_mean", budget)
    drops = robustness_points(results, key, "drop", budget)
    tasks = [t for t in sorted(unseen) if unseen[t][0]]
    if not tasks:
        logger.info("no robustness result has a %s figure; plot skipped", key)
        return []
    metric = {str(r.task["name"]): r.primary_metric for r in robustness_results(results)}
    fig = new_figure(2 * 4.2 + 2.2, 3.4 * len(tasks))
    labels = []
    axes = []
    for row, task in enumerate(tasks):
        for col, (data, higher, title) in enumerate(
            (
                (unseen, True, f"{task}: unseen-device {metric[task]}"),
                (drops, False, f"{task}: drop from clean (lower is better)"),
            )
        ):
            points, no_cost = data[task]
            ax = fig.add_subplot(len(tasks), 2, 2 * row + col + 1)
            axes.append(ax)
            labels.append((ax, scatter_front(ax, points, higher, 5.5, budget, key)))
            ax.set_title(title, fontsize=8)
            ax.set_ylabel("unseen mean" if col == 0 else "drop", fontsize=7)
            ax.set_xlabel(cost_label(key) + no_cost_note(key, no_cost, limit=2, width=55), fontsize=7)
            ax.tick_params(labelsize=6)
    figure_legend(fig, axes)
    render_and_label(fig, labels)
    return save_figure(fig, stem)


def write_robustness_plots(
    results: Sequence[Result],
    out_dir: Path,
    x: Sequence[str],
    budget: Mapping[str, float] | None = None,
) -> dict[str, list[Path]]:
    """``{robustness_vs_<cost>: [png, svg]}`` for each cost with robustness points."""
    written: dict[str, list[Path]] = {}
    for name in x:
        stem = f"robustness_vs_{cost_key(name)}"
        paths = plot_robustness_vs_cost(results, name, out_dir / stem, budget)
        if paths:
            written[stem] = paths
    return written
