"""Sequence probe: grid, masking, determinism, temporal context, and the HEAR event pipeline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import import_sed_eval, sed_eval_score

from hearbench import create_embedder
from hearbench.api import HearbenchError
from hearbench.cache import EmbeddingCache
from hearbench.probes import get_probe
from hearbench.probes.base import Objective, ProbeData
from hearbench.probes.linear import LinearProbe
from hearbench.probes.sequence import SequenceProbe
from hearbench.results import read_predictions, result_path
from hearbench.runner import embedder_id, evaluate
from hearbench.tasks.format import Task, load_task

# --- a toy task only context solves ---------------------------------------------------------


def delay_task(n_clips: int, seed: int, n_features: int = 4) -> ProbeData:
    """Clips of 20-60 frames; a frame's label is the previous frame's binary feature.

    Each frame's own features are independent of its label, so a frame-wise probe is at
    chance while one frame of context gives the answer.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 61, size=n_clips)
    xs, ys = [], []
    for length in lengths:
        bit = rng.integers(0, 2, size=length).astype(np.float32)
        x = rng.normal(0.0, 1.0, size=(length, n_features)).astype(np.float32)
        x[:, 0] = 2.0 * bit - 1.0
        y = np.zeros((length, 2), dtype=np.float32)
        y[1:, 0] = bit[:-1]
        y[1:, 1] = 1.0 - bit[:-1]
        xs.append(x)
        ys.append(y)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return ProbeData(np.concatenate(xs), np.concatenate(ys), offsets)


def accuracy(probs: np.ndarray, data: ProbeData) -> float:
    """Frame accuracy of the first label at threshold 0.5."""
    return float(((probs[:, 0] > 0.5) == (data.Y[:, 0] > 0.5)).mean())


def accuracy_objective(valid: ProbeData) -> Objective:
    return Objective(lambda probs: (accuracy(probs, valid), {}), True, "accuracy")


def clip(data: ProbeData, i: int) -> ProbeData:
    assert data.offsets is not None
    start, stop = int(data.offsets[i]), int(data.offsets[i + 1])
    return ProbeData(data.X[start:stop], data.Y[start:stop], np.array([0, stop - start]))


@pytest.fixture(scope="module")
def toy() -> tuple[ProbeData, ProbeData, ProbeData]:
    return delay_task(48, 0), delay_task(16, 1), delay_task(16, 2)


@pytest.fixture(scope="module")
def fitted(toy: tuple[ProbeData, ProbeData, ProbeData]) -> SequenceProbe:
    train, valid, _ = toy
    probe = SequenceProbe(
        prediction_type="multilabel", d_model=32, lr=1e-2, batch_size=8, max_epochs=40, check_every=2
    )
    return probe.fit(train, valid, accuracy_objective(valid))


# --- grid -------------------------------------------------------------------------------------


def test_registered_and_grid() -> None:
    assert get_probe("sequence") is SequenceProbe
    grid = SequenceProbe.param_grid()
    assert [(p["d_model"], p["lr"]) for p in grid] == [(128, 1e-3), (128, 3e-4), (256, 1e-3), (256, 3e-4)]
    assert all(SequenceProbe(**p).get_params()["d_model"] == p["d_model"] for p in grid)
    small = SequenceProbe.param_grid(max_epochs=30, points=1)
    assert small == [{**grid[0], "max_epochs": 30}]
    assert [p["d_model"] for p in SequenceProbe.param_grid(d_model=[64], lr=1e-3)] == [64]
    with pytest.raises(HearbenchError, match="hiden"):
        SequenceProbe.param_grid(hiden=[64])
    with pytest.raises(HearbenchError, match="points"):
        SequenceProbe.param_grid(points=0)


def test_invalid_settings_and_data(toy: tuple[ProbeData, ProbeData, ProbeData]) -> None:
    train, valid, _ = toy
    with pytest.raises(HearbenchError, match="d_model"):
        SequenceProbe(d_model=33)
    with pytest.raises(HearbenchError, match="check_every"):
        SequenceProbe(check_every=0)
    with pytest.raises(HearbenchError, match="call fit"):
        SequenceProbe().predict_proba(valid)
    with pytest.raises(HearbenchError, match="offsets"):
        SequenceProbe().fit(ProbeData(train.X, train.Y), valid, accuracy_objective(valid))
    assert train.offsets is not None
    bad = ProbeData(train.X, train.Y, train.offsets[:-1])
    with pytest.raises(HearbenchError, match="offsets"):
        SequenceProbe().fit(bad, valid, accuracy_objective(valid))
    with pytest.raises(HearbenchError, match="max_epochs"):
        SequenceProbe(d_model=8, max_epochs=2, check_every=3).fit(valid, valid, accuracy_objective(valid))


# --- behaviour ----------------------------------------------------------------------------------


