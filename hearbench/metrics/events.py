"""Event-level metrics of HEAR event tasks, equal to heareval's sed_eval scores.

Each metric takes ``predictions`` and ``references`` as ``{file: [event, ...]}`` (events as
:class:`~hearbench.events.Event` or HEAR dicts, times in ms) and scores every file named in
either mapping; a file missing from one side has no events there. (heareval loops over the
files of ``predictions``, which its post-processing fills for every file with frames, so the
two agree on its inputs.) Counts are summed over files before the score is formed (sed_eval's
"overall", i.e. micro-averaged, scores).

Times are compared in seconds (``ms / 1000``) with the same floating-point expressions as
sed_eval, so collar boundaries fall exactly where sed_eval puts them. As in sed_eval, a
precision or recall of 0/0 is NaN and so is any F-measure built from it: with no predicted
events, or no reference events, over all files the F-measure is NaN. heareval counts a NaN
primary score as 0 when it chooses post-processing (see :mod:`hearbench.postprocess`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hearbench.events import Event, EventLists, as_event_lists

_EPS = float(np.spacing(1))


@dataclass(frozen=True)
class EventCounts:
    """Event-based counts summed over files.

    Attributes:
        n_ref: Reference events.
        n_sys: Predicted events.
        n_tp: Predicted events matched one-to-one to a reference event.
    """

    n_ref: int
    n_sys: int
    n_tp: int

    @property
    def precision(self) -> float:
        """``n_tp / n_sys``; NaN when nothing was predicted."""
        return self.n_tp / float(self.n_sys) if self.n_sys else math.nan

    @property
    def recall(self) -> float:
        """``n_tp / n_ref``; NaN when there is no reference event."""
        return self.n_tp / float(self.n_ref) if self.n_ref else math.nan

    @property
    def f_measure(self) -> float:
        """Harmonic mean of precision and recall; 0 when both are 0, else NaN if either is."""
        precision, recall = self.precision, self.recall
        if precision == 0 and recall == 0:
            return 0.0
        return 2.0 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class SegmentCounts:
    """Segment-based error counts summed over segments and files.

    Attributes:
        n_ref: Active (segment, class) pairs in the reference.
        substitutions: Per segment ``min(Nref, Nsys) - Ntp``, summed.
        deletions: Per segment ``max(0, Nref - Nsys)``, summed.
        insertions: Per segment ``max(0, Nsys - Nref)``, summed.
    """

    n_ref: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def error_rate(self) -> float:
        """``(S + D + I) / N``, each rate with sed_eval's ``eps`` added to ``N``."""
        denominator = self.n_ref + _EPS
        return (
            self.substitutions / denominator
            + self.deletions / denominator
            + self.insertions / denominator
        )


def event_based_counts(
    predictions: EventLists,
    references: EventLists,
    *,
    t_collar: float,
    evaluate_offset: bool = False,
    percentage_of_length: float = 0.5,
) -> EventCounts:
    """Count one-to-one matches of same-label events (sed_eval's optimal matching).

    A predicted and a reference event may match when their labels are equal, their onsets
    differ by at most ``t_collar`` seconds and, with ``evaluate_offset``, their offsets differ
    by at most ``max(t_collar, percentage_of_length * reference length)``. The matching is a
    maximum-cardinality bipartite matching per file.

    Args:
        predictions: Predicted events per file.
        references: Reference events per file.
        t_collar: Collar in seconds.
        evaluate_offset: Also require the offset condition.
        percentage_of_length: Share of the reference length allowed as offset error.

    Returns:
        Totals over all files named in either mapping.
    """
    preds, refs = as_event_lists(predictions), as_event_lists(references)
    n_ref = n_sys = n_tp = 0
    for name in _files(preds, refs):
        ref, est = refs.get(name, []), preds.get(name, [])
        n_ref += len(ref)
        n_sys += len(est)
        if ref and est:
            hits = _hit_matrix(ref, est, t_collar, evaluate_offset, percentage_of_length)
            n_tp += _max_matching(hits)
    return EventCounts(n_ref=n_ref, n_sys=n_sys, n_tp=n_tp)


