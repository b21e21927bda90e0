"""Uncertainty of scores from stored test predictions: bootstrap intervals and paired tests.

Both work on the predictions file stored beside a result (``<probe>.predictions.json``): scene
predictions (per fold: ``files``, ``scores``, ``targets``) or event predictions (per fold:
``events`` and ``references`` by file). The test items of a fold are its files. A score is the
mean over folds of the metric on each fold, as in the result, and every resample keeps that
structure: items are resampled within each fold, the metric is recomputed per fold with
:func:`hearbench.metrics.get_metric`, and the fold values are averaged.

For metrics that are a mean of per-item values (those with ``per_item`` scores in the metric
registry: ``top1_acc``, ``pitch_acc``, ``chroma_acc``) the resamples are computed with array
operations; other metrics are recomputed per resample.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hearbench.api import HearbenchError
from hearbench.metrics import get_metric
from hearbench.predictions import EventFold, Predictions, PredictionsLike, SceneFold, as_predictions
from hearbench.report.aggregates import rounded
from hearbench.report.tables import CellStats, RowKey, row_key, task_key
from hearbench.results import Result, result_predictions
from hearbench.task_kinds import TaskKind, task_kind

logger = logging.getLogger(__name__)

_CHUNK_ELEMENTS = 4_000_000

PairedMethod = Literal["permutation", "bootstrap"]


@dataclass(frozen=True)
class BootstrapCI:
    """A bootstrap confidence interval of a score.

    Attributes:
        estimate: The score on the full test sets (mean over folds).
        low: Lower percentile bound.
        high: Upper percentile bound.
        std: Standard deviation of the bootstrap distribution.
        n_boot: Number of resamples.
        n_items: Test items over all folds.
    """

    estimate: float
    low: float
    high: float
    std: float
    n_boot: int
    n_items: int


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of two systems on the same test items.

    Attributes:
        diff: Score of ``a`` minus score of ``b`` on the shared items (mean over folds).
        p_value: Two-sided p-value of "no difference".
        method: ``"permutation"`` or ``"bootstrap"``.
        n_items: Shared test items over all folds.
        n_resamples: Number of resamples.
    """

    diff: float
    p_value: float
    method: str
    n_items: int
    n_resamples: int


@dataclass(frozen=True)
class _Fold:
    """The test items of one fold: its stored record, read through the task's kind."""

    key: tuple[Any, ...]
    files: tuple[str, ...]
    kind: TaskKind
    record: SceneFold | EventFold

    def subset(self, index: npt.NDArray[np.intp]) -> tuple[Any, Any]:
        """Metric arguments for the items at ``index`` (repeats allowed)."""
        return self.kind.metric_args(self.record, self.files, index)

    def select(self, files: Sequence[str]) -> _Fold:
        """The same fold restricted to ``files``, in that order."""
        record = self.kind.select(self.record, self.files, files)
        return _Fold(self.key, tuple(files), self.kind, record)


def _folds(predictions: PredictionsLike) -> list[_Fold]:
    record = as_predictions(predictions)
    kind = task_kind(record.kind)
    return [_Fold((fold.fold, fold.test), fold.files, kind, fold) for fold in record.folds]


def _itemwise(fold: _Fold, metric: str) -> npt.NDArray[np.float64] | None:
    """Per-item metric values of a fold when the metric is their mean, else ``None``."""
    return fold.kind.item_scores(fold.record, fold.files, metric)


