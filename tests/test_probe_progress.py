"""Probe fits report each validation check and each finished grid point to a progress callback."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hearbench.cache import SplitEmbeddings
from hearbench.metrics import get_metric
from hearbench.probes.base import Objective, Probe, ProbeData
from hearbench.probes.linear import LinearProbe
from hearbench.probes.mlp import MLPProbe
from hearbench.probes.progress import BarProgress
from hearbench.probes.stopping import logged_score
from hearbench.protocol import search_and_train
from hearbench.tasks.format import Task

SMALL = {"max_epochs": 12, "hidden_dim": 32, "patience": 10, "batch_size": 16, "points": 3}


class Recorder:
    """A FitProgress that records every call."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, float]] = []

    def check(self, epoch: int, score: float) -> None:
        self.events.append(("check", epoch, score))

    def point_done(self, index: int, score: float) -> None:
        self.events.append(("done", index, score))


def _data(n: int, seed: int) -> ProbeData:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    centres = np.random.default_rng(0).normal(size=(4, 12))
    X = (centres[labels] + 1.5 * rng.normal(size=(n, 12))).astype(np.float32)
    Y = np.zeros((n, 4), dtype=np.float32)
    Y[np.arange(n), labels] = 1
    return ProbeData(X, Y)


def _objective(valid: ProbeData, seen: list[float]) -> Objective:
    metric = get_metric("top1_acc")

    def evaluate(probs: np.ndarray) -> tuple[float, Mapping[str, Any]]:
        seen.append(float(metric(probs, valid.Y)))
        return seen[-1], {}

    return Objective(evaluate, metric.higher_is_better, metric.name)


def _fit(fixed: Mapping[str, Any], **schedule: Any) -> tuple[list[MLPProbe], Recorder, list[float]]:
    train, valid = _data(50, 1), _data(24, 2)
    seen: list[float] = []
    recorder = Recorder()
    points = MLPProbe.param_grid(**{**SMALL, **schedule})
    fixed = {"prediction_type": "multiclass", "seed": 7, **fixed}
    probes = MLPProbe.fit_grid(points, train, valid, _objective(valid, seen), fixed, recorder)
    return probes, recorder, seen


def test_plain_grid_reports_every_check_then_each_point_in_order() -> None:
    probes, recorder, seen = _fit({})
    expected: list[tuple[str, int, float]] = []
    scores = iter(seen)
    for index, probe in enumerate(probes):
        checks = [("check", epoch, next(scores)) for epoch in (2, 5, 8, 11)]
        expected += [*checks, ("done", index, probe.valid_score_)]
        # the selected score is the first best of the reported checks, as Lightning logs it
        best = max(range(4), key=lambda i: (logged_score(checks[i][2]), -i))
        assert probe.valid_score_ == logged_score(checks[best][2])
        assert probe.best_epoch_ == checks[best][1]
    assert next(scores, None) is None
    assert recorder.events == expected


def test_plain_grid_checks_end_where_early_stopping_ends() -> None:
    probes, recorder, _ = _fit({}, patience=1, max_epochs=60, check_val_every_n_epoch=4)
    per_point: list[list[int]] = [[]]
    for kind, value, _score in recorder.events:
        if kind == "check":
            per_point[-1].append(value)
        else:
            per_point.append([])
    per_point.pop()
    assert len(per_point) == len(probes) == 3
    for epochs, probe in zip(per_point, probes, strict=True):
        assert epochs == list(range(3, epochs[-1] + 1, 4))
        assert epochs[-1] < 59  # patience 1 stopped every point early
        assert probe.best_epoch_ in epochs


def test_stacked_grid_reports_each_check_and_each_point_once() -> None:
    probes, recorder, seen = _fit({"grid": "stacked", "seeding": "point"}, patience=1, max_epochs=60)
    done = [(value, score) for kind, value, score in recorder.events if kind == "done"]
    assert sorted(index for index, _ in done) == [0, 1, 2]
    assert {index: score for index, score in done} == {i: p.valid_score_ for i, p in enumerate(probes)}
    checks = [(epoch, score) for kind, epoch, score in recorder.events if kind == "check"]
    # one run of checks per architecture (stack), each every 3 epochs from epoch 2
    runs: list[list[int]] = []
    for epoch, _ in checks:
        if epoch == 2:
            runs.append([])
        runs[-1].append(epoch)
    assert len(runs) == len({p.hidden_layers for p in probes})
    for run in runs:
        assert run == list(range(2, run[-1] + 1, 3))
    assert all(score in seen for _, score in checks)
    assert max(score for _, score in checks) == max(seen)


