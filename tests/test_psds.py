"""PSDS1, PSDS2 and segment pAUROC from frame scores, against sed_scores_eval called directly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import import_sed_eval

from hearbench.frame_scores import ClipScores, frame_bounds
from hearbench.metrics import FRAME_METRICS, get_metric, metric_names
from hearbench.metrics.psds import psds1, psds2, segment_1s_pauroc
from hearbench.predictions import EventFold, Predictions

LABELS = ("alarm", "bark", "cough", "door")


@pytest.fixture(scope="module")
def sse() -> Any:
    import_sed_eval()  # dcase_util imported with its pkg_resources stand-in, if needed
    return pytest.importorskip("sed_scores_eval")


class _Writable(pd.DataFrame):
    """sed_scores_eval 0.0.4's kernels need writable arrays; pandas 3 hands out read-only views."""

    @property
    def _constructor(self) -> type:
        return _Writable

    def to_numpy(self, *args: Any, **kwargs: Any) -> Any:
        return np.array(super().to_numpy(*args, **kwargs))


def _random_clips(
    seed: int, n_files: int = 20, hop: float = 0.1, n_frames: int = 100, absent: tuple[str, ...] = ()
) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[float, float, str]]]]:
    """Random ground truth and noisy ``(T, C)`` scores raised where it is active (frames ``[i hop, (i + 1) hop)``)."""
    rng = np.random.default_rng(seed)
    present = [label for label in LABELS if label not in absent]
    scores, truth = {}, {}
    for i in range(n_files):
        name = f"clip{i:02d}.wav"
        scores[name] = 0.4 * rng.random((n_frames, len(LABELS)))
        events = []
        for label in present:  # disjoint events per label: 1 s slots, each used or not
            for slot in np.flatnonzero(rng.random(int(n_frames * hop) - 1) < 0.15):
                onset = round(float(slot) + float(rng.uniform(0.0, 0.3)), 2)
                events.append((onset, round(onset + float(rng.uniform(0.2, 0.65)), 2), label))
        truth[name] = events
        centres = (np.arange(n_frames) + 0.5) * hop
        for onset, offset, label in events:  # informative, still imperfect scores
            active = (centres >= onset) & (centres <= offset)
            scores[name][active, LABELS.index(label)] += rng.uniform(0.3, 1.0)
        scores[name] /= scores[name].max()
    return scores, truth


def _reference_frames(
    sse: Any, scores: dict[str, np.ndarray], hop: float, classes: tuple[str, ...]
) -> dict[str, Any]:
    from sed_scores_eval.base_modules.scores import create_score_dataframe

    keep = [LABELS.index(c) for c in classes]
    return {
        name: _Writable(create_score_dataframe(s[:, keep], np.arange(s.shape[0] + 1) * hop, list(classes)))
        for name, s in scores.items()
    }


def _ours(
    scores: dict[str, np.ndarray], truth: dict[str, list[tuple[float, float, str]]], hop: float
) -> tuple[dict[str, ClipScores], dict[str, list[dict[str, Any]]]]:
    """The same clips as hearbench stores them: frame centres in ms, HEAR event dicts in ms."""
    clips = {
        name: ClipScores((np.arange(s.shape[0]) + 0.5) * hop * 1000.0, s, s.shape[0] * hop)
        for name, s in scores.items()
    }
    refs = {
        name: [{"label": lab, "start": on * 1000.0, "end": off * 1000.0} for on, off, lab in events]
        for name, events in truth.items()
    }
    return clips, refs


def _reference_scores(
    sse: Any, frames: dict[str, Any], truth: dict[str, Any], durations: dict[str, float]
) -> dict[str, float]:
    common = {"scores": frames, "ground_truth": truth, "audio_durations": durations}
    return {
        "psds1": sse.intersection_based.psds(
            **common, dtc_threshold=0.7, gtc_threshold=0.7, cttc_threshold=None,
            alpha_ct=0.0, alpha_st=1.0, max_efpr=100.0,
        )[0],
        "psds2": sse.intersection_based.psds(
            **common, dtc_threshold=0.1, gtc_threshold=0.1, cttc_threshold=0.3,
            alpha_ct=0.5, alpha_st=1.0, max_efpr=100.0,
        )[0],
        "segment_1s_pauroc": sse.segment_based.auroc(**common, segment_length=1.0, max_fpr=0.1)[0]["mean"],
    }


