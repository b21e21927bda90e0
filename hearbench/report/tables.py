"""Leaderboard tables: one row per embedder configuration, one column per task.

A cell is the task's primary score, mean ± std over folds (:class:`~hearbench.results.Score`);
a task a row has no result for is shown as missing ("—"), never as zero. The aggregate columns
(HEAR score, score ÷ best, mean rank; :mod:`hearbench.report.aggregates`) are each computed
over a declared task set (:mod:`hearbench.report.tasksets`) and only for the rows that ran it.

Rows are sorted by their first aggregate (descending HEAR score), then label; columns by
display name, then task name. :mod:`hearbench.report.render` prints a leaderboard.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hearbench.api import HearbenchError
from hearbench.metrics import get_metric
from hearbench.options import option_label
from hearbench.report.aggregates import Column, RowAggregate, TaskSet, aggregate, rounded
from hearbench.results import Result
from hearbench.results.hear2021 import canonical_task_name, task_display_name

RowKey = tuple[str, str, bool]
"""A row's identity: (embedder id, probe name, published)."""

MISSING = "—"
PUBLISHED_MARK = "‡"
TIED_MARK = "†"
SHORT_MARK = "§"
SHORTENING_OPTIONS = ("max_epochs", "points")
"""Probe options that shorten the probe's schedule below the protocol's."""


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
        label: Display label (with :data:`SHORT_MARK` for a shortened probe schedule).
        cells: Cell by task key; absent tasks are missing.
        aggregates: Aggregates by task-set name, for the sets the row is in.
        complexity: Numeric complexity figures (median over the row's results).
        embedder: The embedder record of the row's first result.
        shortened: ``option=value`` of the schedule-shortening probe options it ran with.
    """

    key: RowKey
    label: str
    cells: Mapping[str, Cell]
    aggregates: Mapping[str, RowAggregate] = field(default_factory=dict)
    complexity: Mapping[str, float] = field(default_factory=dict)
    embedder: Mapping[str, Any] = field(default_factory=dict)
    shortened: tuple[str, ...] = ()

    @property
    def published(self) -> bool:
        """Whether the row holds published scores."""
        return self.key[2]

    def imputed(self, task: str) -> float | None:
        """The value imputed for ``task`` in the first aggregate that imputed it, if any."""
        for agg in self.aggregates.values():
            if task in agg.imputed:
                return agg.imputed[task]
        return None


@dataclass(frozen=True)
class Leaderboard:
    """A rows × tasks table with its aggregates, ready to render.

    Attributes:
        columns: Task columns in display order.
        rows: Rows in display order.
        task_sets: The task sets of the aggregate columns, in display order.
        significance: How ``†`` was decided, or ``None`` when it was not.
    """

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    task_sets: tuple[TaskSet, ...] = ()
    significance: str | None = None

    def left_out(self, task_set: TaskSet) -> list[str]:
        """Labels of the rows not in the aggregate over ``task_set``."""
        return [r.label for r in self.rows if task_set.name not in r.aggregates]


def task_key(result: Result) -> str:
    """The column a result belongs to (:func:`.published.canonical_task_name`)."""
    return canonical_task_name(result.task)


def row_key(result: Result) -> RowKey:
    """The row a result belongs to."""
    return (result.embedder_id, result.probe_label, result.published)


def metric_direction(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better."""
    return get_metric(metric).higher_is_better


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
    key: RowKey, embedder: Mapping[str, Any], probe: str | None, names: Mapping[str, str]
) -> str:
    """The row's embedder name, with ``(probe)`` when ``probe`` is given."""
    embedder_id, _, published = key
    if published:
        return f"{embedder.get('name', embedder_id)} {PUBLISHED_MARK}"
    name = names.get(embedder_id, embedder_id)
    return f"{name} ({probe})" if probe else name


