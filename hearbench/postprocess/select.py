"""The choice of post-processing on validation, as heareval makes it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy.typing as npt

from hearbench.events import EventLists, as_event_lists
from hearbench.metrics.base import Metric
from hearbench.postprocess.frames import (
    _check_same_files,
    _Runs,
    _runs,
    _runs_to_events,
    _sorted_clip,
    active_frames,
)
from hearbench.postprocess.grid import PostProcessing, _grid_points


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


def _resolve_metric(metric: Metric | str) -> Metric:
    if isinstance(metric, Metric):
        return metric
    from hearbench.metrics import get_metric

    return get_metric(metric, "event")
