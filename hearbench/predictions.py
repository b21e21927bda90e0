"""Stored test predictions: the typed record the runner writes and the reporter reads.

A :class:`Predictions` holds, per test fold, what the metrics were computed on:

* scene tasks (:class:`SceneFold`): the test files, a ``files × labels`` score matrix and
  the 0/1 target matrix;
* event tasks (:class:`EventFold`): the predicted events and the reference events by file,
  the post-processing chosen on validation, and the frame scores by file (frame centres in ms,
  ``frames × labels`` scores, clip duration; :class:`~hearbench.frame_scores.ClipScores`), from
  which the threshold-free metrics (PSDS, pAUROC) recompute. Event folds written before frame
  scores were stored have none.

On disk it is strict JSON (see :mod:`hearbench.atomic`) with schema ``hearbench.predictions/2``;
scores are stored with every bit of the values the metrics saw (float32 or float64), so each
stored metric recomputes exactly. Files written before the schema field (scores rounded to 7
decimals) still read, as ``legacy``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hearbench.api import HearbenchError
from hearbench.atomic import dumps_json, loads_json, write_bytes_atomic
from hearbench.frame_scores import ClipScores

SCHEMA = "hearbench.predictions/2"
Kind = Literal["scene", "event"]


@dataclass(frozen=True)
class SceneFold:
    """Scene predictions of one test fold.

    Attributes:
        fold: Index of the fold split.
        test: The split names tested in this fold.
        files: Test files, one per row.
        scores: ``(files, labels)`` label scores.
        targets: ``(files, labels)`` 0/1 targets.
    """

    fold: Any
    test: tuple[str, ...]
    files: tuple[str, ...]
    scores: npt.NDArray[np.float64]
    targets: npt.NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "test": list(self.test),
            "files": list(self.files),
            "scores": self.scores.tolist(),
            "targets": self.targets.astype(int).tolist(),
        }


@dataclass(frozen=True)
class EventFold:
    """Event predictions of one test fold.

    Attributes:
        fold: Index of the fold split.
        test: The split names tested in this fold.
        events: Predicted events ``{file: [{"label", "start", "end"}]}`` (ms).
        references: Reference events in the same form, for every test file.
        postprocessing: The post-processing chosen on validation.
        frames: The probe's frame scores by test file (empty in folds stored without them).
    """

    fold: Any
    test: tuple[str, ...]
    events: Mapping[str, Sequence[Mapping[str, Any]]]
    references: Mapping[str, Sequence[Mapping[str, Any]]]
    postprocessing: Mapping[str, Any] = field(default_factory=dict)
    frames: Mapping[str, ClipScores] = field(default_factory=dict)

    @property
    def files(self) -> tuple[str, ...]:
        """The test files (every file with references), sorted."""
        return tuple(sorted(self.references))

    def to_dict(self) -> dict[str, Any]:
        frames = {"frames": {k: v.to_dict() for k, v in self.frames.items()}} if self.frames else {}
        return {
            "fold": self.fold,
            "test": list(self.test),
            "postprocessing": dict(self.postprocessing),
            "events": {k: [dict(e) for e in v] for k, v in self.events.items()},
            "references": {k: [dict(e) for e in v] for k, v in self.references.items()},
            **frames,
        }


@dataclass(frozen=True)
class Predictions:
    """The test predictions of one result, fold by fold.

    Attributes:
        kind: ``"scene"`` or ``"event"``.
        folds: One entry per test fold (all :class:`SceneFold` or all :class:`EventFold`).
        labels: The task's label vocabulary, in score-column order.
        prediction_type: ``multiclass`` or ``multilabel``.
        legacy: Read from a file without a schema (scores rounded to 7 decimals).
    """

    kind: Kind
    folds: tuple[SceneFold, ...] | tuple[EventFold, ...]
    labels: tuple[str, ...] = ()
    prediction_type: str = ""
    legacy: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "labels": list(self.labels),
            "prediction_type": self.prediction_type,
            "folds": [f.to_dict() for f in self.folds],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "predictions") -> Predictions:
        """Parse a stored predictions object; ``source`` names the file in errors.

        Raises:
            HearbenchError: one line naming ``source`` and the field at fault.
        """
        if not isinstance(data, Mapping):
            raise HearbenchError(f"{source}: expected a JSON object")
        kind = data.get("kind")
        folds = data.get("folds")
        read_fold = _FOLD_READERS.get(kind) if isinstance(kind, str) else None
        if read_fold is None or not isinstance(folds, list) or not folds:
            raise HearbenchError(
                f"{source}: 'kind' must be scene or event, with a non-empty 'folds'"
            )
        schema = data.get("schema")
        if schema not in (None, SCHEMA):
            raise HearbenchError(f"{source}: schema {schema!r}, expected {SCHEMA}")
        try:
            parsed = tuple(read_fold(f, source) for f in folds)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise HearbenchError(f"{source}: malformed fold ({type(exc).__name__}: {exc})") from exc
        return cls(
            kind=kind,  # type: ignore[arg-type]
            folds=parsed,  # type: ignore[arg-type]
            labels=tuple(str(x) for x in data.get("labels", ())),
            prediction_type=str(data.get("prediction_type", "")),
            legacy=schema is None,
        )


def _scene_fold(fold: Mapping[str, Any], source: str) -> SceneFold:
    files = tuple(str(f) for f in fold["files"])
    scores = np.asarray(fold["scores"], dtype=np.float64)
    targets = np.asarray(fold["targets"], dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != len(files) or targets.shape != scores.shape:
        raise HearbenchError(
            f"{source}: fold {fold.get('fold')}: {len(files)} files, scores {scores.shape}, "
            f"targets {targets.shape}"
        )
    return SceneFold(fold.get("fold"), tuple(fold.get("test", ())), files, scores, targets)


def _event_fold(fold: Mapping[str, Any], source: str) -> EventFold:
    return EventFold(
        fold.get("fold"),
        tuple(fold.get("test", ())),
        events=dict(fold["events"]),
        references=dict(fold["references"]),
        postprocessing=dict(fold.get("postprocessing", {})),
        frames={str(k): ClipScores.from_dict(v) for k, v in dict(fold.get("frames", {})).items()},
    )


_FOLD_READERS: dict[str, Callable[[Mapping[str, Any], str], SceneFold | EventFold]] = {
    "scene": _scene_fold,
    "event": _event_fold,
}
"""The reader of a stored fold by the record's ``kind`` (the file format's tag)."""


PredictionsLike = Predictions | Mapping[str, Any]
"""A :class:`Predictions` or its stored JSON object."""


def as_predictions(value: PredictionsLike) -> Predictions:
    """``value`` as a :class:`Predictions` (parsing a stored JSON object)."""
    return value if isinstance(value, Predictions) else Predictions.from_dict(value)


def scene_fold(
    fold: Any, test: Sequence[str], files: Sequence[str], scores: np.ndarray, targets: np.ndarray
) -> SceneFold:
    """A scene fold holding exactly the scores the metrics saw (float32 values kept bit for bit)."""
    return SceneFold(
        fold,
        tuple(test),
        tuple(files),
        np.asarray(scores).astype(np.float64),
        np.asarray(targets).astype(np.float64),
    )


def encode(predictions: Predictions) -> bytes:
    """The file bytes of ``predictions`` (strict JSON)."""
    return dumps_json(predictions.to_dict()).encode("utf-8")


def write_predictions(path: str | Path, predictions: Predictions) -> str:
    """Write ``predictions`` atomically to ``path``; returns the sha256 of the bytes written."""
    data = encode(predictions)
    write_bytes_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def read_predictions_file(path: str | Path) -> Predictions:
    """Read a predictions file.

    Raises:
        HearbenchError: naming the file when it is missing, does not parse or is malformed.
    """
    p = Path(path)
    try:
        data = loads_json(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HearbenchError(f"{p}: cannot read predictions ({exc})") from exc
    return Predictions.from_dict(data, str(p))


def has_schema(path: Path) -> bool:
    """Whether a predictions file was written with :data:`SCHEMA` (read from its tail only).

    ``schema`` sorts last among the top-level keys, so it is always in the final bytes.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - 4096))
            tail = handle.read()
    except OSError:
        return False
    return f'"schema": "{SCHEMA}"'.encode() in tail