@pytest.mark.parametrize("prediction_type", ["multilabel", "multiclass"])
def test_shapes_and_probabilities(toy: tuple[ProbeData, ProbeData, ProbeData], prediction_type: str) -> None:
    train, valid, test = toy
    probe = SequenceProbe(prediction_type=prediction_type, d_model=8, max_epochs=1, check_every=1)
    probs = probe.fit(train, valid, accuracy_objective(valid)).predict_proba(test)
    assert probs.shape == test.Y.shape and probs.dtype == np.float32
    assert np.all((probs >= 0) & (probs <= 1))
    if prediction_type == "multiclass":
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert test.offsets is not None
    empty_clips = ProbeData(test.X, test.Y, np.concatenate([[0, 0], test.offsets[1:], test.offsets[-1:]]))
    np.testing.assert_array_equal(probe.predict_proba(empty_clips), probs)


def test_padding_never_changes_a_clips_predictions(
    fitted: SequenceProbe, toy: tuple[ProbeData, ProbeData, ProbeData]
) -> None:
    test = toy[2]
    assert test.offsets is not None
    together = fitted.predict_proba(test)
    for i in range(len(test.offsets) - 1):
        alone = fitted.predict_proba(clip(test, i))
        rows = slice(int(test.offsets[i]), int(test.offsets[i + 1]))
        np.testing.assert_allclose(together[rows], alone, rtol=0, atol=1e-6)


def test_learns_context_a_frame_probe_cannot(
    fitted: SequenceProbe, toy: tuple[ProbeData, ProbeData, ProbeData]
) -> None:
    train, valid, test = toy
    assert accuracy(fitted.predict_proba(test), test) > 0.95
    assert fitted.best_epoch_ >= 1 and fitted.valid_score_ > 0.95
    frame = LinearProbe(prediction_type="multilabel").fit(train, valid, accuracy_objective(valid))
    assert accuracy(frame.predict_proba(test), test) < 0.65


def test_seeded_fits_are_deterministic(toy: tuple[ProbeData, ProbeData, ProbeData]) -> None:
    _, valid, test = toy

    def run(seed: int) -> np.ndarray:
        probe = SequenceProbe(prediction_type="multilabel", d_model=16, max_epochs=4, check_every=2, seed=seed)
        return probe.fit(valid, valid, accuracy_objective(valid)).predict_proba(test)

    first = run(7)
    np.testing.assert_array_equal(first, run(7))
    assert not np.array_equal(first, run(8))


@pytest.mark.parametrize("score", [0.5, float("nan")])
def test_early_stopping_needs_strict_improvement(
    toy: tuple[ProbeData, ProbeData, ProbeData], score: float
) -> None:
    valid = toy[1]
    calls: list[int] = []

    def flat(probs: np.ndarray) -> tuple[float, dict[str, Any]]:
        calls.append(len(calls))
        return score, {"check": len(calls)}

    probe = SequenceProbe(d_model=8, max_epochs=100, check_every=2, patience=3)
    probe.fit(valid, valid, Objective(flat, True, "flat"))
    assert len(calls) == 4
    assert probe.best_epoch_ == 1 and probe.valid_info_ == {"check": 1}
    assert probe.valid_score_ == (-math.inf if math.isnan(score) else score)


# --- the HEAR event pipeline on real audio --------------------------------------------------

PIPELINE_OPTIONS: dict[str, dict[str, Any]] = {
    "linear": {},
    "mlp": {"max_epochs": 30, "points": 1},
    "sequence": {"max_epochs": 30, "points": 1},
}


@pytest.fixture(scope="module")
def sed_eval() -> Any:
    """sed_eval (see :func:`helpers.import_sed_eval`)."""
    return import_sed_eval()


@pytest.fixture(scope="session")
def event_task(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Task, EmbeddingCache]:
    """The real event set as a HEAR task, with an embedding cache shared by every probe."""
    from hearbench.tasks.builders import BUILDERS

    root = tmp_path_factory.mktemp("sequence-events")
    report = BUILDERS["events-csv"].build(data_dir / "events", root / "events", progress=False)
    return load_task(report.path), EmbeddingCache(root / "cache")


@pytest.mark.slow
@pytest.mark.parametrize("probe", list(PIPELINE_OPTIONS))
def test_event_pipeline_on_real_audio(
    event_task: tuple[Task, EmbeddingCache], sed_eval: Any, tmp_path: Path, probe: str
) -> None:
    task, cache = event_task
    assert task.embedding_type == "event" and task.prediction_type == "multilabel"
    embedder = create_embedder("baseline")
    result = evaluate(
        embedder,
        task,
        probe,
        cache=cache,
        out_dir=tmp_path,
        probe_options=PIPELINE_OPTIONS[probe],
        progress=False,
    )
    assert result.primary_metric == "event_onset_200ms_fms"
    onset, error_rate = result.scores["event_onset_200ms_fms"].mean, result.scores["segment_1s_er"].mean
    assert onset > 0.2 and error_rate < 1.0, result.scores
    stored = read_predictions(result_path(tmp_path, embedder_id(embedder), task.name, result.run_name))
    [fold] = stored["folds"]
    assert set(fold["postprocessing"]) == {"median_filter_ms", "min_duration", "threshold"}
    assert set(fold["references"]) == set(task.targets["test"])
    for metric in task.evaluation:
        recomputed = sed_eval_score(sed_eval, metric, fold["events"], fold["references"])
        assert recomputed == pytest.approx(result.scores[metric].folds[0], abs=1e-9), metric