def segment_based_counts(
    predictions: EventLists, references: EventLists, *, time_resolution: float = 1.0
) -> SegmentCounts:
    """Count segment-level errors (sed_eval's ``SegmentBasedMetrics``).

    Each file is cut into ``ceil(max offset / time_resolution)`` segments; an event makes its
    class active in segments ``floor(onset / res)`` up to ``ceil(offset / res)`` (exclusive).

    Args:
        predictions: Predicted events per file.
        references: Reference events per file.
        time_resolution: Segment length in seconds.

    Returns:
        Totals over all files named in either mapping.
    """
    if not time_resolution > 0:
        raise ValueError(f"time_resolution must be > 0 seconds, got {time_resolution}")
    preds, refs = as_event_lists(predictions), as_event_lists(references)
    labels = sorted({e.label for evs in (*preds.values(), *refs.values()) for e in evs})
    index = {label: i for i, label in enumerate(labels)}
    n_ref = subs = dels = ins = 0
    for name in _files(preds, refs):
        ref, est = refs.get(name, []), preds.get(name, [])
        length_s = max([0.0] + [e.end_ms / 1000.0 for e in (*ref, *est)])
        n_segments = math.ceil(length_s / time_resolution)
        if n_segments == 0:
            continue
        ref_roll = _event_roll(ref, index, n_segments, time_resolution)
        est_roll = _event_roll(est, index, n_segments, time_resolution)
        seg_ref = ref_roll.sum(axis=1)
        seg_sys = est_roll.sum(axis=1)
        seg_tp = (ref_roll & est_roll).sum(axis=1)
        n_ref += int(seg_ref.sum())
        subs += int((np.minimum(seg_ref, seg_sys) - seg_tp).sum())
        dels += int(np.maximum(0, seg_ref - seg_sys).sum())
        ins += int(np.maximum(0, seg_sys - seg_ref).sum())
    return SegmentCounts(n_ref=n_ref, substitutions=subs, deletions=dels, insertions=ins)


def event_onset_200ms_fms(predictions: EventLists, references: EventLists) -> float:
    """Onset-only event F-measure with a 200 ms collar (micro over files)."""
    return event_based_counts(predictions, references, t_collar=0.2).f_measure


def event_onset_50ms_fms(predictions: EventLists, references: EventLists) -> float:
    """Onset-only event F-measure with a 50 ms collar (micro over files)."""
    return event_based_counts(predictions, references, t_collar=0.05).f_measure


def event_onset_offset_50ms_20perc_fms(predictions: EventLists, references: EventLists) -> float:
    """Onset+offset event F-measure: 50 ms onset collar, offset within max(50 ms, 20 %)."""
    counts = event_based_counts(
        predictions, references, t_collar=0.05, evaluate_offset=True, percentage_of_length=0.2
    )
    return counts.f_measure


def segment_1s_er(predictions: EventLists, references: EventLists) -> float:
    """Segment-based error rate ``(S + D + I) / N`` over 1 s segments (lower is better)."""
    return segment_based_counts(predictions, references, time_resolution=1.0).error_rate




def _files(preds: dict[str, list[Event]], refs: dict[str, list[Event]]) -> list[str]:
    return [*refs, *(name for name in preds if name not in refs)]


def _hit_matrix(
    ref: list[Event],
    est: list[Event],
    t_collar: float,
    evaluate_offset: bool,
    percentage_of_length: float,
) -> npt.NDArray[np.bool_]:
    ref_label = [e.label for e in ref]
    est_label = [e.label for e in est]
    codes = {label: i for i, label in enumerate(dict.fromkeys(ref_label + est_label))}
    ref_code = np.array([codes[x] for x in ref_label])
    est_code = np.array([codes[x] for x in est_label])
    ref_on = np.array([e.start_ms for e in ref]) / 1000.0
    est_on = np.array([e.start_ms for e in est]) / 1000.0
    hits = ref_code[:, None] == est_code[None, :]
    hits &= np.abs(ref_on[:, None] - est_on[None, :]) <= t_collar
    if evaluate_offset:
        ref_off = np.array([e.end_ms for e in ref]) / 1000.0
        est_off = np.array([e.end_ms for e in est]) / 1000.0
        tolerance = np.maximum(t_collar, percentage_of_length * (ref_off - ref_on))
        hits &= np.abs(ref_off[:, None] - est_off[None, :]) <= tolerance[:, None]
    return hits


def _max_matching(hits: npt.NDArray[np.bool_]) -> int:
    """Size of a maximum-cardinality matching in the bipartite graph ``hits`` (rows x cols)."""
    rows = np.nonzero(hits.any(axis=1))[0]
    if rows.size == 0:
        return 0
    cols = np.nonzero(hits.any(axis=0))[0]
    sub = hits[np.ix_(rows, cols)]
    if (sub.sum(axis=0) == 1).all():
        return int(rows.size)
    if (sub.sum(axis=1) == 1).all():
        return int(cols.size)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    matched = maximum_bipartite_matching(csr_matrix(sub), perm_type="column")
    return int((matched >= 0).sum())


def _event_roll(
    events: list[Event], index: dict[str, int], n_segments: int, time_resolution: float
) -> npt.NDArray[np.bool_]:
    coverage = np.zeros((n_segments + 1, len(index)), dtype=np.int64)
    if events:
        onsets = np.array([e.start_ms for e in events]) / 1000.0
        offsets = np.array([e.end_ms for e in events]) / 1000.0
        first = np.floor(onsets / time_resolution).astype(np.intp)
        stop = np.minimum(np.ceil(offsets / time_resolution).astype(np.intp), n_segments)
        cols = np.array([index[e.label] for e in events], dtype=np.intp)
        keep = first < stop
        np.add.at(coverage, (first[keep], cols[keep]), 1)
        np.add.at(coverage, (stop[keep], cols[keep]), -1)
    roll: npt.NDArray[np.bool_] = np.cumsum(coverage[:-1], axis=0) > 0
    return roll