def _chunks(n_resamples: int, n_items: int) -> list[int]:
    step = max(1, _CHUNK_ELEMENTS // max(1, n_items))
    return [min(step, n_resamples - s) for s in range(0, n_resamples, step)]


def _score(fold: _Fold, metric: str, index: npt.NDArray[np.intp] | None = None) -> float:
    idx = np.arange(len(fold.files), dtype=np.intp) if index is None else index
    return float(get_metric(metric)(*fold.subset(idx)))


def _percentiles(values: npt.NDArray[np.float64], alpha: float) -> tuple[float, float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < values.size:
        logger.info("%d of %d resamples gave no score", values.size - finite.size, values.size)
    if finite.size == 0:
        return math.nan, math.nan, math.nan
    low, high = np.percentile(finite, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high), float(finite.std())


def bootstrap_ci(
    predictions: PredictionsLike,
    metric: str,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile bootstrap confidence interval of a score over test items.

    Args:
        predictions: A stored predictions object (scene or event).
        metric: Metric name (see :func:`hearbench.metrics.get_metric`).
        n_boot: Number of resamples.
        alpha: 1 - confidence level.
        seed: Seed of the resampling.

    Returns:
        The score on the full test sets and its ``(alpha/2, 1 - alpha/2)`` percentile interval.
    """
    if n_boot < 1:
        raise HearbenchError(f"n_boot must be at least 1, got {n_boot}")
    folds = _folds(predictions)
    rng = np.random.default_rng(seed)
    estimate = float(np.mean([_score(f, metric) for f in folds]))
    total = np.zeros(n_boot)
    for fold in folds:
        n = len(fold.files)
        if n == 0:
            raise HearbenchError(f"predictions fold {fold.key[0]} has no test items")
        values = _itemwise(fold, metric)
        if values is not None:
            parts = []
            for size in _chunks(n_boot, n):
                idx = rng.integers(0, n, size=(size, n))
                parts.append(values[idx].mean(axis=1))
            total += np.concatenate(parts)
        else:
            total += np.array(
                [_score(fold, metric, rng.integers(0, n, size=n)) for _ in range(n_boot)]
            )
    dist = total / len(folds)
    low, high, std = _percentiles(dist, alpha)
    return BootstrapCI(estimate, low, high, std, n_boot, sum(len(f.files) for f in folds))


def _paired_folds(a: PredictionsLike, b: PredictionsLike) -> list[tuple[_Fold, _Fold]]:
    folds_a = {f.key: f for f in _folds(a)}
    folds_b = {f.key: f for f in _folds(b)}
    if as_predictions(a).kind != as_predictions(b).kind:
        raise HearbenchError("paired test: predictions are of different kinds")
    shared = sorted(set(folds_a) & set(folds_b), key=repr)
    if not shared:
        raise HearbenchError("paired test: the predictions share no fold")
    pairs = []
    for key in shared:
        files = sorted(set(folds_a[key].files) & set(folds_b[key].files))
        dropped = len(folds_a[key].files) + len(folds_b[key].files) - 2 * len(files)
        if dropped:
            logger.info("paired test, fold %s: %d items not shared are left out", key[0], dropped)
        if not files:
            raise HearbenchError(f"paired test: fold {key[0]} has no shared test item")
        pairs.append((folds_a[key].select(files), folds_b[key].select(files)))
    return pairs


def _swap(fa: _Fold, fb: _Fold, mask: npt.NDArray[np.bool_]) -> tuple[_Fold, _Fold]:
    ra, rb = fa.kind.swap(fa.record, fb.record, fa.files, mask)
    return _Fold(fa.key, fa.files, fa.kind, ra), _Fold(fb.key, fb.files, fb.kind, rb)


def paired_test(
    a: PredictionsLike,
    b: PredictionsLike,
    metric: str,
    n_resamples: int = 1000,
    method: PairedMethod = "permutation",
    seed: int = 0,
) -> PairedTest:
    """Test whether two systems score differently on the test items they share.

    Items are matched by file name within folds matched by fold id and test splits.

    * ``"permutation"`` (approximate randomisation): under "no difference" the two systems'
      predictions of an item are exchangeable, so each resample swaps them on a random half of
      the items; ``p = (1 + #{|d*| >= |d|}) / (1 + n_resamples)``.
    * ``"bootstrap"`` (paired bootstrap): items are resampled with replacement, the same items
      for both systems; ``p = 2 * (min(#{d* <= 0}, #{d* >= 0}) + 1) / (n_resamples + 1)``,
      capped at 1.

    Args:
        a: Predictions of the first system.
        b: Predictions of the second system.
        metric: Metric name.
        n_resamples: Number of resamples.
        method: ``"permutation"`` or ``"bootstrap"``.
        seed: Seed of the resampling.
    """
    if n_resamples < 1:
        raise HearbenchError(f"n_resamples must be at least 1, got {n_resamples}")
    if method not in ("permutation", "bootstrap"):
        raise HearbenchError(f"method must be 'permutation' or 'bootstrap', got {method!r}")
    pairs = _paired_folds(a, b)
    rng = np.random.default_rng(seed)
    observed = float(np.mean([_score(fa, metric) - _score(fb, metric) for fa, fb in pairs]))
    total = np.zeros(n_resamples)
    for fa, fb in pairs:
        n = len(fa.files)
        va, vb = _itemwise(fa, metric), _itemwise(fb, metric)
        if va is not None and vb is not None:
            d = va - vb
            parts = []
            for size in _chunks(n_resamples, n):
                if method == "permutation":
                    signs = np.where(rng.random((size, n)) < 0.5, -1.0, 1.0)
                    parts.append(signs @ d / n)
                else:
                    parts.append(d[rng.integers(0, n, size=(size, n))].mean(axis=1))
            total += np.concatenate(parts)
            continue
        for r in range(n_resamples):
            if method == "permutation":
                sa, sb = _swap(fa, fb, rng.random(n) < 0.5)
                total[r] += _score(sa, metric) - _score(sb, metric)
            else:
                idx = rng.integers(0, n, size=n)
                total[r] += _score(fa, metric, idx) - _score(fb, metric, idx)
    dist = total / len(pairs)
    finite = dist[np.isfinite(dist)]
    if finite.size == 0 or not math.isfinite(observed):
        p = math.nan
    elif method == "permutation":
        tol = 1e-12 * max(1.0, abs(observed))
        p = (1 + int(np.sum(np.abs(finite) >= abs(observed) - tol))) / (1 + finite.size)
    else:
        tail = min(int(np.sum(finite <= 0)), int(np.sum(finite >= 0)))
        p = min(1.0, 2 * (tail + 1) / (finite.size + 1))
    n_items = sum(len(fa.files) for fa, _ in pairs)
    return PairedTest(observed, float(p), method, n_items, n_resamples)


def stored_predictions(root: str | Path, result: Result) -> Predictions | None:
    """The predictions stored beside ``result`` under the results folder ``root``, if any."""
    return result_predictions(root, result)


def cell_statistics(
    entries: Sequence[tuple[Result, PredictionsLike | None]],
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    method: PairedMethod = "permutation",
) -> dict[tuple[RowKey, str], CellStats]:
    """Confidence intervals of every cell with predictions, and ties with each task's best.

    For every task, the best row (highest primary mean, lowest for lower-is-better metrics) is
    compared with every other row that has predictions, with :func:`paired_test`; a row is
    ``same_as_best`` when ``p >= alpha``. A task whose best row has no predictions (a
    published score) gets intervals but no ties.

    Args:
        entries: ``(result, predictions or None)`` pairs.
        n_boot: Resamples for intervals and tests.
        alpha: 1 - confidence level, and the test's level.
        seed: Seed of all resampling.
        method: Paired test method.

    Returns:
        :class:`~hearbench.report.tables.CellStats` by (row key, task key).
    """
    out: dict[tuple[RowKey, str], CellStats] = {}
    by_task: dict[str, list[tuple[Result, PredictionsLike | None]]] = {}
    for result, preds in entries:
        by_task.setdefault(task_key(result), []).append((result, preds))
    for task in sorted(by_task):
        group = sorted(by_task[task], key=lambda e: row_key(e[0]))
        metric = group[0][0].primary_metric
        higher = get_metric(metric).higher_is_better
        means = {id(r): float(rounded([r.primary.mean])[0]) for r, _ in group}
        best_value = (max if higher else min)(means.values())
        best_preds = next(
            (p for r, p in group if means[id(r)] == best_value and p is not None), None
        )
        for result, preds in group:
            if preds is None:
                continue
            ci = bootstrap_ci(preds, metric, n_boot, alpha, seed)
            same: bool | None = None
            if means[id(result)] == best_value:
                same = None
            elif best_preds is not None:
                test = paired_test(best_preds, preds, metric, n_boot, method, seed)
                same = bool(test.p_value >= alpha)
            out[(row_key(result), task)] = CellStats(ci.low, ci.high, same)
        logger.info("statistics of task %s done (%d rows)", task, len(group))
    return out
