"""The scene and event kinds: targets, objectives, fold scores and records on tiny tasks, and
the embedding type compared in one module only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hearbench
from hearbench.api import HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.metrics import get_metric
from hearbench.predictions import EventFold, Predictions, SceneFold
from hearbench.probes.base import ProbeData
from hearbench.protocol import SplitData
from hearbench.task_kinds import EVENT, SCENE, task_kind
from hearbench.tasks.format import Task

PACKAGE = Path(hearbench.__file__).parent
COMPARISON = re.compile(
    r"""(==|!=)\s*["'](scene|event)["']|["'](scene|event)["']\s*(==|!=)"""
    r"""|embedding_type\s*(==|!=)|in\s*\(\s*["']scene["']\s*,\s*["']event["']"""
)


def test_the_embedding_type_is_compared_in_task_kinds_only() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "task_kinds"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if COMPARISON.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []
    assert COMPARISON.search('if task.embedding_type == "scene":')
    assert COMPARISON.search("    key = 'a' if kind != 'event' else 'b'")


def _task(kind: str, targets: dict[str, Any], labels: tuple[str, ...], **extra: Any) -> Task:
    return Task(
        path=Path("/nonexistent/toy"),
        name="toy",
        version="1",
        embedding_type=kind,
        prediction_type=extra.pop("prediction_type", "multiclass"),
        split_mode="trainvaltest",
        nfolds=None,
        sample_duration=None,
        evaluation=extra.pop("evaluation"),
        labels=labels,
        split_names=tuple(targets),
        targets=targets,
        sample_rates=(),
        **extra,
    )


def test_task_kind_maps_names_and_tasks() -> None:
    assert task_kind("scene") is SCENE and task_kind("event") is EVENT
    assert task_kind(_task("event", {"test": {}}, ("a",), evaluation=("segment_1s_er",))) is EVENT
    with pytest.raises(HearbenchError, match=r"^meta.json: embedding_type must be scene or event, got 'frames'$"):
        task_kind("frames", "meta.json")


SCENE_TARGETS = {"test": {"x.wav": ["a"], "y.wav": ["c"], "z.wav": ["b"]}}
SCENE_PROBS = np.array([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4], [0.1, 0.8, 0.1]], dtype=np.float32)


def _scene_part(task: Task) -> SplitData:
    emb = SplitEmbeddings(("x.wav", "y.wav", "z.wav"), np.eye(3, dtype=np.float32))
    Y, refs, offsets, stamps = SCENE.targets(task, [("test", emb)])
    return SplitData(ProbeData(emb.embeddings, Y, offsets), emb.files, stamps, refs)


