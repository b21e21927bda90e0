"""Time event post-processing + scoring: hearbench against heareval's sed_eval path.

One clip (120 s at a 10 ms hop by default) with several labels gets structured random frame
probabilities: true events with noisy, flickering probabilities plus spurious bursts. Both
sides post-process it at every point of the default grid and compute the four HEAR event
metrics; the reference side is heareval's recipe (``scipy.ndimage.median_filter``, a loop over
runs of active frames, ``sed_eval`` scores over ``dcase_util`` containers). The script checks
that events and scores agree and prints both times and their ratio.

Run: ``python benchmarks/bench_events.py [--seconds 120] [--hop-ms 10] [--labels 6]``.
Needs the ``test`` extra (sed_eval, dcase_util).
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.ndimage import median_filter

from hearbench.events import Event
from hearbench.metrics import EVENT_METRICS
from hearbench.postprocess import PostProcessing, apply_postprocessing, postprocessing_grid

SED_EVAL_PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "event_onset_200ms_fms": ("event", {"evaluate_offset": False, "t_collar": 0.2}),
    "event_onset_50ms_fms": ("event", {"evaluate_offset": False, "t_collar": 0.05}),
    "event_onset_offset_50ms_20perc_fms": (
        "event",
        {"evaluate_offset": True, "t_collar": 0.05, "percentage_of_length": 0.2},
    ),
    "segment_1s_er": ("segment", {"time_resolution": 1.0}),
}

Events = dict[str, list[dict[str, Any]]]


def import_sed_eval() -> Any:
    """Import sed_eval, standing in an empty ``pkg_resources`` while dcase_util imports."""
    try:
        import pkg_resources  # noqa: F401

        stub = False
    except ImportError:
        sys.modules["pkg_resources"] = types.ModuleType("pkg_resources")
        stub = True
    try:
        import sed_eval

        return sed_eval
    finally:
        if stub:
            del sys.modules["pkg_resources"]


def make_clip(
    seconds: float, hop_ms: float, n_labels: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[str], Events]:
    """Frame probabilities ``(T, C)``, timestamps, labels and the reference events."""
    rng = np.random.default_rng(seed)
    ts = np.arange(int(seconds * 1000 / hop_ms)) * hop_ms + hop_ms / 2
    labels = [f"label{i}" for i in range(n_labels)]
    truth = np.zeros((ts.size, n_labels), dtype=bool)
    references: list[dict[str, Any]] = []
    for c, label in enumerate(labels):
        t = rng.exponential(2000.0)
        while t < ts[-1]:
            length = rng.exponential(800.0) + 50.0
            start, end = round(t, 1), round(min(t + length, ts[-1]), 1)
            references.append({"label": label, "start": start, "end": end})
            truth[(ts >= start) & (ts <= end), c] = True
            t = end + rng.exponential(2500.0)
    smooth = np.ones(7) / 7
    noise = rng.random((ts.size, n_labels))
    noise = np.stack([np.convolve(noise[:, c], smooth, mode="same") for c in range(n_labels)], 1)
    bursts = rng.random((ts.size, n_labels)) < 0.004
    bursts = np.stack(
        [np.convolve(bursts[:, c], np.ones(15), mode="same") > 0 for c in range(n_labels)], 1
    )
    logits = 3.0 * truth + 1.8 * bursts + 2.5 * (noise - 0.5) - 1.5
    probabilities = (1 / (1 + np.exp(-logits))).astype(np.float32)
    return probabilities, ts, labels, {"clip.wav": references}


def reference_events(
    probabilities: np.ndarray, ts: np.ndarray, labels: list[str], params: PostProcessing
) -> list[dict[str, Any]]:
    """heareval's per-clip post-processing: scipy median filter, then a loop over runs."""
    p = probabilities
    if params.median_filter_ms:
        width = round(float(params.median_filter_ms / np.mean(np.diff(ts))))
        if width:
            p = median_filter(p, size=(width, 1))
    active = (p > params.threshold).astype(np.int8)
    events = []
    for c in range(active.shape[1]):
        frames = np.where(active[:, c])[0]
        for _, run in itertools.groupby(enumerate(frames), key=lambda x: x[1] - x[0]):
            group = [i for _, i in run]
            start, end = ts[group[0]], ts[group[-1]]
            if end - start >= params.min_duration:
                events.append({"label": labels[c], "start": start, "end": end})
    events.sort(key=lambda e: e["start"])
    return events


