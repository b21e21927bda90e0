"""Leaderboard tables: one row per embedder configuration, one column per task.

A cell is the task's primary score, mean ± std over folds (:class:`~hearbench.results.Score`);
a task a row has no result for is shown as missing ("—"), never as zero. Two aggregate columns
follow the label:

* **HEAR score**, the normalisation of the HEAR 2021 leaderboard (hearbenchmark/hear-leaderboard,
  ``leaderboard.py``; Turian et al., PMLR, 2022): missing cells of the rows × tasks matrix
  are imputed with scikit-learn's ``IterativeImputer(max_iter=10, random_state=0)``; each task
  column is standardised to zero mean and unit variance across the rows (``StandardScaler``,
  population std; a constant column becomes 0); the standardised values are clamped to
  [-1, +1]; a row's score is their mean over all tasks, every task weighted equally. HEAR 2021
  had no lower-is-better primary metric; here such columns (``segment_1s_er``) are negated
  first, so that higher is better everywhere. The score is relative to the rows in the table.
  ``missing="omit"`` is an alternative that skips imputation: standardise over the observed
  cells and average a row over the tasks it has.
* **Score/best**: each score divided by the best score on its task in the table (best ÷ score
  for lower-is-better metrics), averaged over the tasks the row has, shown with its task count.

Rows are sorted by HEAR score (descending), then label; columns by display name, then task
name. :mod:`hearbench.report.render` prints a leaderboard as Markdown, CSV, LaTeX or HTML.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hearbench.api import HearbenchError
from hearbench.metrics import get_metric
from hearbench.report.published import canonical_task_name, task_display_name
from hearbench.results import Result

logger = logging.getLogger(__name__)

RowKey = tuple[str, str, bool]
"""A row's identity: (embedder id, probe name, published)."""

Missing = Literal["impute", "omit"]
MISSING = "—"
PUBLISHED_MARK = "‡"
TIED_MARK = "†"


@dataclass(frozen=True)
class CellStats:
    """Uncertainty of one cell, computed from its stored test predictions.

    Attributes:
        ci_low: Lower end of the bootstrap confidence interval of the primary score.
        ci_high: Upper end of the same.
        same_as_best: ``True`` when the difference to the column's best row is not
            significant, ``False`` when it is, ``None`` when it was not tested.
    """

    ci_low: float = math.nan
    ci_high: float = math.nan
    same_as_best: bool | None = None


@dataclass(frozen=True)
class Column:
    """One task column.

    Attributes:
        task: Task key (the official HEAR name for HEAR 2021 tasks, else the task name).
        label: Display name.
        metric: Primary metric.
        higher_is_better: Direction of the metric.
    """

    task: str
    label: str
    metric: str
    higher_is_better: bool


@dataclass(frozen=True)
class Cell:
    """One score of the table.

    Attributes:
        mean: Mean over folds.
        std: Std over folds as the result records it (NaN when unknown, as for published
            scores).
        best: Whether it is the column's best score.
        stats: Confidence interval and significance, when computed.
    """

    mean: float
    std: float
    best: bool = False
    stats: CellStats | None = None


