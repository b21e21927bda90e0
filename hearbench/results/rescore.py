"""Threshold-free event metrics recomputed from stored predictions (no model runs)."""

from __future__ import annotations

from hearbench.api import HearbenchError
from hearbench.metrics import FRAME_METRICS
from hearbench.predictions import EventFold, PredictionsLike, as_predictions


def frame_metrics_per_fold(predictions: PredictionsLike, source: str = "predictions") -> dict[str, list[float]]:
    """PSDS1, PSDS2 and segment pAUROC (every ``"frames"`` metric) of each stored event fold.

    Args:
        predictions: Stored event predictions with frame scores.
        source: Names the predictions in errors.

    Returns:
        ``{metric: [value per fold]}`` in fold order, as a result's ``scores`` hold them.

    Raises:
        HearbenchError: scene predictions, or an event fold stored without frame scores.
        ImportError: ``sed_scores_eval`` is not installed.
    """
    record = as_predictions(predictions)
    out: dict[str, list[float]] = {}
    for fold in record.folds:
        if not isinstance(fold, EventFold):
            raise HearbenchError(f"{source}: frame metrics need event predictions, got {record.kind}")
        if not fold.frames:
            raise HearbenchError(
                f"{source}: fold {fold.fold} has no frame scores (stored before they were kept); rerun it"
            )
        for name, metric in FRAME_METRICS.items():
            out.setdefault(name, []).append(metric(fold.frames, fold.references, record.labels))
    return out