def sed_eval_scores(
    sed_eval: Any, labels: list[str], predictions: Events, references: Events
) -> dict[str, float]:
    """The four metrics as heareval computes them with sed_eval."""
    from dcase_util.containers import MetaDataContainer

    def container(events: Events) -> Any:
        return MetaDataContainer(
            [
                {
                    "event_label": str(e["label"]),
                    "event_onset": e["start"] / 1000.0,
                    "event_offset": e["end"] / 1000.0,
                    "file": name,
                }
                for name, evs in events.items()
                for e in evs
            ]
        )

    ref, est = container(references), container(predictions)
    scores = {}
    for name, (kind, params) in SED_EVAL_PARAMS.items():
        if kind == "event":
            metric = sed_eval.sound_event.EventBasedMetrics(event_label_list=labels, **params)
        else:
            metric = sed_eval.sound_event.SegmentBasedMetrics(event_label_list=labels, **params)
        for filename in predictions:
            metric.evaluate(
                reference_event_list=ref.filter(filename=filename),
                estimated_event_list=est.filter(filename=filename),
            )
        overall = metric.results_overall_metrics()
        key = "f_measure" if kind == "event" else "error_rate"
        scores[name] = float(overall[key][key])
    return scores


def run_hearbench(
    probabilities: np.ndarray, ts: np.ndarray, labels: list[str], references: Events
) -> dict[PostProcessing, tuple[dict[str, list[Event]], dict[str, float]]]:
    out = {}
    for params in postprocessing_grid():
        events = apply_postprocessing({"clip.wav": probabilities}, {"clip.wav": ts}, labels, params)
        out[params] = (events, {n: m(events, references) for n, m in EVENT_METRICS.items()})
    return out


def run_reference(
    sed_eval: Any, probabilities: np.ndarray, ts: np.ndarray, labels: list[str], references: Events
) -> dict[PostProcessing, tuple[Events, dict[str, float]]]:
    out = {}
    for params in postprocessing_grid():
        events = {"clip.wav": reference_events(probabilities, ts, labels, params)}
        out[params] = (events, sed_eval_scores(sed_eval, labels, events, references))
    return out


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--hop-ms", type=float, default=10.0)
    parser.add_argument("--labels", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    sed_eval = import_sed_eval()
    probabilities, ts, labels, references = make_clip(
        args.seconds, args.hop_ms, args.labels, args.seed
    )
    ours_s, ours = best_time(
        lambda: run_hearbench(probabilities, ts, labels, references), args.repeats
    )
    ref_s, ref = best_time(
        lambda: run_reference(sed_eval, probabilities, ts, labels, references),
        max(1, args.repeats // 2),
    )

    print(
        f"clip: {args.seconds:g} s at {args.hop_ms:g} ms hop = {ts.size} frames x {len(labels)} "
        f"labels, {len(references['clip.wav'])} reference events"
    )
    equal = True
    for params, (events, scores) in ours.items():
        ref_events, ref_scores = ref[params]
        same_events = [e.to_dict() for e in events["clip.wav"]] == ref_events["clip.wav"]
        print(
            f"grid point median_filter_ms={params.median_filter_ms:g} "
            f"min_duration={params.min_duration:g}: {len(events['clip.wav'])} events, "
            f"events equal: {same_events}"
        )
        equal &= same_events
        for name, value in scores.items():
            other = ref_scores[name]
            same = (math.isnan(value) and math.isnan(other)) or abs(value - other) <= 1e-9
            equal &= same
            print(f"  {name:<36} hearbench {value:.12f}  sed_eval {other:.12f}  equal: {same}")
    print(
        f"hearbench (post-processing + 4 metrics, {len(ours)} grid points): {ours_s * 1e3:.1f} ms"
    )
    print(f"heareval/sed_eval (same work):                             {ref_s * 1e3:.1f} ms")
    print(f"speed-up: {ref_s / ours_s:.1f}x")
    if not equal:
        print("MISMATCH between hearbench and sed_eval")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
