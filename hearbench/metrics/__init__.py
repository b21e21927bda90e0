"""Every HEAR metric by name, each a :class:`~hearbench.metrics.base.Metric` (see :mod:`.registry`)."""

from __future__ import annotations

from hearbench.metrics.base import Metric, MetricKind
from hearbench.metrics.registry import (
    METRICS,
    frame_metric_scores,
    get_metric,
    metric_names,
    metrics_of,
)

SCENE_METRICS: dict[str, Metric] = metrics_of("scene")
"""The scene metrics by name (a view of :data:`METRICS`)."""

EVENT_METRICS: dict[str, Metric] = metrics_of("event")
"""The event metrics by name (a view of :data:`METRICS`)."""

FRAME_METRICS: dict[str, Metric] = metrics_of("frames")
"""The threshold-free event metrics of frame scores by name (a view of :data:`METRICS`)."""

__all__ = [
    "EVENT_METRICS",
    "FRAME_METRICS",
    "METRICS",
    "SCENE_METRICS",
    "Metric",
    "MetricKind",
    "frame_metric_scores",
    "get_metric",
    "metric_names",
    "metrics_of",
]