def test_default_grid_fit_reports_each_point() -> None:
    train, valid = _data(50, 1), _data(24, 2)
    seen: list[float] = []
    recorder = Recorder()
    points = LinearProbe.param_grid(l2=[1e-3, 1e-1])
    probes = LinearProbe.fit_grid(points, train, valid, _objective(valid, seen), {}, recorder)
    assert recorder.events == [
        ("check", 0, seen[0]),
        ("done", 0, probes[0].valid_score_),
        ("check", 0, seen[1]),
        ("done", 1, probes[1].valid_score_),
    ]


class FakeBar:
    def __init__(self) -> None:
        self.n = 0
        self.postfix = ""

    def update(self, steps: int) -> None:
        self.n += steps

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def __enter__(self) -> FakeBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass


def test_bar_advances_per_point_and_shows_epoch_and_running_best() -> None:
    bar = FakeBar()
    progress = BarProgress(bar, Objective(lambda p: (0.0, {}), True, "top1_acc"))
    progress.check(2, 0.5)
    progress.check(5, 0.75)
    assert (bar.n, bar.postfix) == (0, "epoch 6 best valid top1_acc 0.7500")
    progress.check(8, 0.25)
    assert bar.postfix == "epoch 9 best valid top1_acc 0.7500"
    progress.point_done(0, 0.75)
    assert bar.n == 1
    progress.check(2, 0.125)
    assert bar.postfix == "epoch 3 best valid top1_acc 0.1250"


def test_bar_of_a_lower_is_better_objective() -> None:
    bar = FakeBar()
    progress = BarProgress(bar, Objective(lambda p: (0.0, {}), False, "er"))
    progress.check(0, float("nan"))
    assert bar.postfix == "epoch 1 best valid er n/a"
    progress.check(1, 0.5)
    progress.check(2, 0.75)
    assert bar.postfix == "epoch 3 best valid er 0.5000"


def _kfold_task() -> tuple[Task, dict[str, SplitEmbeddings]]:
    folds = [f"fold{i:02d}" for i in range(3)]
    labels = ("a", "b", "c", "d")
    targets: dict[str, dict[str, list[str]]] = {}
    embeddings = {}
    for k, fold in enumerate(folds):
        data = _data(30, 10 + k)
        files = tuple(f"{fold}_{i}.wav" for i in range(30))
        targets[fold] = {f: [labels[int(row.argmax())]] for f, row in zip(files, data.Y, strict=True)}
        embeddings[fold] = SplitEmbeddings(files, data.X)
    task = Task(
        path=Path("in-memory"),
        name="toy",
        version="1",
        embedding_type="scene",
        prediction_type="multiclass",
        split_mode="new_split_kfold",
        nfolds=3,
        sample_duration=1.0,
        evaluation=("top1_acc",),
        labels=labels,
        split_names=tuple(folds),
        targets=targets,
        sample_rates=(16000,),
    )
    return task, embeddings


@pytest.mark.parametrize("probe_cls", [MLPProbe, LinearProbe])
def test_search_and_train_moves_the_bar_once_per_fit(
    probe_cls: type[Probe], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tqdm.auto

    bars: list[Any] = []

    class Bar(FakeBar):
        def __init__(self, *args: Any, total: int, **kwargs: Any) -> None:
            super().__init__()
            self.total = total
            self.shown: list[str] = []
            bars.append(self)

        def update(self, steps: int) -> None:
            super().update(steps)
            self.shown.append(f"{steps}: {self.postfix}")

        def close(self) -> None:
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    task, embeddings = _kfold_task()
    schedule = {"max_epochs": 6, "hidden_dim": 16, "batch_size": 16, "points": 2} if probe_cls is MLPProbe else {}
    grid = probe_cls.param_grid(**schedule)
    search_and_train(probe_cls, task, embeddings, grid, {"prediction_type": "multiclass"}, progress=True)
    (bar,) = bars
    assert bar.total == len(grid) + 2
    assert bar.n == bar.total
    # one step per fit, each after its last validation check was shown
    last_epoch = 6 if probe_cls is MLPProbe else 1
    assert [line.split(" best")[0] for line in bar.shown] == [f"1: epoch {last_epoch}"] * bar.total
