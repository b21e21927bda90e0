"""Threshold-free event metrics from frame scores: PSDS1, PSDS2 and segment-based pAUROC.

These are the scores DCASE task 4 and the EfficientSED study report, computed with
``sed_scores_eval`` (Ebbers et al., exact computation over every threshold) on the stored
frame-wise scores of an event task's test clips (:class:`~hearbench.frame_scores.ClipScores`),
not on the events one threshold gives:

* ``psds1``: intersection-based PSDS with detection and ground-truth tolerance 0.7, no
  cross-trigger penalty (``alpha_ct = 0``), ``alpha_st = 1``, eFPR up to 100 per hour;
* ``psds2``: the DCASE setting with tolerances 0.1, cross-trigger tolerance 0.3,
  ``alpha_ct = 0.5``, ``alpha_st = 1``, eFPR up to 100 per hour;
* ``segment_1s_pauroc``: segment-based ROC over 1 s segments, the area up to a false positive
  rate of 0.1 normalised by 0.1, averaged over classes (DCASE's MAESTRO ``mpAUC``).

Each function takes ``scores`` ``{file: ClipScores}``, ``references`` ``{file: [event, ...]}``
(HEAR dicts or :class:`~hearbench.events.Event`, ms) and the label vocabulary in score-column
order. Every file of ``scores`` is evaluated; a file without references has no events;
overlapping or touching reference events of one label are joined (:func:`merged_events`). A class
with no reference event in the evaluated files has no true positive rate and is left out (as
DCASE and EfficientSED evaluate on the classes present); with no reference event at all the
score is NaN. Frames are intervals as :mod:`hearbench.frame_scores` defines them.

Two compatibility measures for ``sed_scores_eval`` 0.0.4 (the current release):

* it imports ``sed_eval``, whose ``dcase_util`` imports ``pkg_resources`` at import time (only
  for install checks); where setuptools no longer ships it, an empty stand-in module is put in
  its place for the import and taken out right after;
* its Cython kernels need writable arrays, but under pandas 3 (copy-on-write)
  ``DataFrame.to_numpy`` returns read-only views; the score frames handed to it are therefore
  a :class:`pandas.DataFrame` subclass whose ``to_numpy`` copies a read-only result (upstream
  has the same fix, unreleased). Values are unchanged.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
import types
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hearbench.events import EventLists, as_event_lists
from hearbench.frame_scores import ClipScores

log = logging.getLogger(__name__)

SEGMENT_LENGTH_S = 1.0
PAUROC_MAX_FPR = 0.1


@dataclass(frozen=True)
class PSDSSetting:
    """The parameters of one PSDS (``sed_scores_eval.intersection_based.psds``).

    Attributes:
        dtc_threshold: Detection tolerance criterion.
        gtc_threshold: Ground-truth intersection criterion.
        cttc_threshold: Cross-trigger tolerance criterion, ``None`` without cross-triggers.
        alpha_ct: Weight of the cross-trigger rate in the effective FPR.
        alpha_st: Weight of the across-class standard deviation of the ROCs.
        max_efpr: Largest effective FPR (per hour) the area is taken up to.
    """

    dtc_threshold: float
    gtc_threshold: float
    cttc_threshold: float | None
    alpha_ct: float
    alpha_st: float
    max_efpr: float = 100.0


PSDS1 = PSDSSetting(0.7, 0.7, None, 0.0, 1.0)
PSDS2 = PSDSSetting(0.1, 0.1, 0.3, 0.5, 1.0)


def sed_scores_eval() -> Any:
    """The ``sed_scores_eval`` package (see the module docstring on ``pkg_resources``)."""
    if "sed_scores_eval" in sys.modules:
        return sys.modules["sed_scores_eval"]
    stub = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            import pkg_resources  # noqa: F401
    except ImportError:
        sys.modules["pkg_resources"] = types.ModuleType("pkg_resources")
        stub = True
    try:
        import sed_scores_eval as package
    except ImportError as exc:
        raise ImportError(
            f"PSDS and pAUROC need the sed_scores_eval package (pip install sed_scores_eval): {exc}"
        ) from exc
    finally:
        if stub:
            del sys.modules["pkg_resources"]
    return package


@functools.cache
def available() -> bool:
    """Whether ``sed_scores_eval`` imports; warns once, naming the extra to install, if not."""
    try:
        sed_scores_eval()
    except ImportError as exc:
        log.warning("%s; event results are stored without psds1, psds2 and segment_1s_pauroc "
                    "(their frame scores are kept: pip install 'hearbench[sed]' to score them)", exc)
        return False
    return True


@dataclass(frozen=True)
class SedScoresInputs:
    """What ``sed_scores_eval`` takes: score frames, ground truth and durations by file.

    Attributes:
        scores: ``{file: DataFrame}`` with ``onset``, ``offset`` (s) and one column per class.
        ground_truth: ``{file: [(onset_s, offset_s, label), ...]}``.
        durations: ``{file: seconds}``.
        classes: The evaluated classes (those with a reference event).
    """

    scores: Mapping[str, Any]
    ground_truth: Mapping[str, list[tuple[float, float, str]]]
    durations: Mapping[str, float]
    classes: tuple[str, ...]


def sed_scores_inputs(
    scores: Mapping[str, ClipScores], references: EventLists, labels: Sequence[str]
) -> SedScoresInputs:
    """Convert frame scores and references to ``sed_scores_eval``'s inputs (module docstring).

    Raises:
        ValueError: A clip whose score columns do not match ``labels``, or a reference label
            outside ``labels``.
    """
    names = [str(label) for label in labels]
    refs = as_event_lists(references)
    ground_truth: dict[str, list[tuple[float, float, str]]] = {}
    for name in scores:
        events = refs.get(name, [])
        unknown = sorted({e.label for e in events} - set(names))
        if unknown:
            raise ValueError(f"references of {name}: labels {unknown} are not in the vocabulary")
        ground_truth[name] = merged_events(
            [(e.start_ms / 1000.0, e.end_ms / 1000.0, e.label) for e in events]
        )
    present = {label for events in ground_truth.values() for _, _, label in events}
    classes = tuple(label for label in names if label in present)
    columns = [names.index(label) for label in classes]
    frames: dict[str, Any] = {}
    for name, clip in scores.items():
        if clip.scores.shape[1] != len(names):
            raise ValueError(
                f"scores of {name}: {clip.scores.shape[1]} columns for {len(names)} labels"
            )
        bounds = clip.bounds()
        data = {"onset": bounds[:-1], "offset": bounds[1:]}
        data.update({label: clip.scores[:, col] for label, col in zip(classes, columns, strict=True)})
        frames[name] = _writable_frame_class()(data, columns=["onset", "offset", *classes])
    durations = {name: clip.duration for name, clip in scores.items()}
    return SedScoresInputs(frames, ground_truth, durations, classes)


@functools.cache
def _writable_frame_class() -> type:
    """A ``DataFrame`` whose ``to_numpy`` (and that of its slices) is always writable."""
    import pandas as pd

    class WritableFrame(pd.DataFrame):
        @property
        def _constructor(self) -> type:
            return WritableFrame

        def to_numpy(self, *args: Any, **kwargs: Any) -> Any:
            out = super().to_numpy(*args, **kwargs)
            return out if out.flags.writeable else out.copy()

    return WritableFrame


def merged_events(events: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Events of one clip with overlapping or touching events of one label joined into one.

    ``sed_scores_eval`` refuses such ground truth; their union is the time the label is active.
    Events are sorted by label, then onset.
    """
    out: list[tuple[float, float, str]] = []
    for onset, offset, label in sorted(events, key=lambda e: (e[2], e[0], e[1])):
        if out and out[-1][2] == label and onset <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], offset), label)
        else:
            out.append((onset, offset, label))
    return out