def test_frame_metrics_are_registered_beside_the_hear_event_metrics() -> None:
    assert set(FRAME_METRICS) == {"psds1", "psds2", "segment_1s_pauroc"}
    assert all(m.kind == "frames" and m.higher_is_better for m in FRAME_METRICS.values())
    assert "psds1" not in metric_names("event")
    with pytest.raises(Exception, match="not of kind 'event'"):
        get_metric("psds1", "event")


def test_frame_bounds_split_between_centres() -> None:
    assert frame_bounds([0.0, 50.0, 100.0], 10.0).tolist() == [0.0, 0.025, 0.075, 0.125]
    assert frame_bounds([25.0, 75.0], 0.1).tolist() == [0.0, 0.05, 0.1]
    assert frame_bounds([400.0], 1.0).tolist() == [0.0, 1.0]
    assert frame_bounds([0.0, 500.0, 1000.0], 1.0).tolist() == [0.0, 0.25, 0.75, 1.25]
    assert frame_bounds([0.0, 1000.0, 2000.0], 1.0).tolist() == [0.0, 0.5, 1.5, 2.5]
    with pytest.raises(ValueError, match="without frames"):
        frame_bounds([], 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_scores_equal_sed_scores_eval(sse: Any, seed: int) -> None:
    hop = 0.1
    scores, truth = _random_clips(seed, hop=hop)
    durations = {name: s.shape[0] * hop for name, s in scores.items()}
    expected = _reference_scores(sse, _reference_frames(sse, scores, hop, LABELS), truth, durations)
    clips, refs = _ours(scores, truth, hop)
    got = {"psds1": psds1(clips, refs, LABELS), "psds2": psds2(clips, refs, LABELS),
           "segment_1s_pauroc": segment_1s_pauroc(clips, refs, LABELS)}
    for name, value in expected.items():
        assert 0.0 < value < 1.0, (name, value)
        assert got[name] == pytest.approx(value, abs=1e-6), name
        assert get_metric(name)(clips, refs, LABELS) == pytest.approx(value, abs=1e-6)


def test_a_class_without_reference_events_is_left_out(sse: Any) -> None:
    hop = 0.04
    scores, truth = _random_clips(7, n_files=5, hop=hop, n_frames=250, absent=("cough",))
    durations = {name: s.shape[0] * hop for name, s in scores.items()}
    present = tuple(label for label in LABELS if label != "cough")
    expected = _reference_scores(sse, _reference_frames(sse, scores, hop, present), truth, durations)
    clips, refs = _ours(scores, truth, hop)
    assert psds1(clips, refs, LABELS) == pytest.approx(expected["psds1"], abs=1e-6)
    assert psds2(clips, refs, LABELS) == pytest.approx(expected["psds2"], abs=1e-6)
    assert segment_1s_pauroc(clips, refs, LABELS) == pytest.approx(expected["segment_1s_pauroc"], abs=1e-6)


def test_overlapping_references_are_joined_per_label(sse: Any) -> None:
    hop = 0.1
    scores, truth = _random_clips(4, n_files=3, hop=hop)
    overlapping = {name: list(events) for name, events in truth.items()}
    overlapping["clip00.wav"] += [(2.0, 3.5, "alarm"), (3.0, 4.0, "alarm"), (4.0, 4.5, "alarm")]
    joined = {name: list(events) for name, events in truth.items()}
    joined["clip00.wav"] = [e for e in joined["clip00.wav"] if not (e[2] == "alarm" and e[1] > 2.0 and e[0] < 4.5)]
    covered = [e for e in truth["clip00.wav"] if e[2] == "alarm" and e[1] > 2.0 and e[0] < 4.5]
    start = min([2.0, *(e[0] for e in covered)])
    end = max([4.5, *(e[1] for e in covered)])
    joined["clip00.wav"].append((start, end, "alarm"))
    durations = {name: s.shape[0] * hop for name, s in scores.items()}
    expected = _reference_scores(sse, _reference_frames(sse, scores, hop, LABELS), joined, durations)
    clips, refs = _ours(scores, overlapping, hop)
    assert psds1(clips, refs, LABELS) == pytest.approx(expected["psds1"], abs=1e-6)
    assert psds2(clips, refs, LABELS) == pytest.approx(expected["psds2"], abs=1e-6)


def test_perfect_scores_give_full_psds1_and_no_events_give_nan(sse: Any) -> None:
    truth = {"a.wav": [{"label": "bark", "start": 1000.0, "end": 3000.0}], "b.wav": []}
    clips = {}
    for name in truth:
        s = np.zeros((100, len(LABELS)))
        for e in truth[name]:
            s[int(e["start"] / 100) : int(e["end"] / 100), LABELS.index(e["label"])] = 1.0
        clips[name] = ClipScores((np.arange(100) + 0.5) * 100.0, s, 10.0)
    assert psds1(clips, truth, LABELS) == pytest.approx(1.0)
    assert segment_1s_pauroc(clips, truth, LABELS) == pytest.approx(1.0)
    assert math.isnan(psds1(clips, {"a.wav": [], "b.wav": []}, LABELS))


def test_frame_scores_survive_the_predictions_file() -> None:
    scores, truth = _random_clips(3, n_files=2)
    clips, refs = _ours(scores, truth, 0.1)
    fold = EventFold(0, ("test",), {}, refs, {"threshold": 0.5}, clips)
    back = Predictions.from_dict(Predictions("event", (fold,), LABELS, "multilabel").to_dict())
    [parsed] = back.folds
    assert isinstance(parsed, EventFold) and set(parsed.frames) == set(clips)
    for name, clip in clips.items():
        assert np.array_equal(parsed.frames[name].scores, clip.scores)
        assert np.array_equal(parsed.frames[name].timestamps, clip.timestamps)
        assert parsed.frames[name].duration == clip.duration


STORED = Path(__file__).resolve().parents[1] / "results" / "event-metrics"


def test_stored_event_results_recompute_from_their_frame_scores(sse: Any) -> None:
    """The stored frame scores give the stored PSDS/pAUROC, through hearbench and through
    sed_scores_eval fed straight from the predictions JSON (frames split between centres)."""
    from hearbench.atomic import loads_json
    from hearbench.results import frame_metrics_per_fold, read_results, result_predictions
    from hearbench.results.records import predictions_path, result_path

    results = [r for r in read_results(STORED) if r.task["embedding_type"] == "event"]
    assert {str(r.probe["name"]) for r in results} == {"linear", "mlp"}
    for result in results:
        stored = result_predictions(STORED, result)
        assert stored is not None
        again = frame_metrics_per_fold(stored)
        path = predictions_path(result_path(STORED, result.embedder_id, str(result.task["name"]), result.run_name))
        raw = loads_json(path.read_text(encoding="utf-8"))
        labels = list(raw["labels"])
        for k, fold in enumerate(raw["folds"]):
            present = sorted({e["label"] for evs in fold["references"].values() for e in evs}, key=labels.index)
            frames, truth, durations = {}, {}, {}
            for name, clip in fold["frames"].items():
                c = np.asarray(clip["timestamps"]) / 1000.0
                hop = float(np.mean(np.diff(c)))
                edges = np.concatenate([[max(0.0, c[0] - hop / 2)], (c[:-1] + c[1:]) / 2, [min(clip["duration"], c[-1] + hop / 2)]])
                s = np.asarray(clip["scores"])[:, [labels.index(x) for x in present]]
                frames[name] = _Writable(pd.DataFrame(
                    np.column_stack([edges[:-1], edges[1:], s]), columns=["onset", "offset", *present]
                ))
                spans: dict[str, list[list[float]]] = {}
                for e in sorted(fold["references"].get(name, []), key=lambda e: e["start"]):
                    runs = spans.setdefault(e["label"], [])
                    if runs and e["start"] / 1000.0 <= runs[-1][1]:
                        runs[-1][1] = max(runs[-1][1], e["end"] / 1000.0)
                    else:
                        runs.append([e["start"] / 1000.0, e["end"] / 1000.0])
                truth[name] = [(on, off, lab) for lab, runs in spans.items() for on, off in runs]
                durations[name] = clip["duration"]
            expected = _reference_scores(sse, frames, truth, durations)
            for metric, value in expected.items():
                assert result.scores[metric].folds[k] == pytest.approx(value, abs=1e-6), (result.probe, metric)
                assert again[metric][k] == pytest.approx(value, abs=1e-6), (result.probe, metric)
