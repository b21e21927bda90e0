"""Every plot of a report: the score-versus-cost plots (:mod:`hearbench.report.cost_plots`)
and the layer/hop sweep curves (:mod:`hearbench.report.sweep_plots`), and their captions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from hearbench.report.cost_panels import panel_points
from hearbench.report.cost_plots import plot_score_vs_cost, plot_tasks_vs_cost
from hearbench.report.costs import cost_key, cost_label
from hearbench.report.sweep_plots import SWEEP_OPTIONS, plot_sweep
from hearbench.report.tables import SHORT_MARK, Leaderboard
from hearbench.results import Result


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
