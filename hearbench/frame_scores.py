"""Frame-wise scores of one clip, as event tasks store them for threshold-free metrics.

A probe on an event task predicts, for every timestamp embedding of a clip, one score per
label. :class:`ClipScores` keeps those scores with the frame centres they belong to and the
clip's duration, which is what the PSDS and segment-based ROC metrics
(:mod:`hearbench.metrics.psds`) need: they sweep every threshold over the raw scores instead of
scoring the events that one threshold gives.

Frames as intervals: a frame is taken to cover the time closer to its centre than to any other
centre, i.e. it runs from the midpoint with the previous centre to the midpoint with the next
one; the first frame starts half a hop before its centre (not before 0 s) and the last one ends
half a hop after its centre (not after the clip's end, unless the centre is at or past it). A clip with one frame covers the whole
clip. :func:`frame_bounds` gives those ``T + 1`` boundaries in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ClipScores:
    """The frame scores of one clip.

    Attributes:
        timestamps: ``(T,)`` frame centres in ms, strictly increasing.
        scores: ``(T, C)`` per-label scores (probabilities), columns in vocabulary order.
        duration: Length of the clip in seconds.
    """

    timestamps: npt.NDArray[np.float64]
    scores: npt.NDArray[np.float64]
    duration: float

    def __post_init__(self) -> None:
        stamps = np.asarray(self.timestamps, dtype=np.float64)
        scores = np.asarray(self.scores, dtype=np.float64)
        object.__setattr__(self, "timestamps", stamps)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "duration", float(self.duration))
        if stamps.ndim != 1 or scores.ndim != 2 or scores.shape[0] != stamps.shape[0]:
            raise ValueError(
                f"clip scores: timestamps {stamps.shape} and scores {scores.shape} must be (T,) and (T, C)"
            )
        if stamps.size and (np.any(np.diff(stamps) <= 0) or not np.isfinite(stamps).all()):
            raise ValueError("clip scores: timestamps must be finite and strictly increasing")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ValueError(f"clip scores: duration must be a positive number of seconds, got {self.duration}")

    def bounds(self) -> npt.NDArray[np.float64]:
        """The ``T + 1`` frame boundaries in seconds (:func:`frame_bounds`)."""
        return frame_bounds(self.timestamps, self.duration)

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON form: ``{"timestamps", "scores", "duration"}``."""
        return {
            "timestamps": self.timestamps.tolist(),
            "scores": self.scores.tolist(),
            "duration": self.duration,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClipScores:
        """Parse the stored JSON form (an empty clip has ``scores`` ``[]``)."""
        stamps = np.asarray(data["timestamps"], dtype=np.float64)
        scores = np.asarray(data["scores"], dtype=np.float64)
        if scores.size == 0:
            scores = scores.reshape(stamps.shape[0], 0) if stamps.size else scores.reshape(0, 0)
        return cls(stamps, scores, float(data["duration"]))


def frame_bounds(timestamps_ms: npt.ArrayLike, duration_s: float) -> npt.NDArray[np.float64]:
    """Boundaries ``(T + 1,)`` in seconds of frames centred at ``timestamps_ms`` (module docstring).

    Raises:
        ValueError: No frames.
    """
    centres = np.asarray(timestamps_ms, dtype=np.float64)
    end = float(duration_s) * 1000.0
    if centres.size == 0:
        raise ValueError("frame bounds: a clip without frames has no boundaries")
    if centres.size == 1:
        return np.array([0.0, float(duration_s)])
    half = float(np.mean(np.diff(centres))) / 2.0
    inner = (centres[:-1] + centres[1:]) / 2.0
    first = max(0.0, float(centres[0]) - half)
    last = min(end, float(centres[-1]) + half)
    if last <= centres[-1]:  # a centre at (or past) the clip's end keeps its half hop
        last = float(centres[-1]) + half
    return np.concatenate([[first], inner, [last]]) / 1000.0
