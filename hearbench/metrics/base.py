"""The metric record: a named pure function with its direction, kind and per-item scores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

MetricKind = Literal["scene", "event", "frames"]


@dataclass(frozen=True)
class Metric:
    """A score function, whether a larger value is better, and how it decomposes over items.

    Attributes:
        name: The HEAR metric name (``"top1_acc"``, ``"event_onset_200ms_fms"``...).
        fn: Pure function ``(predictions, targets) -> float``: scene scores ``(n, C)`` and
            targets ``(n, C)``, or event lists by file (``(predictions, references)``), or
            for ``"frames"`` metrics ``(scores, references, labels)`` with frame scores by file
            (:class:`~hearbench.frame_scores.ClipScores`).
        higher_is_better: Direction of the score.
        kind: ``"scene"``, ``"event"`` or ``"frames"`` (threshold-free event metrics of the
            frame scores, scored on every event task beside its own metrics): what ``fn`` takes.
        per_item: For a metric that is the mean of a value per test item, the function
            ``(predictions, targets) -> (n,)`` of those values; ``None`` otherwise. Resampling
            statistics (bootstrap, paired tests) use it to avoid recomputing ``fn``.
    """

    name: str
    fn: Callable[..., float]
    higher_is_better: bool = True
    kind: MetricKind = "scene"
    per_item: Callable[..., npt.NDArray[np.float64]] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        return float(self.fn(*args, **kwargs))

    def item_scores(self, *args: Any) -> npt.NDArray[np.float64] | None:
        """Per-item values whose mean is the score, or ``None`` when the metric has none."""
        if self.per_item is None:
            return None
        return np.asarray(self.per_item(*args), dtype=np.float64)
