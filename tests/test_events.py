"""Event track: frame targets, post-processing and event metrics against sed_eval/heareval."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import SED_EVAL_PARAMS, import_sed_eval, sed_eval_score
from scipy.ndimage import median_filter

from hearbench.events import (
    Event,
    as_event_lists,
    event_lists_to_json,
    frame_targets,
    read_events,
    write_events,
)
from hearbench.metrics import EVENT_METRICS
from hearbench.metrics.base import Metric
from hearbench.metrics.events import (
    event_based_counts,
    event_onset_50ms_fms,
    event_onset_200ms_fms,
    event_onset_offset_50ms_20perc_fms,
    segment_1s_er,
)
from hearbench.postprocess import (
    DEFAULT_POSTPROCESSING_GRID,
    PostProcessing,
    active_frames,
    apply_postprocessing,
    events_from_active_frames,
    events_from_predictions,
    grid_from_evaluation_params,
    median_filter_width,
    postprocessing_grid,
    select_postprocessing,
    split_frames,
)

LABELS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def sed_eval() -> Any:
    return import_sed_eval()


def _random_events(rng: np.random.Generator, n: int, grid_ms: bool) -> list[dict[str, Any]]:
    events = []
    for _ in range(n):
        if grid_ms:
            start = float(rng.integers(0, 600) * 10)
            end = start + float(rng.integers(0, 150) * 10)
        else:
            start = float(rng.uniform(0, 6000))
            end = start + float(rng.exponential(400))
        events.append({"label": str(rng.choice(LABELS)), "start": start, "end": end})
    return events


def _perturb(rng: np.random.Generator, events: list[dict[str, Any]], grid_ms: bool) -> list[dict]:
    out = []
    for e in events:
        if rng.random() < 0.2:
            continue
        if grid_ms:
            ds, de = (float(rng.integers(-25, 26) * 10) for _ in range(2))
        else:
            ds, de = (float(rng.normal(0, 80)) for _ in range(2))
        start = max(0.0, e["start"] + ds)
        end = max(start, e["end"] + de)
        label = e["label"] if rng.random() < 0.85 else str(rng.choice(LABELS))
        out.append({"label": label, "start": start, "end": end})
    return out


def _random_case(seed: int) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    rng = np.random.default_rng(seed)
    grid_ms = bool(rng.random() < 0.5)
    references: dict[str, list[dict]] = {}
    predictions: dict[str, list[dict]] = {}
    for f in range(int(rng.integers(1, 4))):
        name = f"clip{f}.wav"
        refs = _random_events(rng, int(rng.integers(0, 12)), grid_ms)
        preds = _perturb(rng, refs, grid_ms) + _random_events(rng, int(rng.integers(0, 4)), grid_ms)
        mode = rng.random()
        if mode < 0.08:
            preds = []
        elif mode < 0.14:
            refs = []
        if rng.random() < 0.9:
            references[name] = refs
        if rng.random() < 0.9:
            predictions[name] = list(rng.permutation(np.array(preds, dtype=object)))
    return predictions, references


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9


# --- metrics against sed_eval -------------------------------------------------------------


@pytest.mark.parametrize("name", list(SED_EVAL_PARAMS))
def test_metrics_match_sed_eval_on_random_cases(sed_eval: Any, name: str) -> None:
    fn = EVENT_METRICS[name]
    mismatches = []
    for seed in range(300):
        predictions, references = _random_case(seed)
        ours = fn(predictions, references)
        theirs = sed_eval_score(sed_eval, name, predictions, references)
        if not _same(ours, theirs):
            mismatches.append((seed, ours, theirs))
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize("name", list(SED_EVAL_PARAMS))
def test_metrics_match_sed_eval_on_edge_cases(sed_eval: Any, name: str) -> None:
    ev = {"label": "a", "start": 1000.0, "end": 2000.0}
    cases: list[tuple[dict, dict]] = [
        ({}, {}),
        ({"f": []}, {"f": []}),
        ({"f": [ev]}, {}),
        ({}, {"f": [ev]}),
        ({"f": []}, {"f": [ev]}),
        ({"f": [ev]}, {"f": []}),
        ({"f": [ev, ev]}, {"f": [ev]}),
        ({"f": [ev]}, {"f": [ev, ev, ev]}),
        ({"g": [ev]}, {"f": [ev]}),
        ({"f": [{"label": "a", "start": 2200.0, "end": 2200.0}]}, {"f": [ev]}),
        ({"f": [{"label": "b", "start": 1000.0, "end": 2000.0}]}, {"f": [ev]}),
    ]
    for predictions, references in cases:
        ours = EVENT_METRICS[name](predictions, references)
        theirs = sed_eval_score(sed_eval, name, predictions, references)
        assert _same(ours, theirs), (predictions, references, ours, theirs)


def test_collar_boundaries_follow_sed_eval_float_arithmetic(sed_eval: Any) -> None:
    for start_ms in range(0, 5000, 10):
        references = {"f": [{"label": "a", "start": float(start_ms), "end": start_ms + 500.0}]}
        for shift in (-200.0, 200.0, -50.0, 50.0):
            est = max(0.0, start_ms + shift)
            predictions = {"f": [{"label": "a", "start": est, "end": est + 500.0}]}
            for name in ("event_onset_200ms_fms", "event_onset_50ms_fms"):
                ours = EVENT_METRICS[name](predictions, references)
                assert _same(ours, sed_eval_score(sed_eval, name, predictions, references))


# --- metrics by hand ----------------------------------------------------------------------


def test_onset_fms_by_hand() -> None:
    references = {"f": [Event("a", 1000, 2000), Event("b", 3000, 4000)]}
    predictions = {"f": [Event("a", 1150, 1500), Event("b", 3300, 4000), Event("a", 5000, 5100)]}
    # 200 ms: only a@1150 matches -> P = 1/3, R = 1/2, F = 2PR/(P+R) = 0.4
    assert event_onset_200ms_fms(predictions, references) == pytest.approx(0.4, abs=1e-12)
    # 50 ms: nothing matches -> P = R = 0 -> F = 0
    assert event_onset_50ms_fms(predictions, references) == 0.0


def test_optimal_matching_beats_greedy() -> None:
    # e1 fits r1 and r2, e2 only r1; a greedy pass gives r1 to e1 and leaves r2 unmatched.
    references = {"f": [Event("a", 1000, 1100), Event("a", 1300, 1400)]}
    predictions = {"f": [Event("a", 1150, 1200), Event("a", 900, 1000)]}
    counts = event_based_counts(predictions, references, t_collar=0.2)
    assert (counts.n_tp, counts.n_ref, counts.n_sys) == (2, 2, 2)
    assert event_onset_200ms_fms(predictions, references) == 1.0


def test_offset_tolerance_is_max_of_collar_and_share_of_length() -> None:
    long_ref = {"f": [Event("a", 0, 1000)]}  # tolerance max(0.05, 0.2 * 1.0) = 0.2 s
    assert event_onset_offset_50ms_20perc_fms({"f": [Event("a", 20, 1190)]}, long_ref) == 1.0
    assert event_onset_offset_50ms_20perc_fms({"f": [Event("a", 20, 1210)]}, long_ref) == 0.0
    short_ref = {"f": [Event("a", 2000, 2100)]}  # tolerance max(0.05, 0.02) = 0.05 s
    assert event_onset_offset_50ms_20perc_fms({"f": [Event("a", 2000, 2140)]}, short_ref) == 1.0
    assert event_onset_offset_50ms_20perc_fms({"f": [Event("a", 2000, 2160)]}, short_ref) == 0.0


def test_f_measure_empty_sides_are_nan_like_sed_eval() -> None:
    ev = Event("a", 0, 100)
    assert math.isnan(event_onset_200ms_fms({}, {}))
    assert math.isnan(event_onset_200ms_fms({"f": [ev]}, {"f": []}))  # P = 0, R = 0/0
    assert math.isnan(event_onset_200ms_fms({"f": []}, {"f": [ev]}))  # P = 0/0, R = 0
    # a reference file absent from predictions counts as predicting nothing there
    both = {"f": [ev], "g": [ev]}
    assert event_onset_200ms_fms({"f": [ev]}, both) == pytest.approx(2 / 3)


def test_segment_error_rate_by_hand() -> None:
    references = {"f": [Event("a", 0, 1500), Event("b", 2500, 2600)]}
    predictions = {"f": [Event("a", 200, 900), Event("c", 2100, 2200)]}
    # 3 segments; seg0 a/a ok, seg1 a/- deletion, seg2 b/c substitution; N = 3
    assert segment_1s_er(predictions, references) == pytest.approx(2 / 3, abs=1e-12)
    # an event ending on a segment boundary does not reach the next segment
    assert segment_1s_er({"f": [Event("a", 0, 1000)]}, {"f": [Event("a", 500, 1000)]}) == 0.0
    # insertions only: N = 0 -> rate divided by eps, as sed_eval does
    assert segment_1s_er({"f": [Event("a", 0, 500)]}, {"f": []}) == 1 / np.spacing(1)
    assert segment_1s_er({}, {}) == 0.0


def test_overlapping_same_label_events() -> None:
    references = {"f": [Event("a", 0, 2000), Event("a", 100, 500)]}
    predictions = {"f": [Event("a", 50, 1900)]}
    assert event_onset_200ms_fms(predictions, references) == pytest.approx(2 / 3)
    assert segment_1s_er(predictions, references) == 0.0


def test_metric_records() -> None:
    assert set(EVENT_METRICS) == set(SED_EVAL_PARAMS)
    for name, metric in EVENT_METRICS.items():
        assert isinstance(metric, Metric)
        assert metric.name == name
        assert metric.higher_is_better is (name != "segment_1s_er")


# --- event records and frame targets -------------------------------------------------------


def test_event_validation_and_json_roundtrip(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="start_ms <= end_ms"):
        Event("a", 10, 5)
    with pytest.raises(ValueError, match="lacks"):
        Event.from_dict({"label": "a", "start": 1})
    assert Event.from_dict({"label": 3, "start": 1, "end": 2}) == Event("3", 1.0, 2.0)
    events = {"x.wav": [{"label": 1, "start": 0, "end": 10.5}], "y.wav": []}
    path = tmp_path / "sub" / "ev.json"
    write_events(path, events)
    assert read_events(path) == {"x.wav": [Event("1", 0.0, 10.5)], "y.wav": []}
    assert json.loads(path.read_text()) == event_lists_to_json(events)
    assert as_event_lists(read_events(path)) == read_events(path)


def test_frame_targets_end_inclusive() -> None:
    ts = np.arange(0, 100, 10.0)
    y = frame_targets(ts, [Event("b", 20, 40), {"label": "a", "start": 55, "end": 70}], LABELS)
    assert y.dtype == np.float32 and y.shape == (10, 3)
    assert np.flatnonzero(y[:, 1]).tolist() == [2, 3, 4]
    assert np.flatnonzero(y[:, 0]).tolist() == [6, 7]
    assert not y[:, 2].any()
    assert np.flatnonzero(frame_targets(ts, [Event("a", 20, 20)], LABELS)[:, 0]).tolist() == [2]
    assert not frame_targets(ts, [Event("a", 25, 25)], LABELS).any()
    with pytest.raises(ValueError, match="not in labels"):
        frame_targets(ts, [Event("z", 0, 10)], LABELS)


def test_frame_targets_match_interval_rule_on_random_input() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        hop = float(rng.choice([10.0, 20.0, 46.439909297052154, 50.0]))
        ts = np.arange(int(rng.integers(1, 200))) * hop + hop / 2
        events = [
            Event(str(rng.choice(LABELS)), s, s + float(rng.choice([0.0, hop, rng.uniform(0, 900)])))
            for s in rng.choice(np.concatenate([ts, rng.uniform(0, ts[-1] + 1, 5)]), 6)
        ]
        expected = np.zeros((ts.size, len(LABELS)), dtype=np.float32)
        for i, t in enumerate(ts):
            for e in events:
                if e.start_ms <= t < e.end_ms + 0.0001:
                    expected[i, LABELS.index(e.label)] = 1
        perm = rng.permutation(ts.size)
        np.testing.assert_array_equal(frame_targets(ts, events, LABELS), expected)
        np.testing.assert_array_equal(frame_targets(ts[perm], events, LABELS), expected[perm])


# --- post-processing ----------------------------------------------------------------------


def heareval_events(
    predictions: np.ndarray, timestamps: np.ndarray, labels: list[str], params: PostProcessing
) -> list[dict[str, Any]]:
    """heareval's per-clip post-processing, written out with scipy and plain loops."""
    order = np.argsort(timestamps)
    ts, p = timestamps[order], predictions[order]
    if params.median_filter_ms:
        width = round(float(params.median_filter_ms / np.mean(np.diff(ts))))
        if width:
            p = median_filter(p, size=(width, 1))
    active = p > params.threshold
    events = []
    for c in range(active.shape[1]):
        idx = np.flatnonzero(active[:, c])
        for _, group in itertools.groupby(enumerate(idx), key=lambda x: x[1] - x[0]):
            run = [i for _, i in group]
            start, end = ts[run[0]], ts[run[-1]]
            if end - start >= params.min_duration:
                events.append({"label": labels[c], "start": start, "end": end})
    events.sort(key=lambda e: e["start"])
    return events