def _row_complexity(results: Sequence[Result]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for result in results:
        for key, value in (result.complexity or {}).items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and math.isfinite(float(value)):
                values.setdefault(str(key), []).append(float(value))
    return {k: float(statistics.median(v)) for k, v in sorted(values.items())}




def _shortened(results: Sequence[Result]) -> tuple[str, ...]:
    found = set()
    for result in results:
        options = result.probe.get("options") or {}
        for key in SHORTENING_OPTIONS:
            if key in options:
                found.add(f"{key}={option_label(options[key])}")
    return tuple(sorted(found))


def build_leaderboard(
    results: Sequence[Result],
    cell_stats: Mapping[tuple[RowKey, str], CellStats] | None = None,
    aggregate_over: Sequence[str] | None = None,
    impute: bool = False,
    significance: str | None = None,
) -> Leaderboard:
    """Arrange results into a leaderboard with its aggregates.

    Args:
        results: Local and published results; one per (row, task).
        cell_stats: Confidence intervals and significance by (row key, task key).
        aggregate_over: Task sets of the aggregates (see
            :func:`hearbench.report.tasksets.resolve_task_sets`); ``None`` = per group the
            tasks all its rows share.
        impute: Admit rows that miss some tasks of a set, imputing them as HEAR did.
        significance: Description of the test behind ``same_as_best``, for the footnote.

    Raises:
        HearbenchError: if two results claim the same cell, one task has results with
            different primary metrics, or a task set names an unknown task.
    """
    from hearbench.report.tasksets import resolve_task_sets

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
    grouped: dict[RowKey, list[Result]] = {k: [] for k in keys}
    for (key, _), result in sorted(by_cell.items()):
        grouped[key].append(result)
    # rows name their probe (options included, those shortening its schedule shown by the
    # mark instead) when the local rows differ in it
    probes = {k: grouped[k][0].probe_label_without(SHORTENING_OPTIONS) for k in keys}
    with_probe = len({probes[k] for k in keys if not k[2]}) > 1
    names = variant_names({k[0]: grouped[k][0].embedder for k in keys if not k[2]})
    shortened = {k: _shortened(grouped[k]) for k in keys}
    labels = {
        k: _row_label(k, grouped[k][0].embedder, probes[k] if with_probe else None, names)
        + (f" {SHORT_MARK}" if shortened[k] else "")
        for k in keys
    }
    keys.sort(key=lambda k: (labels[k], k))

    matrix = np.full((len(keys), len(columns)), np.nan)
    for i, key in enumerate(keys):
        for j, col in enumerate(columns):
            if (key, col.task) in by_cell:
                matrix[i, j] = by_cell[(key, col.task)].primary.mean
    task_sets = resolve_task_sets(columns, ~np.isnan(matrix), aggregate_over, impute)
    position = {c.task: j for j, c in enumerate(columns)}
    per_row: list[dict[str, RowAggregate]] = [{} for _ in keys]
    for task_set in task_sets:
        idx = [position[t] for t in task_set.tasks]
        found = aggregate(
            matrix[:, idx],
            task_set.tasks,
            [columns[j].higher_is_better for j in idx],
            task_set.impute,
        )
        for i, agg in enumerate(found):
            if agg is not None:
                per_row[i][task_set.name] = agg

    best: dict[str, float] = {}
    for j, col in enumerate(columns):
        observed = rounded(matrix[~np.isnan(matrix[:, j]), j])
        if observed.size:
            best[col.task] = float(observed.max() if col.higher_is_better else observed.min())

    stats = cell_stats or {}
    rows = []
    for i, key in enumerate(keys):
        cells = {}
        for col in columns:
            found_result = by_cell.get((key, col.task))
            if found_result is None:
                continue
            score = found_result.primary
            cells[col.task] = Cell(
                mean=float(score.mean),
                std=float(score.std),
                best=float(rounded([score.mean])[0]) == best.get(col.task),
                stats=stats.get((key, col.task)),
            )
        rows.append(
            Row(
                key=key,
                label=labels[key],
                cells=cells,
                aggregates=per_row[i],
                complexity=_row_complexity(grouped[key]),
                embedder=dict(grouped[key][0].embedder),
                shortened=shortened[key],
            )
        )
    rows.sort(key=lambda r: (*_sort_key(r, task_sets), r.label, r.key))
    return Leaderboard(tuple(columns), tuple(rows), tuple(task_sets), significance)


def _sort_key(row: Row, task_sets: Sequence[TaskSet]) -> tuple[int, float]:
    for n, task_set in enumerate(task_sets):
        agg = row.aggregates.get(task_set.name)
        if agg is not None:
            return (n, -float(rounded([agg.hear_score])[0]))
    return (len(task_sets), 0.0)
