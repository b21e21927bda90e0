"""Frame probabilities of a clip to events: median filter, threshold, runs of active frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hearbench.events import Event
from hearbench.postprocess.grid import PostProcessing


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
