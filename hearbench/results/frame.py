"""Results as a tidy pandas DataFrame, and the pivots that make leaderboards of it.

:func:`load_results` reads results folders (and, optionally, published scores) into one row per
embedder configuration × task × probe × fold × metric. :func:`to_wide` pivots any metric to one
row per configuration and probe, one column per task; :func:`leaderboard` does so for the
primary metrics, as the leaderboard tables show them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hearbench.api import HearbenchError
from hearbench.results.hear2021 import canonical_task_name
from hearbench.results.published import resolve_published
from hearbench.results.records import Result, read_results

if TYPE_CHECKING:
    import pandas as pd

ID_COLUMNS = ("source", "embedder_id", "probe")
"""Columns that identify one leaderboard row."""

BASE_COLUMNS = (
    "source",
    "results_dir",
    "embedder_id",
    "embedder",
    "family",
    "weights_sha256",
    "pretrained",
    "probe",
    "probe_params",
    "probe_options",
    "shortened",
    "task",
    "task_name",
    "task_version",
    "metric",
    "primary",
    "higher_is_better",
    "fold",
    "value",
)
SHORTENING_OPTIONS = ("max_epochs", "points")


def _higher(metric: str) -> bool | None:
    from hearbench.metrics import get_metric

    try:
        return get_metric(metric).higher_is_better
    except (HearbenchError, KeyError):
        return None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def result_records(result: Result, results_dir: str = "") -> list[dict[str, Any]]:
    """The tidy rows of one result: one per fold of every metric (one per metric when the
    result has no per-fold values, as published scores)."""

    embedder = result.embedder
    probe_options = dict(result.probe.get("options") or {})
    base: dict[str, Any] = {
        "source": "published" if result.published else "local",
        "results_dir": results_dir,
        "embedder_id": result.embedder_id,
        "embedder": str(embedder.get("name", result.embedder_id)),
        "family": str(embedder.get("family") or embedder.get("name", "")),
        "weights_sha256": embedder.get("weights_sha256"),
        "pretrained": embedder.get("pretrained"),
        "probe": result.probe_label,
        "probe_params": _json(result.probe.get("params") or {}),
        "probe_options": _json(probe_options),
        "shortened": any(k in probe_options for k in SHORTENING_OPTIONS),
        "task": canonical_task_name(result.task),
        "task_name": str(result.task["name"]),
        "task_version": result.task.get("version"),
    }
    for key, value in sorted((embedder.get("options") or {}).items()):
        base[f"option.{key}"] = _json(value) if isinstance(value, list | dict) else value
    for key, value in sorted((result.complexity or {}).items()):
        if isinstance(value, int | float) and not isinstance(value, bool):
            base[f"complexity.{key}"] = float(value)
    rows = []
    for metric in sorted(result.scores):
        score = result.scores[metric]
        folds: Sequence[float | None] = score.folds if score.folds else (score.mean,)
        for fold, value in enumerate(folds):
            rows.append(
                {
                    **base,
                    "metric": metric,
                    "primary": metric == result.primary_metric,
                    "higher_is_better": _higher(metric),
                    "fold": fold if score.folds else math.nan,
                    "value": float(value) if value is not None else math.nan,
                }
            )
    return rows


def results_frame(results: Iterable[Result], results_dir: str = "") -> pd.DataFrame:
    """The tidy frame of some results (see :func:`load_results`)."""
    import pandas as pd

    records = [row for r in results for row in result_records(r, results_dir)]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return pd.DataFrame(columns=list(BASE_COLUMNS))
    extra = sorted(c for c in frame.columns if c not in BASE_COLUMNS)
    return frame[[*BASE_COLUMNS, *extra]]


def load_results(
    dirs: str | Path | Sequence[str | Path],
    with_published: str | Path | Sequence[Result] | None = None,
) -> pd.DataFrame:
    """Every result under one or more results folders as a tidy DataFrame.

    One row per embedder configuration × task × probe × fold × metric, with columns
    ``source`` (``local`` or ``published``), ``results_dir``, ``embedder_id``, ``embedder``,
    ``family``, ``weights_sha256``, ``pretrained``, ``probe``, ``probe_params`` and
    ``probe_options`` (JSON), ``shortened`` (a shortened probe schedule), ``task`` (the column
    key: the official HEAR name for HEAR 2021 tasks), ``task_name``, ``task_version``,
    ``metric``, ``primary``, ``higher_is_better``, ``fold`` (NaN for published means),
    ``value``, then ``option.<name>`` for every embedder option and ``complexity.<key>`` for
    every numeric complexity figure.

    Args:
        dirs: A results folder or several.
        with_published: Published scores to add (``"hear2021"``, a leaderboard CSV, or
            results), as ``source="published"`` rows.

    Raises:
        HearbenchError: if a folder is missing or holds a malformed result.
    """
    import pandas as pd


    folders = [dirs] if isinstance(dirs, str | Path) else list(dirs)
    frames = [results_frame(read_results(d), str(d)) for d in folders]
    if with_published is not None:
        frames.append(results_frame(resolve_published(with_published), ""))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(BASE_COLUMNS))
    frame = pd.concat(frames, ignore_index=True)
    extra = sorted(c for c in frame.columns if c not in BASE_COLUMNS)
    return frame[[*BASE_COLUMNS, *extra]]


def to_wide(
    frame: pd.DataFrame, metric: str | None = None, stat: str = "mean"
) -> pd.DataFrame:
    """One row per (source, embedder id, probe), one column per task.

    Args:
        frame: A tidy frame from :func:`load_results`.
        metric: The metric to show; ``None`` for each task's primary metric.
        stat: Aggregate over folds: ``mean`` or ``std`` (sample std, as the results record).
    """

    if stat not in ("mean", "std"):
        raise HearbenchError(f"stat must be mean or std, got {stat!r}")
    chosen = frame[frame["primary"]] if metric is None else frame[frame["metric"] == metric]
    grouped = chosen.groupby([*ID_COLUMNS, "task"], sort=True)["value"]
    values = grouped.mean() if stat == "mean" else grouped.std(ddof=1).fillna(0.0)
    wide = values.unstack("task")
    wide.columns.name = None
    return wide


def leaderboard(frame: pd.DataFrame) -> pd.DataFrame:
    """Primary scores (mean over folds) by row and task, as the leaderboard tables show them."""
    return to_wide(frame, None, "mean")