def test_scene_targets_objective_scores_and_record() -> None:
    task = _task("scene", SCENE_TARGETS, ("a", "b", "c"), evaluation=("top1_acc", "mAP"))
    part = _scene_part(task)
    np.testing.assert_array_equal(part.data.Y, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert part.data.offsets is None and part.timestamps is None
    assert part.references == SCENE_TARGETS["test"]

    evaluate = SCENE.objective(task, part, get_metric("top1_acc"), "heareval")
    assert evaluate(SCENE_PROBS) == (pytest.approx(2 / 3), {})

    scores, record = SCENE.score_fold(task, 0, ["test"], part, SCENE_PROBS, {}, lambda s: {})
    assert scores["top1_acc"] == pytest.approx(2 / 3)
    assert set(scores) == {"top1_acc", "mAP"}
    assert isinstance(record, SceneFold) and record.files == ("x.wav", "y.wav", "z.wav")
    assert record.scores.dtype == np.float64
    np.testing.assert_array_equal(record.scores, SCENE_PROBS.astype(np.float64))

    np.testing.assert_array_equal(SCENE.item_scores(record, record.files, "top1_acc"), [1.0, 0.0, 1.0])
    other = SceneFold(0, ("test",), record.files, np.roll(record.scores, 1, axis=1), record.targets)
    a, b = SCENE.swap(record, other, record.files, np.array([True, False, False]))
    assert isinstance(a, SceneFold) and isinstance(b, SceneFold)
    np.testing.assert_array_equal(a.scores[0], other.scores[0])
    np.testing.assert_array_equal(a.scores[1:], record.scores[1:])
    chosen = SCENE.select(record, record.files, ["z.wav", "x.wav"])
    assert isinstance(chosen, SceneFold) and chosen.files == ("z.wav", "x.wav")
    np.testing.assert_array_equal(chosen.targets, [[0, 1, 0], [1, 0, 0]])

    stored = Predictions.from_dict(SCENE.predictions([record], task.labels, "multiclass").to_dict())
    assert stored.kind == "scene" and isinstance(stored.folds[0], SceneFold)
    np.testing.assert_array_equal(stored.folds[0].scores, record.scores)
    assert SCENE.heareval_row_labels(task, "test", SplitEmbeddings(("y.wav",), np.zeros((1, 2)))) == [["c"]]
    assert SCENE.heareval_extra_files("test", SplitEmbeddings(("y.wav",), np.zeros((1, 2)))) == {}


EVENT_TARGETS = {"test": {"c1.wav": [{"label": "dog", "start": 0.0, "end": 300.0}]}}
STAMPS = np.array([50.0, 150.0, 250.0, 350.0, 450.0], dtype=np.float32)
EVENT_PROBS = np.array([[0.9], [0.8], [0.7], [0.2], [0.1]], dtype=np.float32)


def _event_task() -> Task:
    grid = {"median_filter_ms": [0], "min_duration": [0, 500]}
    return _task(
        "event",
        EVENT_TARGETS,
        ("dog",),
        evaluation=("event_onset_200ms_fms",),
        prediction_type="multilabel",
        evaluation_params={"event_postprocessing_grid": grid},
    )


def test_event_targets_objective_scores_and_record(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def frame_metrics(frames: Any, references: Any, labels: Any) -> dict[str, float]:
        seen.append((frames, references, labels))
        return {"psds1": 0.25}

    monkeypatch.setattr("hearbench.task_kinds.event.frame_metric_scores", frame_metrics)
    task = _event_task()
    emb = SplitEmbeddings(("c1.wav",), np.zeros((5, 4), np.float32), STAMPS, np.array([0, 5]))
    Y, refs, offsets, stamps = EVENT.targets(task, [("test", emb)])
    np.testing.assert_array_equal(Y, [[1], [1], [1], [0], [0]])
    np.testing.assert_array_equal(offsets, [0, 5])
    assert stamps is not None and stamps.dtype == np.float32
    part = SplitData(ProbeData(emb.embeddings, Y, offsets), emb.files, stamps, refs)

    evaluate = EVENT.objective(task, part, get_metric("event_onset_200ms_fms"), "heareval")
    score, info = evaluate(EVENT_PROBS)
    assert score == 1.0
    assert info == {"postprocessing": {"median_filter_ms": 0.0, "min_duration": 0.0, "threshold": 0.5}}

    scores, record = EVENT.score_fold(
        task, 0, ["test"], part, EVENT_PROBS, info, lambda splits: {"c1.wav": 0.5}
    )
    assert scores == {"event_onset_200ms_fms": 1.0, "psds1": 0.25}
    assert seen[0][0] is not None and set(seen[0][0]) == {"c1.wav"} and seen[0][2] == ("dog",)
    assert isinstance(record, EventFold)
    assert record.events == {"c1.wav": [{"label": "dog", "start": 50.0, "end": 250.0}]}
    assert record.frames["c1.wav"].duration == 0.5
    assert dict(record.postprocessing) == info["postprocessing"]

    preds, references = EVENT.metric_args(record, record.files, np.array([0, 0]))
    assert sorted(preds) == ["c1.wav#0", "c1.wav#1"] and references["c1.wav#1"] == refs["c1.wav"]
    assert EVENT.item_scores(record, record.files, "event_onset_200ms_fms") is None
    empty = EventFold(0, ("test",), {"c1.wav": []}, record.references)
    a, b = EVENT.swap(record, empty, record.files, np.array([True]))
    assert isinstance(a, EventFold) and isinstance(b, EventFold)
    assert a.events == {"c1.wav": []} and b.events == record.events

    assert EVENT.heareval_row_labels(task, "test", emb) == [["dog"], ["dog"], ["dog"], [], []]
    files = EVENT.heareval_extra_files("test", emb)
    assert files["test.filename-timestamps.json"][:2] == [["test/c1.wav", 50.0], ["test/c1.wav", 150.0]]
    assert EVENT.head_input(STAMPS, np.array([0, 5]), lambda: 1.0, 10.0) == (100, 10.0)


def test_the_kinds_check_their_targets() -> None:
    assert SCENE.target_problem("x.wav", ["a", "q"], {"a"}) == "x.wav: label 'q' is not in the vocabulary"
    assert SCENE.target_problem("x.wav", ["a"], {"a"}) is None
    bad = [{"label": "dog", "start": 5, "end": 1}]
    assert EVENT.target_problem("c.wav", bad, {"dog"}) == "c.wav: event ends before it starts"
    assert SCENE.clean_targets({"x.wav": [1, "b"]}) == {"x.wav": ["1", "b"]}
    assert EVENT.clean_targets(EVENT_TARGETS["test"]) == EVENT_TARGETS["test"]

    two = _task("scene", {"test": {"x.wav": ["a", "b"]}}, ("a", "b"), evaluation=("top1_acc",))
    assert list(SCENE.label_problems(two)) == [
        "/nonexistent/toy/test.json: x.wav has 2 labels, multiclass needs 1"
    ]
    assert list(SCENE.event_problems(two, lambda s, f: 0.0)) == []
    task = _event_task()
    assert list(EVENT.label_problems(task)) == []
    assert list(EVENT.event_problems(task, lambda split, name: 200.0)) == [
        "/nonexistent/toy/test.json: c1.wav: event dog 0.0..300.0 ms lies outside the clip (0..200.0 ms)"
    ]
    assert list(EVENT.event_problems(task, lambda split, name: 300.0)) == []