def test_median_filter_width_rounds_half_to_even() -> None:
    assert median_filter_width(np.arange(0, 1000, 10.0), 250) == 25
    assert median_filter_width(np.arange(0, 1000, 20.0), 250) == 12
    assert median_filter_width(np.arange(0, 1000, 40.0), 250) == 6
    assert median_filter_width(np.arange(0, 1000, 10.0), 0) == 0
    assert median_filter_width(np.array([5.0]), 250) == 0


def test_active_frames_equal_scipy_median_filter() -> None:
    rng = np.random.default_rng(2)
    values = np.array([0.1, 0.5, 0.50001, 0.9], dtype=np.float32)
    for n_frames in range(1, 41):
        ts = np.arange(n_frames) * 10.0
        for width in range(1, 90, 3):
            p = rng.choice(values, (n_frames, 2))
            ours = active_frames(p, ts, width * 10.0, 0.5)
            left = width // 2
            padded = np.pad(p, ((left, width - 1 - left), (0, 0)), mode="symmetric")
            windows = np.stack([padded[i : i + width] for i in range(n_frames)])
            by_rank = np.sort(windows, axis=1)[:, width // 2] > 0.5
            np.testing.assert_array_equal(ours, by_rank if n_frames > 1 else p > 0.5)
            # scipy reads past its buffer once a window is about 8x the clip; below that
            # it must agree bit for bit
            if n_frames > 1 and width <= 4 * n_frames:
                expected = median_filter(p, size=(width, 1)) > 0.5
                np.testing.assert_array_equal(ours, expected)


def test_events_start_and_end_at_frame_centres() -> None:
    ts = np.arange(20) * 10.0 + 5.0
    active = np.zeros((20, 2), dtype=bool)
    active[3:8, 0] = True  # 35 .. 75 ms, 40 ms long
    active[10, 1] = True  # one frame: 0 ms long
    assert events_from_active_frames(active, ts, ["x", "y"], 40) == [Event("x", 35, 75)]
    assert events_from_active_frames(active, ts, ["x", "y"], 41) == []
    assert events_from_active_frames(active, ts, ["x", "y"], 0) == [
        Event("x", 35, 75),
        Event("y", 105, 105),
    ]


def test_min_duration_drops_short_events() -> None:
    ts = np.arange(100) * 10.0
    p = np.zeros((100, 1), dtype=np.float32)
    p[10:23, 0] = 0.9  # 120 ms
    p[50:80, 0] = 0.9  # 290 ms
    keep_all = PostProcessing(median_filter_ms=0, min_duration=120)
    assert events_from_predictions(p, ts, ["x"], keep_all) == [
        Event("x", 100, 220),
        Event("x", 500, 790),
    ]
    drop = PostProcessing(median_filter_ms=0, min_duration=125)
    assert events_from_predictions(p, ts, ["x"], drop) == [Event("x", 500, 790)]


def test_postprocessing_matches_heareval_loop_on_random_input() -> None:
    rng = np.random.default_rng(3)
    for trial in range(40):
        hop = float(rng.choice([10.0, 20.0, 25.0, 46.4399]))
        n = int(rng.integers(2, 400))
        ts = np.arange(n) * hop + hop / 2
        levels = rng.random((n // 8 + 1, 4)) < 0.4
        p = np.repeat(levels, 8, axis=0)[:n] * 0.6 + rng.random((n, 4)) * 0.4
        p = p.astype(np.float32)
        for params in postprocessing_grid(
            {"median_filter_ms": [0, 60, 150, 250], "min_duration": [0, 60, 250]}
        ):
            ours = events_from_predictions(p, ts, ["a", "b", "c", "d"], params)
            theirs = heareval_events(p, ts, ["a", "b", "c", "d"], params)
            assert [e.to_dict() for e in ours] == theirs, (trial, params)


def test_grid_order_and_task_override() -> None:
    sklearn_model_selection = pytest.importorskip("sklearn.model_selection")
    grid: dict[str, list[float]] = {
        "min_duration": [0, 60],
        "median_filter_ms": [250, 150],
        "threshold": [0.5, 0.3],
    }
    expected = [
        PostProcessing(**{k: float(v) for k, v in point.items()})
        for point in sklearn_model_selection.ParameterGrid(grid)
    ]
    assert postprocessing_grid(grid) == expected
    assert postprocessing_grid() == [PostProcessing(250.0, 125.0), PostProcessing(250.0, 250.0)]
    assert postprocessing_grid({"min_duration": [0]}) == [PostProcessing(150.0, 0.0)]
    assert grid_from_evaluation_params(None) is DEFAULT_POSTPROCESSING_GRID
    own = {"median_filter_ms": [150], "min_duration": [50]}
    assert grid_from_evaluation_params({"event_postprocessing_grid": own}) is own
    with pytest.raises(ValueError, match="unknown parameter"):
        postprocessing_grid({"median": [1]})
    with pytest.raises(ValueError, match="non-empty list"):
        postprocessing_grid({"min_duration": []})


def _validation_set() -> tuple[dict, dict, dict]:
    ts = np.arange(300) * 10.0
    p = np.zeros((300, 2), dtype=np.float32)
    p[20:120, 0] = 0.9  # true event 200 .. 1190 ms
    p[200:221, 1] = 0.9  # spurious 200 ms burst: kept with min_duration 125, not with 250
    references = {"clip": [Event("a", 200, 1190)]}
    return {"clip": p}, {"clip": ts}, references


def test_select_postprocessing_picks_best_on_validation() -> None:
    predictions, timestamps, references = _validation_set()
    choice = select_postprocessing(predictions, timestamps, references, ["a", "b"], "event_onset_200ms_fms")
    assert choice.best == PostProcessing(250.0, 250.0)
    assert choice.score == 1.0
    assert [s for _, s in choice.scores] == pytest.approx([2 / 3, 1.0])
    for point, score in choice.scores:
        events = apply_postprocessing(predictions, timestamps, ["a", "b"], point)
        assert event_onset_200ms_fms(events, references) == score


def test_select_postprocessing_ties_and_nan() -> None:
    predictions, timestamps, references = _validation_set()
    tie = select_postprocessing(
        predictions,
        timestamps,
        references,
        ["a", "b"],
        EVENT_METRICS["event_onset_200ms_fms"],
        grid={"median_filter_ms": [250], "min_duration": [300, 260]},
    )
    assert tie.best == PostProcessing(250.0, 300.0)  # equal scores: larger values win
    nothing: Callable[[Any, Any], float] = lambda p, r: math.nan  # noqa: E731
    nan_choice = select_postprocessing(
        predictions, timestamps, references, ["a", "b"], Metric("nan", nothing)
    )
    assert nan_choice.best == PostProcessing(250.0, 250.0)
    er = select_postprocessing(
        predictions, timestamps, references, ["a", "b"], "segment_1s_er", direction_aware=True
    )
    assert er.best == PostProcessing(250.0, 250.0)
    assert er.score == min(s for _, s in er.scores)
    heareval_er = select_postprocessing(predictions, timestamps, references, ["a", "b"], "segment_1s_er")
    assert heareval_er.score == max(s for _, s in heareval_er.scores) > er.score


def test_apply_postprocessing_keeps_every_file() -> None:
    ts = np.arange(50) * 10.0
    predictions = {"quiet": np.zeros((50, 1)), "loud": np.ones((50, 1))}
    out = apply_postprocessing(predictions, {"quiet": ts, "loud": ts}, ["x"], PostProcessing())
    assert out == {"quiet": [], "loud": [Event("x", 0, 490)]}
    with pytest.raises(ValueError, match="same files"):
        apply_postprocessing(predictions, {"quiet": ts}, ["x"])
    with pytest.raises(ValueError, match="repeated"):
        events_from_predictions(np.zeros((3, 1)), [0.0, 10.0, 10.0], ["x"])


def test_split_frames_cuts_concatenated_rows() -> None:
    probs = np.arange(10, dtype=np.float32).reshape(5, 2)
    ts = np.array([0.0, 10.0, 0.0, 10.0, 20.0])
    preds, stamps = split_frames(probs, ts, [0, 2, 5], ["x", "y"])
    np.testing.assert_array_equal(preds["y"], probs[2:])
    np.testing.assert_array_equal(stamps["x"], [0.0, 10.0])
    with pytest.raises(ValueError, match="offsets"):
        split_frames(probs, ts, [0, 2, 4], ["x", "y"])
    with pytest.raises(ValueError, match="repeated"):
        split_frames(probs, ts, [0, 2, 5], ["x", "x"])