@dataclass(frozen=True)
class Row:
    """One embedder configuration (with its probe).

    Attributes:
        key: (embedder id, probe name, published).
        label: Display label.
        cells: Cell by task key; absent tasks are missing.
        hear_score: HEAR normalised score (see module docstring).
        score_over_best: Mean of score ÷ best over the row's tasks.
        complexity: Numeric complexity figures (median over the row's results).
        embedder: The embedder record of the row's first result.
    """

    key: RowKey
    label: str
    cells: Mapping[str, Cell]
    hear_score: float
    score_over_best: float
    complexity: Mapping[str, float] = field(default_factory=dict)
    embedder: Mapping[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        """Whether the row holds published scores."""
        return self.key[2]


@dataclass(frozen=True)
class Leaderboard:
    """A rows × tasks table with its aggregates, ready to render.

    Attributes:
        columns: Task columns in display order.
        rows: Rows in display order.
        missing: How the HEAR score treated missing cells.
        significance: How ``†`` was decided, or ``None`` when it was not.
    """

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    missing: Missing = "impute"
    significance: str | None = None

    def notes(self) -> list[str]:
        """Footnotes that say what the numbers are."""
        notes = [
            "Cells: primary metric on the test folds, mean ± std over folds as the result "
            f"records them; {MISSING} = no result (never counted as zero).",
        ]
        if any(r.published for r in self.rows):
            notes.append(
                f"{PUBLISHED_MARK} Published HEAR 2021 leaderboard score "
                "(hearbenchmark/hear-leaderboard; fold mean only, no std)."
            )
        if self.missing == "impute":
            notes.append(
                "HEAR score: the HEAR 2021 leaderboard normalisation (hear-leaderboard "
                "leaderboard.py; Turian et al., PMLR, 2022). Missing cells are imputed with "
                "scikit-learn IterativeImputer(max_iter=10, random_state=0); each task is "
                "standardised to zero mean and unit variance across the rows of this table "
                "(population std), clamped to [-1, +1] and averaged over all tasks with equal "
                "weight. Lower-is-better metrics are negated first. Relative to the rows shown."
            )
        else:
            notes.append(
                "HEAR score: each task standardised to zero mean and unit variance over the "
                "rows that have it (population std), clamped to [-1, +1] and averaged over the "
                "tasks the row has (no imputation). Lower-is-better metrics are negated first. "
                "Relative to the rows shown."
            )
        notes.append(
            "Score/best: score ÷ best score on the task in this table (best ÷ score for "
            "lower-is-better metrics), averaged over the tasks the row has; Tasks: how many."
        )
        marks = "Bold: best on the task."
        if self.significance:
            marks += (
                f" {TIED_MARK} not significantly different from the best ({self.significance})."
            )
        notes.append(marks)
        if any(c.stats is not None for r in self.rows for c in r.cells.values()):
            notes.append("95% bootstrap confidence intervals over test items are in the CSV.")
        metrics = "; ".join(
            f"{c.label}: {c.metric} ({'higher' if c.higher_is_better else 'lower'} is better)"
            for c in self.columns
        )
        notes.append(f"Primary metrics: {metrics}.")
        return notes


def task_key(result: Result) -> str:
    """The column a result belongs to (:func:`.published.canonical_task_name`)."""
    return canonical_task_name(result.task)


def row_key(result: Result) -> RowKey:
    """The row a result belongs to."""
    return (result.embedder_id, str(result.probe["name"]), result.published)


def metric_direction(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better."""
    return get_metric(metric).higher_is_better


def _impute(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        filled = IterativeImputer(max_iter=10, random_state=0).fit_transform(matrix)
    for warning in caught:
        logger.info("HEAR score imputation: %s", warning.message)
    return np.asarray(filled, dtype=np.float64)


def _standardize(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    from sklearn.preprocessing import StandardScaler

    return np.asarray(StandardScaler().fit_transform(matrix), dtype=np.float64)


def hear_normalized_score(
    values: npt.ArrayLike, higher_is_better: Sequence[bool], missing: Missing = "impute"
) -> npt.NDArray[np.float64]:
    """The HEAR 2021 leaderboard's normalised score of each row.

    Args:
        values: ``(rows, tasks)`` primary scores, NaN where a row has no result.
        higher_is_better: Direction of each task's metric; lower-is-better columns are negated.
        missing: ``"impute"`` (the leaderboard's procedure) or ``"omit"`` (see module docstring).

    Returns:
        ``(rows,)`` scores in [-1, 1].

    Raises:
        ValueError: if the shapes disagree or a task has no score at all.
    """
    x = np.array(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(higher_is_better):
        raise ValueError(f"values {x.shape} must be (rows, {len(higher_is_better)})")
    if x.shape[0] == 0 or x.shape[1] == 0:
        return np.full(x.shape[0], np.nan)
    x = x * np.where(np.asarray(higher_is_better, dtype=bool), 1.0, -1.0)
    observed = ~np.isnan(x)
    if not observed.any(axis=0).all():
        raise ValueError("every task needs at least one score")
    if missing == "impute":
        if not observed.all():
            x = _impute(x)
        return np.asarray(np.clip(_standardize(x), -1.0, 1.0).mean(axis=1), dtype=np.float64)
    if missing == "omit":
        z = np.clip(_standardize(x), -1.0, 1.0)
        return np.asarray(np.nanmean(z, axis=1), dtype=np.float64)
    raise ValueError(f"missing must be 'impute' or 'omit', got {missing!r}")


def score_over_best(
    values: npt.ArrayLike, higher_is_better: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """Each row's mean over its tasks of score ÷ best score on the task.

    For lower-is-better tasks the ratio is best ÷ score, so 1 is the best row either way. A
    ratio with a zero denominator is NaN and left out. Meant for non-negative scores.

    Args:
        values: ``(rows, tasks)`` primary scores, NaN where a row has no result.
        higher_is_better: Direction of each task's metric.

    Returns:
        ``(rows,)`` mean ratios; NaN for a row with no usable task.
    """
    x = np.array(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(higher_is_better):
        raise ValueError(f"values {x.shape} must be (rows, {len(higher_is_better)})")
    ratios = np.full_like(x, np.nan)
    for j, hib in enumerate(higher_is_better):
        col = x[:, j]
        if np.isnan(col).all():
            continue
        best = np.nanmax(col) if hib else np.nanmin(col)
        num, den = (col, np.full_like(col, best)) if hib else (np.full_like(col, best), col)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[:, j] = np.where(den != 0, num / den, np.nan)
    out = np.full(x.shape[0], np.nan)
    has = ~np.isnan(ratios).all(axis=1)
    out[has] = np.nanmean(ratios[has], axis=1)
    return out


def option_label(value: Any) -> str:
    """Text of an option value (lists joined by commas, integral floats without ``.0``)."""
    if isinstance(value, list | tuple):
        return ",".join(option_label(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def variant_names(embedders: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Readable names of embedder ids that share a registered name.

    Ids of one name (``mn04_as``, ``mn04_as-1a2b3c4d``, ...) are told apart by the options whose
    values differ between them, e.g. ``mn04_as [mode=frames, hop_ms=20]``, plus the weights
    (``weights 9f3d947b``) or ``random weights`` where those differ. An id alone under its
    name keeps the id.

    Args:
        embedders: ``{embedder id: the result's embedder record}``.
    """
    groups: dict[str, list[str]] = {}
    for ident, record in embedders.items():
        groups.setdefault(str(record.get("name", ident)), []).append(ident)
    names = {ident: ident for ident in embedders}
    for name, idents in groups.items():
        if len(idents) < 2:
            continue
        options = {i: dict(embedders[i].get("options") or {}) for i in idents}
        keys = sorted({k for opts in options.values() for k in opts})
        differing = [
            k for k in keys if len({json.dumps(options[i].get(k), sort_keys=True) for i in idents}) > 1
        ]
        weights = {embedders[i].get("weights_sha256") for i in idents}
        pretrained = {bool(embedders[i].get("pretrained", True)) for i in idents}
        for ident in idents:
            record = embedders[ident]
            parts = [f"{k}={option_label(options[ident].get(k))}" for k in differing]
            if len(pretrained) > 1 and not record.get("pretrained", True):
                parts.append("random weights")
            elif len(weights) > 1 and record.get("weights_sha256"):
                parts.append(f"weights {str(record['weights_sha256'])[:8]}")
            if parts:
                names[ident] = f"{name} [{', '.join(parts)}]"
    return names


def _row_label(
    key: RowKey, embedder: Mapping[str, Any], with_probe: bool, names: Mapping[str, str]
) -> str:
    embedder_id, probe, published = key
    if published:
        return f"{embedder.get('name', embedder_id)} {PUBLISHED_MARK}"
    name = names.get(embedder_id, embedder_id)
    return f"{name} ({probe})" if with_probe else name


def _row_complexity(results: Sequence[Result]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for result in results:
        for key, value in (result.complexity or {}).items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and math.isfinite(float(value)):
                values.setdefault(str(key), []).append(float(value))
    return {k: float(statistics.median(v)) for k, v in sorted(values.items())}


def build_leaderboard(
    results: Sequence[Result],
    cell_stats: Mapping[tuple[RowKey, str], CellStats] | None = None,
    missing: Missing = "impute",
    significance: str | None = None,
) -> Leaderboard:
    """Arrange results into a leaderboard with its aggregates.

    Args:
        results: Local and published results; one per (row, task).
        cell_stats: Confidence intervals and significance by (row key, task key).
        missing: How the HEAR score treats missing cells (``"impute"`` is HEAR's).
        significance: Description of the test behind ``same_as_best``, for the footnote.

    Raises:
        HearbenchError: if two results claim the same cell, or one task has results with
            different primary metrics.
    """
    by_cell: dict[tuple[RowKey, str], Result] = {}
    metrics: dict[str, str] = {}
    displays: dict[str, str] = {}
    for result in results:
        key, task = row_key(result), task_key(result)
        if (key, task) in by_cell:
            raise HearbenchError(
                f"two results for embedder {key[0]!r}, probe {key[1]!r} on task {task!r}"
            )
        by_cell[(key, task)] = result
        metric = metrics.setdefault(task, result.primary_metric)
        if metric != result.primary_metric:
            raise HearbenchError(
                f"task {task!r}: results disagree on the primary metric "
                f"({metric!r} and {result.primary_metric!r})"
            )
        displays.setdefault(task, task_display_name(task))

    columns = tuple(
        Column(task, displays[task], metrics[task], metric_direction(metrics[task]))
        for task in sorted(metrics, key=lambda t: (displays[t], t))
    )
    keys = sorted({k for k, _ in by_cell})
    local_probes = {k[1] for k in keys if not k[2]}
    grouped: dict[RowKey, list[Result]] = {k: [] for k in keys}
    for (key, _), result in sorted(by_cell.items()):
        grouped[key].append(result)
    names = variant_names({k[0]: grouped[k][0].embedder for k in keys if not k[2]})
    labels = {k: _row_label(k, grouped[k][0].embedder, len(local_probes) > 1, names) for k in keys}
    keys.sort(key=lambda k: (labels[k], k))

    matrix = np.full((len(keys), len(columns)), np.nan)
    for i, key in enumerate(keys):
        for j, col in enumerate(columns):
            if (key, col.task) in by_cell:
                matrix[i, j] = by_cell[(key, col.task)].primary.mean
    directions = [c.higher_is_better for c in columns]
    hear = hear_normalized_score(matrix, directions, missing) if keys else np.zeros(0)
    ratio = score_over_best(matrix, directions) if keys else np.zeros(0)

    best: dict[str, float] = {}
    for j, col in enumerate(columns):
        observed = matrix[~np.isnan(matrix[:, j]), j]
        if observed.size:
            best[col.task] = float(observed.max() if col.higher_is_better else observed.min())

    stats = cell_stats or {}
    rows = []
    for i, key in enumerate(keys):
        cells = {}
        for col in columns:
            found = by_cell.get((key, col.task))
            if found is None:
                continue
            score = found.primary
            cells[col.task] = Cell(
                mean=float(score.mean),
                std=float(score.std),
                best=float(score.mean) == best.get(col.task),
                stats=stats.get((key, col.task)),
            )
        rows.append(
            Row(
                key=key,
                label=labels[key],
                cells=cells,
                hear_score=float(hear[i]),
                score_over_best=float(ratio[i]),
                complexity=_row_complexity(grouped[key]),
                embedder=dict(grouped[key][0].embedder),
            )
        )
    rows.sort(
        key=lambda r: (
            math.isnan(r.hear_score),
            -r.hear_score if not math.isnan(r.hear_score) else 0.0,
            r.label,
            r.key,
        )
    )
    return Leaderboard(tuple(columns), tuple(rows), missing, significance)
