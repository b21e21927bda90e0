"""Every HEAR metric, declared once: name, function, direction, kind and per-item scores.

Task metadata validation, the runner, post-processing, tables, statistics and bootstrap all
look metrics up here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hearbench.api import HearbenchError
from hearbench.metrics import events, psds, scene
from hearbench.metrics.base import Metric, MetricKind

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("top1_acc", scene.top1_acc, True, "scene", scene.top1_hits),
        Metric("pitch_acc", scene.pitch_acc, True, "scene", scene.top1_hits),
        Metric("chroma_acc", scene.chroma_acc, True, "scene", scene.chroma_hits),
        Metric("mAP", scene.mean_average_precision, True, "scene"),
        Metric("d_prime", scene.d_prime, True, "scene"),
        Metric("aucroc", scene.aucroc, True, "scene"),
        Metric("event_onset_200ms_fms", events.event_onset_200ms_fms, True, "event"),
        Metric("event_onset_50ms_fms", events.event_onset_50ms_fms, True, "event"),
        Metric(
            "event_onset_offset_50ms_20perc_fms", events.event_onset_offset_50ms_20perc_fms, True, "event"
        ),
        Metric("segment_1s_er", events.segment_1s_er, False, "event"),
        Metric("psds1", psds.psds1, True, "frames"),
        Metric("psds2", psds.psds2, True, "frames"),
        Metric("segment_1s_pauroc", psds.segment_1s_pauroc, True, "frames"),
    )
}
"""Every metric by name: HEAR's in the order heareval lists them, then the frame-score metrics
(:mod:`hearbench.metrics.psds`) that every event task is scored with in addition."""


def metrics_of(kind: MetricKind) -> dict[str, Metric]:
    """The metrics of one kind (``"scene"`` or ``"event"``) by name."""
    return {name: m for name, m in METRICS.items() if m.kind == kind}


def metric_names(kind: MetricKind | None = None) -> tuple[str, ...]:
    """Names of every metric, or of one kind."""
    return tuple(name for name, m in METRICS.items() if kind is None or m.kind == kind)


def get_metric(name: str, kind: MetricKind | None = None) -> Metric:
    """The metric called ``name``; with ``kind``, it must be of that kind."""
    metric = METRICS.get(name)
    if metric is None or (kind is not None and metric.kind != kind):
        known = ", ".join(metric_names(kind))
        what = f"not of kind {kind!r}" if kind is not None and metric is not None else "unknown"
        raise HearbenchError(f"metric {name!r} is {what}; choose from {known}")
    return metric


def frame_metric_scores(
    scores: Mapping[str, Any], references: Mapping[str, Any], labels: Sequence[str]
) -> dict[str, float]:
    """Every ``"frames"`` metric of one fold: frame scores by file, references, vocabulary.

    Empty, with a warning, where ``sed_scores_eval`` is not installed (:func:`psds.available`).
    """
    if not psds.available():
        return {}
    return {name: m(scores, references, labels) for name, m in METRICS.items() if m.kind == "frames"}
