"""Layer and hop sweep curves: score against a swept option, one panel per task."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.ticker import FixedLocator, NullLocator

from hearbench.report.figures import new_figure, save_figure
from hearbench.report.sweeps import label_order, natural_key, sweeps
from hearbench.report.tables import task_key
from hearbench.results import Result
from hearbench.results.hear2021 import task_display_name

logger = logging.getLogger(__name__)

SWEEP_OPTIONS = ("layers", "hop_ms")


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
    fig = new_figure(width, 2.6 * rows + 0.2 + 0.2 * legend_rows)
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


