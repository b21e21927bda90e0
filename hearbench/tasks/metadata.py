"""Task metadata fields, validated in one place for task directories and task cards.

:func:`check_metadata` validates the fields both a ``task_metadata.json`` and a task card
carry (embedding and prediction type, split mode and folds, metrics, clip duration) with one
set of one-line messages naming the file and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hearbench.api import HearbenchError
from hearbench.metrics import metric_names

EMBEDDING_TYPES = ("scene", "event")
PREDICTION_TYPES = ("multiclass", "multilabel")
SPLIT_MODES = ("trainvaltest", "presplit_kfold", "new_split_kfold")
ALL_METRICS = metric_names("scene") + metric_names("event")
"""Metrics a task may list in ``evaluation`` (HEAR's; the frame-score metrics such as PSDS are
computed for every event task beside them and are never a task's primary metric)."""
MIN_FOLDS = 3


@dataclass(frozen=True)
class MetadataFields:
    """The validated shared fields of task metadata."""

    embedding_type: str
    prediction_type: str
    split_mode: str
    nfolds: int | None
    evaluation: tuple[str, ...]
    sample_duration: float | None


def field(data: Mapping[str, Any], key: str, source: str, kind: type | tuple[type, ...]) -> Any:
    """``data[key]`` when present and of ``kind`` (``bool`` is not an int), else a one-line error."""
    if key not in data:
        raise HearbenchError(f"{source}: field {key!r} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise HearbenchError(f"{source}: field {key!r} must be {names}, got {value!r}")
    return value


def choice(data: Mapping[str, Any], key: str, source: str, allowed: tuple[str, ...]) -> str:
    """``data[key]`` when it is one of ``allowed``, else a one-line error listing them."""
    value = field(data, key, source, str)
    if value not in allowed:
        raise HearbenchError(
            f"{source}: field {key!r} must be one of {', '.join(allowed)}, got {value!r}"
        )
    return str(value)


def check_metadata(data: Mapping[str, Any], source: str) -> MetadataFields:
    """Validate the fields shared by task metadata and task cards.

    ``nfolds`` is required (at least 3) for k-fold modes unless ``splits`` lists the folds.

    Raises:
        HearbenchError: one line naming ``source`` and the field.
    """
    evaluation = field(data, "evaluation", source, list)
    unknown = [m for m in evaluation if m not in ALL_METRICS]
    if not evaluation or unknown:
        raise HearbenchError(
            f"{source}: field 'evaluation' must list metrics from {', '.join(ALL_METRICS)}"
            + (f", got {unknown}" if unknown else "")
        )
    split_mode = choice(data, "split_mode", source, SPLIT_MODES)
    nfolds = None if data.get("nfolds") is None else field(data, "nfolds", source, int)
    if split_mode != "trainvaltest" and "splits" not in data and (nfolds is None or nfolds < MIN_FOLDS):
        raise HearbenchError(f"{source}: {split_mode} needs 'nfolds' of at least {MIN_FOLDS}")
    duration = data.get("sample_duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0
    ):
        raise HearbenchError(
            f"{source}: field 'sample_duration' must be a positive number or null, got {duration!r}"
        )
    return MetadataFields(
        embedding_type=choice(data, "embedding_type", source, EMBEDDING_TYPES),
        prediction_type=choice(data, "prediction_type", source, PREDICTION_TYPES),
        split_mode=split_mode,
        nfolds=nfolds,
        evaluation=tuple(str(m) for m in evaluation),
        sample_duration=float(duration) if duration is not None else None,
    )
