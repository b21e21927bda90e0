"""Frame probabilities to sound events: heareval's default event post-processing.

For each clip and class: a median filter over time (``median_filter_ms`` wide, in frames
``round(median_filter_ms / mean hop)``, half to even, as heareval rounds; scipy's
``median_filter`` with ``size=(width, 1)`` and ``reflect`` edges), a strict ``> threshold``,
and every run of consecutive active frames becomes one event from the first to the last active
frame's timestamp (frame centres; a one-frame run lasts 0 ms). Events shorter than
``min_duration`` ms are dropped. :func:`select_postprocessing` picks the grid point with the
best primary score on validation, :func:`apply_postprocessing` applies it to test predictions.

The filter is computed on the thresholded frames: the median of a window exceeds the
threshold exactly when at least ``width - width // 2`` of its values do (scipy's median is the
element of rank ``width // 2``, also for even widths), so a running count gives bit-identical
results at a fraction of the cost. (For windows longer than about eight times the clip, scipy
reads past its edge buffer and its output is undefined; here the ``reflect`` extension simply
continues. heareval never meets such clips: 250 ms is 25 frames at a 10 ms hop.)

A clip with fewer than two frames has no hop, so it is not filtered (heareval would fail).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from hearbench.events import Event, EventLists, as_event_lists
from hearbench.metrics.base import Metric

DEFAULT_POSTPROCESSING_GRID: Mapping[str, Sequence[float]] = {
    "median_filter_ms": [250],
    "min_duration": [125, 250],
}
"""heareval's ``EVENT_POSTPROCESSING_GRID``, used unless a task names its own."""