def psds(
    scores: Mapping[str, ClipScores],
    references: EventLists,
    labels: Sequence[str],
    setting: PSDSSetting,
) -> float:
    """The PSDS of ``setting`` over every file of ``scores``; NaN without reference events."""
    inputs = sed_scores_inputs(scores, references, labels)
    if not inputs.classes or not inputs.scores:
        return math.nan
    value = sed_scores_eval().intersection_based.psds(
        dict(inputs.scores),
        dict(inputs.ground_truth),
        dict(inputs.durations),
        dtc_threshold=setting.dtc_threshold,
        gtc_threshold=setting.gtc_threshold,
        cttc_threshold=setting.cttc_threshold,
        alpha_ct=setting.alpha_ct,
        alpha_st=setting.alpha_st,
        max_efpr=setting.max_efpr,
    )[0]
    return float(value)


def psds1(scores: Mapping[str, ClipScores], references: EventLists, labels: Sequence[str]) -> float:
    """PSDS1: tolerances 0.7, no cross-trigger, ``alpha_st = 1``, eFPR up to 100 per hour."""
    return psds(scores, references, labels, PSDS1)


def psds2(scores: Mapping[str, ClipScores], references: EventLists, labels: Sequence[str]) -> float:
    """PSDS2: tolerances 0.1, cross-trigger 0.3 at ``alpha_ct = 0.5``, ``alpha_st = 1``."""
    return psds(scores, references, labels, PSDS2)


def segment_1s_pauroc(
    scores: Mapping[str, ClipScores], references: EventLists, labels: Sequence[str]
) -> float:
    """Class-averaged segment-based ROC area up to FPR 0.1 (normalised), over 1 s segments."""
    inputs = sed_scores_inputs(scores, references, labels)
    if not inputs.classes or not inputs.scores:
        return math.nan
    auroc = sed_scores_eval().segment_based.auroc(
        dict(inputs.scores),
        dict(inputs.ground_truth),
        dict(inputs.durations),
        segment_length=SEGMENT_LENGTH_S,
        max_fpr=PAUROC_MAX_FPR,
    )[0]
    return float(auroc["mean"])
