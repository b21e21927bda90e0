"""The reporter: leaderboard tables, plots and one HTML page from stored results.

:func:`write_report` reads results (a results folder or :class:`~hearbench.results.Result`
objects), optionally adds published reference scores, computes confidence intervals and
significance from the stored test predictions, and writes ``leaderboard.{md,csv,tex}``, the
probe-sensitivity tables ``probes.{md,csv}`` when several probes were run on several embedders, the plots
(``score_vs_<cost>``, ``tasks_vs_<cost>``, ``sweep_layers``, ``sweep_hop_ms``; PNG and SVG)
and ``index.html``, the whole report in one self-contained page. When some results hold a
robustness summary, ``robustness.{md,csv,tex}`` and the ``robustness_vs_<cost>`` plots are
written too (:mod:`hearbench.report.robustness_table`); the leaderboard takes their clean
scores only for configurations without a clean result of their own. A budget
(:mod:`hearbench.report.budget`) is drawn on every complexity plot. Outputs depend only on the
inputs, rounded so that noise in their last bits changes nothing: the same results give
byte-identical files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hearbench.api import HearbenchError
from hearbench.atomic import write_bytes_atomic
from hearbench.predictions import PredictionsLike
from hearbench.report.budget import budget_text, check_budget
from hearbench.report.costs import check_cost_axes
from hearbench.report.html import report_page
from hearbench.report.plots import figure_captions, write_plots
from hearbench.report.render import FORMATS, frame_markdown, render
from hearbench.report.robustness_plots import write_robustness_plots
from hearbench.report.robustness_table import (
    notes as robustness_notes,
)
from hearbench.report.robustness_table import (
    render_robustness,
    robustness_frame,
    text_frame,
)
from hearbench.report.sensitivity import probe_sensitivity
from hearbench.report.stats import PairedMethod, cell_statistics, stored_predictions
from hearbench.report.tables import build_leaderboard, task_key
from hearbench.results import Result, read_results
from hearbench.results.published import resolve_published as resolve_published

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "resolve_published", "write_report"]


def _inputs(
    source: str | Path | Sequence[Result],
) -> tuple[list[Result], list[tuple[Result, PredictionsLike | None]]]:
    if isinstance(source, str | Path):
        root = Path(source)
        results = read_results(root)
        return results, [(r, None if r.published else stored_predictions(root, r)) for r in results]
    results = list(source)
    return results, []


def leaderboard_results(results: Sequence[Result]) -> list[Result]:
    """The results the leaderboard shows: every clean result, and the clean score of a
    robustness result whose (embedder, task, probe) has no clean result (the first one)."""
    chosen = [r for r in results if r.robustness is None]
    taken = {(r.embedder_id, task_key(r), r.probe_label, r.published) for r in chosen}
    for result in results:
        key = (result.embedder_id, task_key(result), result.probe_label, result.published)
        if result.robustness is not None and key not in taken:
            taken.add(key)
            chosen.append(result)
    return chosen


def write_report(
    results_dir_or_results: str | Path | Sequence[Result],
    out_dir: str | Path,
    formats: Sequence[str] = FORMATS,
    x: Sequence[str] = ("params",),
    with_published: str | Path | Sequence[Result] | None = None,
    *,
    stats: bool = True,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    method: PairedMethod = "permutation",
    aggregate_over: Sequence[str] | None = None,
    impute: bool = False,
    plots: bool = True,
    budget: Mapping[str, float] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the leaderboard tables and plots of some results.

    Args:
        results_dir_or_results: A results folder (predictions are read from beside each
            result) or results (no predictions, so no intervals or significance).
        out_dir: Folder for the outputs (created if needed).
        formats: Formats among ``md``, ``csv``, ``tex`` (tables) and ``html``
            (``index.html``).
        x: Costs for the score-versus-cost plots (``params``, ``macs``, ``latency``, the
            head's ``head_params``/``head_macs_per_second``, the embedder + head
            ``total_params``/``total_macs_per_second``, or another numeric complexity key;
            :func:`hearbench.report.costs.check_cost_axes`).
        with_published: Published scores to add: a suite name (``"hear2021"``), a
            leaderboard CSV, or results.
        stats: Compute bootstrap intervals and paired tests from stored predictions.
        n_boot: Resamples for intervals and tests.
        alpha: 1 - confidence level, and the significance level of ``†``.
        seed: Seed of all resampling.
        method: Paired test (``"permutation"`` or ``"bootstrap"``).
        aggregate_over: Task sets of the aggregates (:mod:`hearbench.report.tasksets`);
            ``None`` = per group the tasks its rows share.
        impute: Admit rows missing some tasks of a set, imputing them as HEAR 2021 did.
        plots: Write the plots.
        budget: Upper limits on complexity figures (``{"params": 128000}``), drawn on every
            complexity plot with the rows inside them marked.
        on_stage: Called with one line as each long stage starts (statistics, tables, plots).

    Returns:
        The files written: tables in ``formats`` order, probe tables, plots, then the page.

    Raises:
        HearbenchError: if there is nothing to report, a format is unknown or a cost is.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise HearbenchError(f"format(s) {unknown} unknown; choose from {', '.join(FORMATS)}")
    check_cost_axes(x)
    budget = check_budget(budget or {})
    results, entries = _inputs(results_dir_or_results)
    if with_published is not None:
        published = resolve_published(with_published)
        results = results + published
        entries = entries + [(r, None) for r in published]
    if not results:
        raise HearbenchError("no results to report")
    robust = robustness_frame(results, budget)
    shown = {id(r) for r in leaderboard_results(results)}
    all_results = results
    results = [r for r in results if id(r) in shown]
    entries = [e for e in entries if id(e[0]) in shown]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    build_leaderboard(results, None, aggregate_over, impute)  # bad task sets fail before the stats
    cell_stats = None
    significance = None
    stage = on_stage or (lambda _text: None)
    if stats and any(p is not None for _, p in entries):
        paired = sum(p is not None for _, p in entries)
        stage(f"statistics: bootstrap intervals and paired tests of {paired} results ({n_boot} resamples)")
        cell_stats = cell_statistics(entries, n_boot, alpha, seed, method)
        significance = (
            f"paired {method} test over shared test items, {n_boot} resamples, p ≥ {alpha:g}"
        )
    board = build_leaderboard(results, cell_stats, aggregate_over, impute, significance)
    sensitivity = probe_sensitivity(board)

    plot_paths: dict[str, list[Path]] = {}
    robust_plots: dict[str, list[Path]] = {}
    stage(f"tables of {len(board.rows)} rows × {len(board.columns)} tasks")
    if plots:
        stage(f"plots against {', '.join(x)}")
        plot_paths = write_plots(board, results, out, x, budget)
        robust_plots = write_robustness_plots(all_results, out, x, budget)
    written = []
    for fmt in formats:
        if fmt != "html":
            text = render(board, fmt)
            written.append(write_bytes_atomic(out / f"leaderboard.{fmt}", text.encode("utf-8")))
    if robust is not None:
        for fmt in formats:
            if fmt != "html":
                text = render_robustness(robust, fmt, budget)
                written.append(write_bytes_atomic(out / f"robustness.{fmt}", text.encode("utf-8")))
    if sensitivity is not None:
        ranks, taus = sensitivity
        md = f"{frame_markdown(ranks)}\n\n{frame_markdown(taus)}\n"
        written.append(write_bytes_atomic(out / "probes.md", md.encode("utf-8")))
        csv = taus.to_csv(index=False, lineterminator="\n")
        written.append(write_bytes_atomic(out / "probes.csv", csv.encode("utf-8")))
    written += [p for paths in plot_paths.values() for p in paths]
    written += [p for paths in robust_plots.values() for p in paths]
    if "html" in formats:
        figures = [
            (caption, svg.read_text(encoding="utf-8"))
            for caption, svg in figure_captions(board, plot_paths)
        ]
        limits = f" Budget ({budget_text(budget)}) dashed in green, rows inside it ringed." if budget else ""
        if figures and budget:
            figures = [(caption + limits, svg) for caption, svg in figures]
        figures += [
            (
                f"Unseen-device score and drop from clean against {name[len('robustness_vs_'):]}, "
                f"Pareto fronts in red.{limits}",
                next(p for p in paths if p.suffix == ".svg").read_text(encoding="utf-8"),
            )
            for name, paths in robust_plots.items()
        ]
        robust_section = (
            (text_frame(robust), robustness_notes(budget)) if robust is not None else None
        )
        page = report_page(board, figures, results, sensitivity, robust_section)
        written.append(write_bytes_atomic(out / "index.html", page.encode("utf-8")))
    remove_stale_outputs(out, written)
    logger.info("report of %d results written to %s (%d files)", len(results), out, len(written))
    return written


REPORT_OUTPUTS = (
    "index.html",
    "leaderboard.*",
    "robustness.*",
    "probes.*",
    "score_vs_*",
    "tasks_vs_*",
    "robustness_vs_*",
    "sweep_*",
)
"""The names of what :func:`write_report` writes; anything else in the folder is left alone."""


def remove_stale_outputs(out: Path, written: list[Path]) -> list[Path]:
    """Delete the report outputs in ``out`` that this report did not write; return them.

    A report regenerated into its folder holds exactly this report: a table or plot of an earlier
    report (a probe-sensitivity table before the results came down to one embedder, a plot of a
    cost no longer asked for) would otherwise sit beside it as if it were current.
    """
    kept = {p.resolve() for p in written}
    stale = sorted(
        {p for pattern in REPORT_OUTPUTS for p in out.glob(pattern) if p.is_file() and p.resolve() not in kept}
    )
    for path in stale:
        path.unlink()
        logger.info("removed %s (not part of this report)", path)
    return stale