@dataclass(frozen=True)
class PostProcessing:
    """One post-processing setting.

    Defaults are those of heareval's ``create_events_from_prediction``; they apply to every
    parameter a grid leaves out.

    Attributes:
        median_filter_ms: Median filter length in ms; 0 disables the filter.
        min_duration: Events with ``end - start < min_duration`` ms are dropped.
        threshold: A frame is active when its (filtered) probability is ``> threshold``.
    """

    median_filter_ms: float = 150.0
    min_duration: float = 60.0
    threshold: float = 0.5

    def to_dict(self) -> dict[str, float]:
        """The parameters as a plain dict (for result JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


GRID_KEYS = tuple(f.name for f in fields(PostProcessing))


@dataclass(frozen=True)
class PostProcessingSelection:
    """Outcome of the validation grid search.

    Attributes:
        best: The chosen setting.
        score: Its validation score (NaN reported as is).
        scores: Every grid point with its validation score, in grid order.
    """

    best: PostProcessing
    score: float
    scores: tuple[tuple[PostProcessing, float], ...]


def grid_from_evaluation_params(
    evaluation_params: Mapping[str, Any] | None,
) -> Mapping[str, Sequence[float]]:
    """The grid a task asks for: its ``event_postprocessing_grid`` or the default.

    Args:
        evaluation_params: The task metadata's ``evaluation_params`` (may be None).
    """
    if evaluation_params and "event_postprocessing_grid" in evaluation_params:
        grid: Mapping[str, Sequence[float]] = evaluation_params["event_postprocessing_grid"]
        return grid
    return DEFAULT_POSTPROCESSING_GRID


def postprocessing_grid(
    grid: Mapping[str, Sequence[float]] | None = None,
) -> list[PostProcessing]:
    """Every point of ``grid``, in scikit-learn ``ParameterGrid`` order (as heareval iterates).

    Args:
        grid: ``{parameter: [values]}`` over ``median_filter_ms``, ``min_duration`` and
            ``threshold``; None means :data:`DEFAULT_POSTPROCESSING_GRID`.

    Raises:
        ValueError: An unknown parameter or an empty or non-numeric list of values.
    """
    return [point for point, _ in _grid_points(grid)]


def split_frames(
    predictions: npt.ArrayLike,
    timestamps_ms: npt.ArrayLike,
    offsets: npt.ArrayLike,
    files: Sequence[str],
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, npt.NDArray[Any]]]:
    """Cut frames of many files, concatenated, into the per-file mappings used here.

    Args:
        predictions: ``(N, C)`` probabilities of all files' frames, file after file.
        timestamps_ms: ``(N,)`` frame centres in ms.
        offsets: ``(len(files) + 1,)`` row offsets; file ``i`` owns rows
            ``offsets[i]:offsets[i + 1]``.
        files: File names, in row order.

    Returns:
        ``({file: (T, C) predictions}, {file: (T,) timestamps})`` (views, not copies).

    Raises:
        ValueError: Offsets that do not tile the rows, or a repeated file name.
    """
    p = np.asarray(predictions)
    ts = np.asarray(timestamps_ms)
    bounds = np.asarray(offsets, dtype=np.int64)
    n_rows = p.shape[0]
    if (
        bounds.ndim != 1
        or bounds.shape[0] != len(files) + 1
        or bounds[0] != 0
        or bounds[-1] != n_rows
        or np.any(np.diff(bounds) < 0)
    ):
        raise ValueError(
            f"offsets must rise from 0 to {n_rows} (the rows) with len(files) + 1 = "
            f"{len(files) + 1} entries, got {bounds.tolist()[:8]}"
        )
    if ts.shape[:1] != (n_rows,):
        raise ValueError(f"timestamps_ms must have {n_rows} rows, got shape {ts.shape}")
    if len(set(files)) != len(files):
        raise ValueError("files has repeated names")
    starts, stops = bounds[:-1].tolist(), bounds[1:].tolist()
    spans = list(zip(files, starts, stops, strict=True))
    return (
        {name: p[a:b] for name, a, b in spans},
        {name: ts[a:b] for name, a, b in spans},
    )


def median_filter_width(timestamps_ms: npt.ArrayLike, median_filter_ms: float) -> int:
    """Filter width in frames: ``round(median_filter_ms / mean hop)``, half to even.

    0 (no filtering) when ``median_filter_ms`` is 0 or the clip has fewer than two frames.
    """
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    if not median_filter_ms or ts.shape[0] < 2:
        return 0
    hop = float(np.mean(np.diff(ts)))
    return round(median_filter_ms / hop)


def active_frames(
    predictions: npt.ArrayLike,
    timestamps_ms: npt.ArrayLike,
    median_filter_ms: float,
    threshold: float = 0.5,
) -> npt.NDArray[np.bool_]:
    """Which frames are on after median filtering and thresholding.

    Equal to ``scipy.ndimage.median_filter(p, size=(width, 1)) > threshold``, with the
    comparison done in the predictions' floating dtype as heareval's numpy did.

    Args:
        predictions: ``(T, C)`` frame probabilities, timestamps ascending.
        timestamps_ms: ``(T,)`` frame centres in ms (only their mean hop is used).
        median_filter_ms: Filter length in ms.
        threshold: Activity threshold.

    Returns:
        ``(T, C)`` boolean array.
    """
    p = _as_float(predictions)
    above = p > p.dtype.type(threshold)
    width = median_filter_width(timestamps_ms, median_filter_ms)
    if width <= 1:
        return above
    n_frames = above.shape[0]
    left = width // 2
    padded = np.pad(above, ((left, width - 1 - left), (0, 0)), mode="symmetric")
    cumulative = np.zeros((padded.shape[0] + 1, padded.shape[1]), dtype=np.int64)
    np.cumsum(padded, axis=0, out=cumulative[1:])
    counts = cumulative[width : width + n_frames] - cumulative[:n_frames]
    result: npt.NDArray[np.bool_] = counts >= width - width // 2
    return result


def events_from_active_frames(
    active: npt.ArrayLike,
    timestamps_ms: npt.ArrayLike,
    labels: Sequence[str],
    min_duration: float,
) -> list[Event]:
    """Turn runs of active frames into events.

    Args:
        active: ``(T, C)`` boolean frame activity, timestamps ascending.
        timestamps_ms: ``(T,)`` ascending frame centres in ms.
        labels: Class names, one per column.
        min_duration: Runs with ``last - first timestamp < min_duration`` ms are dropped.

    Returns:
        Events sorted by start (ties in column order).
    """
    on = np.asarray(active, dtype=bool)
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    runs = _runs(on)
    return _runs_to_events(runs, ts, labels, min_duration)


def events_from_predictions(
    predictions: npt.ArrayLike,
    timestamps_ms: npt.ArrayLike,
    labels: Sequence[str],
    params: PostProcessing | None = None,
) -> list[Event]:
    """Post-process one clip's frame probabilities into events.

    Args:
        predictions: ``(T, C)`` frame probabilities.
        timestamps_ms: ``(T,)`` frame centres in ms, in any order but without repeats.
        labels: Class names, one per column of ``predictions``.
        params: The setting; None means :class:`PostProcessing` defaults.

    Returns:
        Events sorted by start.
    """
    setting = params or PostProcessing()
    p, ts = _sorted_clip(predictions, timestamps_ms, len(labels))
    on = active_frames(p, ts, setting.median_filter_ms, setting.threshold)
    return _runs_to_events(_runs(on), ts, labels, setting.min_duration)


def apply_postprocessing(
    predictions: Mapping[str, npt.ArrayLike],
    timestamps_ms: Mapping[str, npt.ArrayLike],
    labels: Sequence[str],
    params: PostProcessing | None = None,
) -> dict[str, list[Event]]:
    """Post-process every clip (e.g. the test split with the setting chosen on validation).

    Args:
        predictions: ``{file: (T, C) probabilities}``.
        timestamps_ms: ``{file: (T,) frame centres in ms}``, same files.
        labels: Class names, one per column.
        params: The setting; None means :class:`PostProcessing` defaults.

    Returns:
        ``{file: events}`` for every file of ``predictions`` (empty lists included).
    """
    _check_same_files(predictions, timestamps_ms)
    return {
        name: events_from_predictions(predictions[name], timestamps_ms[name], labels, params)
        for name in predictions
    }


def select_postprocessing(
    predictions: Mapping[str, npt.ArrayLike],
    timestamps_ms: Mapping[str, npt.ArrayLike],
    references: EventLists,
    labels: Sequence[str],
    metric: Metric | str,
    grid: Mapping[str, Sequence[float]] | None = None,
    direction_aware: bool = False,
) -> PostProcessingSelection:
    """Pick the grid point with the highest validation score, as heareval does each epoch.

    heareval always maximises, also for a lower-is-better metric (``segment_1s_er``: it keeps
    the highest error rate), and counts a NaN score as 0. ``direction_aware=True`` (the probe
    option ``postprocessing_selection=direction_aware``) takes the best score in the metric's
    direction instead, a NaN counting as the worst. Ties go to the point whose values, in sorted
    parameter-name order, compare largest (heareval sorts ``(score, params)`` tuples in reverse).

    Args:
        predictions: ``{file: (T, C) probabilities}`` of the validation split.
        timestamps_ms: ``{file: (T,) frame centres in ms}``.
        references: Validation reference events per file.
        labels: Class names, one per column.
        metric: The task's primary event metric, or its name.
        grid: ``{parameter: [values]}``; None means :data:`DEFAULT_POSTPROCESSING_GRID`.
        direction_aware: Minimise a lower-is-better metric instead of maximising it.

    Returns:
        The chosen setting, its score and the scores of all points.
    """
    score_metric = _resolve_metric(metric)
    points = _grid_points(grid)
    _check_same_files(predictions, timestamps_ms)
    refs = as_event_lists(references)
    clips = {
        name: _sorted_clip(predictions[name], timestamps_ms[name], len(labels))
        for name in predictions
    }

    runs_cache: dict[tuple[float, float], dict[str, _Runs]] = {}
    scored: list[tuple[PostProcessing, float, tuple[float, ...]]] = []
    for point, tie_key in points:
        filter_key = (point.median_filter_ms, point.threshold)
        if filter_key not in runs_cache:
            runs_cache[filter_key] = {
                name: _runs(active_frames(p, ts, point.median_filter_ms, point.threshold))
                for name, (p, ts) in clips.items()
            }
        runs = runs_cache[filter_key]
        events = {
            name: _runs_to_events(runs[name], clips[name][1], labels, point.min_duration)
            for name in clips
        }
        scored.append((point, score_metric(events, refs), tie_key))

    def rank(item: tuple[PostProcessing, float, tuple[float, ...]]) -> tuple[float, ...]:
        _, value, tie_key = item
        if score_metric.higher_is_better or not direction_aware:
            return (0.0 if math.isnan(value) else value, *tie_key)
        return (-math.inf if math.isnan(value) else -value, *tie_key)

    best, best_score, _ = max(scored, key=rank)
    return PostProcessingSelection(
        best=best,
        score=best_score,
        scores=tuple((point, value) for point, value, _ in scored),
    )


_Runs = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]


def _runs(active: npt.NDArray[np.bool_]) -> _Runs:
    """``(column, first, last)`` of every run of True, column-major then time order."""
    n_frames, n_cols = active.shape
    edges = np.zeros((n_cols, n_frames + 2), dtype=np.int8)
    edges[:, 1:-1] = active.T
    change = np.diff(edges, axis=1)
    cols, first = np.nonzero(change == 1)
    _, stop = np.nonzero(change == -1)
    return cols, first, stop - 1


def _runs_to_events(
    runs: _Runs, ts: npt.NDArray[np.float64], labels: Sequence[str], min_duration: float
) -> list[Event]:
    cols, first, last = runs
    starts, ends = ts[first], ts[last]
    keep = np.nonzero(ends - starts >= min_duration)[0]
    keep = keep[np.argsort(starts[keep], kind="stable")]
    return [
        Event(labels[c], s, e)
        for c, s, e in zip(
            cols[keep].tolist(), starts[keep].tolist(), ends[keep].tolist(), strict=True
        )
    ]


def _as_float(predictions: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
    p = np.asarray(predictions)
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    if p.ndim != 2:
        raise ValueError(f"predictions must be 2-D (T, C), got shape {p.shape}")
    return p


def _sorted_clip(
    predictions: npt.ArrayLike, timestamps_ms: npt.ArrayLike, n_labels: int
) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.float64]]:
    p = _as_float(predictions)
    ts = np.asarray(timestamps_ms, dtype=np.float64)
    if ts.ndim != 1 or ts.shape[0] != p.shape[0]:
        raise ValueError(
            f"timestamps_ms must be (T,) with T = {p.shape[0]} frames, got shape {ts.shape}"
        )
    if p.shape[1] != n_labels:
        raise ValueError(f"predictions have {p.shape[1]} columns but there are {n_labels} labels")
    if not np.all(np.isfinite(p)) or not np.all(np.isfinite(ts)):
        raise ValueError("predictions and timestamps_ms must be finite")
    if ts.shape[0] > 1 and not np.all(np.diff(ts) > 0):
        order = np.argsort(ts, kind="stable")
        ts, p = ts[order], p[order]
        if not np.all(np.diff(ts) > 0):
            raise ValueError("timestamps_ms has repeated values")
    return p, ts


def _check_same_files(
    predictions: Mapping[str, object], timestamps_ms: Mapping[str, object]
) -> None:
    if set(predictions) != set(timestamps_ms):
        odd = sorted(set(predictions) ^ set(timestamps_ms))
        raise ValueError(f"predictions and timestamps_ms must name the same files; differ in {odd}")


def _grid_points(
    grid: Mapping[str, Sequence[float]] | None,
) -> list[tuple[PostProcessing, tuple[float, ...]]]:
    spec = DEFAULT_POSTPROCESSING_GRID if grid is None else grid
    unknown = sorted(set(spec) - set(GRID_KEYS))
    if unknown:
        raise ValueError(
            f"post-processing grid: unknown parameter(s) {unknown}; allowed {GRID_KEYS}"
        )
    keys = sorted(spec)
    for key in keys:
        values = spec[key]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(
                f"post-processing grid: {key!r} needs a non-empty list, got {values!r}"
            )
    combos: list[tuple[float, ...]] = [()]
    for key in keys:
        combos = [(*c, float(v)) for c in combos for v in spec[key]]
    return [(PostProcessing(**dict(zip(keys, combo, strict=True))), combo) for combo in combos]


def _resolve_metric(metric: Metric | str) -> Metric:
    if isinstance(metric, Metric):
        return metric
    from hearbench.metrics import get_metric

    return get_metric(metric, "event")
