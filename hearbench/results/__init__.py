"""Stored results: the records on disk, published scores, and the tidy DataFrame of them all.

:mod:`~hearbench.results.records` writes and reads one result (and its predictions) per
embedder × task × probe; :mod:`~hearbench.results.published` reads published leaderboards into
the same records, their columns the tasks of :mod:`~hearbench.results.hear2021`;
:mod:`~hearbench.results.frame` turns any of them into one pandas DataFrame (:func:`load_results`),
from which every table, aggregate and plot is derived.
"""

from hearbench.results.frame import leaderboard, load_results, results_frame, to_wide
from hearbench.results.published import load_published, resolve_published
from hearbench.results.records import (
    Result,
    Score,
    pair_problem,
    predictions_path,
    probe_run_name,
    prune_results,
    read_predictions,
    read_result,
    read_results,
    read_valid_result,
    result_path,
    result_predictions,
    write_result,
)
from hearbench.results.rescore import frame_metrics_per_fold

__all__ = [
    "Result",
    "Score",
    "frame_metrics_per_fold",
    "leaderboard",
    "load_published",
    "load_results",
    "pair_problem",
    "predictions_path",
    "probe_run_name",
    "prune_results",
    "read_predictions",
    "read_result",
    "read_results",
    "read_valid_result",
    "resolve_published",
    "result_path",
    "result_predictions",
    "results_frame",
    "to_wide",
    "write_result",
]
