"""The fold protocol: which splits train, validate and test in each split (heareval)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from hearbench.api import HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.probes.base import Objective
from hearbench.probes.mlp import MLPProbe
from hearbench.probes.mlp_net import hear_grid_points, parameter_grid
from hearbench.probes.stopping import EarlyStopping
from hearbench.probes.torch_utils import seed_everything
from hearbench.protocol import assemble, heareval_file_order, make_objective, search_and_train
from hearbench.tasks.format import Task, TaskItem, load_task, write_task


def _task(tmp: Path, split_mode: str, folds: int | None = None) -> Path:
    meta = {
        "task_name": "toy",
        "version": "1",
        "embedding_type": "scene",
        "prediction_type": "multiclass",
        "split_mode": split_mode,
        "sample_duration": 0.1,
        "evaluation": ["top1_acc"],
    }
    names = ["train", "valid", "test"]
    if folds:
        meta["nfolds"] = folds
        names = [f"fold{i:02d}" for i in range(folds)]
    items = [
        TaskItem(s, f"{s}_{i}.wav", np.zeros(160, np.float32), 16000, ["a" if i else "b"])
        for s in names
        for i in range(2)
    ]
    return write_task(tmp / split_mode, meta, ["a", "b"], items, [16000])


def test_kfold_splits_match_heareval(tmp_path: Path) -> None:
    task = load_task(_task(tmp_path, "new_split_kfold", 5))
    splits = task.fold_splits()
    assert [(s.test, s.valid, s.train) for s in splits] == [
        (("fold00",), ("fold01",), ("fold02", "fold03", "fold04")),
        (("fold01",), ("fold02",), ("fold00", "fold03", "fold04")),
        (("fold02",), ("fold03",), ("fold00", "fold01", "fold04")),
        (("fold03",), ("fold04",), ("fold00", "fold01", "fold02")),
        (("fold04",), ("fold00",), ("fold01", "fold02", "fold03")),
    ]
    for s in splits:
        assert not set(s.train) & (set(s.valid) | set(s.test))


def test_trainvaltest_single_split(tmp_path: Path) -> None:
    task = load_task(_task(tmp_path, "trainvaltest"))
    [split] = task.fold_splits()
    assert (split.train, split.valid, split.test) == (("train",), ("valid",), ("test",))


def test_kfold_needs_three_folds(tmp_path: Path) -> None:
    meta = {
        "task_name": "toy",
        "version": "1",
        "embedding_type": "scene",
        "prediction_type": "multiclass",
        "split_mode": "presplit_kfold",
        "nfolds": 2,
        "evaluation": ["top1_acc"],
    }
    with pytest.raises(HearbenchError, match="at least 3 folds"):
        write_task(tmp_path / "t", meta, ["a"], [], [16000])


HEAREVAL_POINTS = [
    (1, "xavier_normal", 1e-4),
    (2, "xavier_uniform", 1e-3),
    (1, "xavier_normal", 1e-3),
    (1, "xavier_normal", 3.2e-4),
    (2, "xavier_normal", 3.2e-4),
    (2, "xavier_uniform", 3.2e-4),
    (2, "xavier_normal", 3.2e-3),
    (2, "xavier_uniform", 3.2e-3),
]
"""heareval 2021.1.3's 8 grid points in search order (``ParameterGrid`` of its ``PARAM_GRID``
after ``seed_everything(42)`` and ``random.shuffle``; tests/test_parity.py checks this list
against heareval itself when it is installed)."""


def test_grid_is_heareval_enumeration_and_sampling() -> None:
    full = parameter_grid({"lr": [1, 2, 3, 4], "hidden_layers": [1, 2], "initialization": ["u", "n"]})
    assert len(full) == 16
    assert full[0] == {"hidden_layers": 1, "initialization": "u", "lr": 1}
    assert full[1] == {"hidden_layers": 1, "initialization": "u", "lr": 2}
    assert full[4] == {"hidden_layers": 1, "initialization": "n", "lr": 1}
    points = hear_grid_points()
    assert [(p["hidden_layers"], p["initialization"], p["lr"]) for p in points] == HEAREVAL_POINTS
    assert all(
        p["batch_size"] == 1024 and p["patience"] == 20 and p["max_epochs"] == 500 for p in points
    )


def _kfold_embedded(tmp: Path, folds: int = 4, per_fold: int = 12) -> tuple[Task, dict[str, SplitEmbeddings]]:
    task = load_task(_task_sized(tmp, folds, per_fold))
    rng = np.random.default_rng(0)
    embeddings = {}
    for split in task.split_names:
        files = tuple(sorted(task.targets[split]))
        embeddings[split] = SplitEmbeddings(files, rng.normal(size=(len(files), 6)).astype(np.float32))
    return task, embeddings


def _task_sized(tmp: Path, folds: int, per_fold: int) -> Path:
    meta = {
        "task_name": "toy",
        "version": "1",
        "embedding_type": "scene",
        "prediction_type": "multiclass",
        "split_mode": "new_split_kfold",
        "nfolds": folds,
        "sample_duration": 0.01,
        "evaluation": ["top1_acc"],
        "splits": [f"fold{i:02d}" for i in reversed(range(folds))],
    }
    items = [
        TaskItem(f"fold{k:02d}", f"f{k}_{i:02d}.wav", np.zeros(160, np.float32), 16000, ["ab"[i % 2]])
        for k in range(folds)
        for i in range(per_fold)
    ]
    return write_task(tmp / "kfold", meta, ["a", "b"], items, [16000])


def test_rows_follow_heareval_embedding_order(tmp_path: Path) -> None:
    task, embeddings = _kfold_embedded(tmp_path)
    order = heareval_file_order(task)
    # heareval's embedding runner: one Random(0) shuffles each split's <split>.json keys, the
    # splits taken in the metadata's listed order (here fold03 first)
    prng = random.Random(0)
    for split in ["fold03", "fold02", "fold01", "fold00"]:
        files = list(task.targets[split])
        prng.shuffle(files)
        assert order[split] == tuple(files)
    assert order["fold00"] != tuple(sorted(task.targets["fold00"]))
    # training folds concatenated in sorted order, each in its heareval row order, unshuffled
    split = task.fold_splits()[0]
    assert split.train == ("fold02", "fold03")
    train = assemble(task, split.train, embeddings)
    assert train.files == order["fold02"] + order["fold03"]
    position = {f: i for i, f in enumerate(embeddings["fold02"].files)}
    np.testing.assert_array_equal(
        train.data.X[:12], embeddings["fold02"].embeddings[[position[f] for f in order["fold02"]]]
    )


def test_training_batches_are_never_shuffled_by_default() -> None:
    assert MLPProbe().shuffle_train is False
    assert MLPProbe().grid == "plain" and MLPProbe().seeding == "task"


def test_grid_points_share_one_random_stream_seeded_once(tmp_path: Path) -> None:
    task, embeddings = _kfold_embedded(tmp_path)
    small = {"max_epochs": 6, "hidden_dim": 8, "patience": 2, "batch_size": 5}
    grid = MLPProbe.param_grid(**small, points=2)
    fixed = {"prediction_type": "multiclass", "seed": 42}
    _, outcomes = search_and_train(MLPProbe, task, embeddings, grid, fixed)
    split = task.fold_splits()[0]
    parts = [assemble(task, s, embeddings) for s in (split.train, split.valid)]
    objective = make_objective(task, parts[1])
    # heareval: seed_everything(42) once, then every point continues the stream
    seed_everything(42)
    first = MLPProbe(**fixed, **grid[0]).fit(parts[0].data, parts[1].data, objective)
    second = MLPProbe(**fixed, **grid[1]).fit(parts[0].data, parts[1].data, objective)
    alone = MLPProbe(**fixed, **grid[1], seeding="point").fit(parts[0].data, parts[1].data, objective)
    test = assemble(task, split.test, embeddings).data
    probs = {id(p): p.predict_proba(test) for p in (first, second, alone)}
    chosen = outcomes[0].probe
    assert chosen.get_params() in (first.get_params(), second.get_params())
    twin = first if chosen.get_params() == first.get_params() else second
    np.testing.assert_array_equal(outcomes[0].test_probs, probs[id(twin)])
    assert not np.array_equal(probs[id(second)], probs[id(alone)])


def test_early_stopping_compares_float32_scores_strictly_and_stops_on_nan() -> None:
    objective = Objective(lambda p: (0.0, {}), True, "s")
    stop: EarlyStopping[int] = EarlyStopping(objective, patience=2)
    assert not stop.check(0.5, {}, 2, lambda: 1)
    # 0.5 + 1e-9 is 0.5 in float32: no improvement
    assert not stop.check(0.5 + 1e-9, {}, 5, lambda: 2)
    assert stop.best_state == 1 and stop.best_epoch == 2
    assert not stop.check(0.75, {}, 8, lambda: 3)
    assert stop.best_state == 3 and stop.waiting == 0
    assert not stop.check(0.6, {}, 11, lambda: 4)
    assert stop.check(0.6, {}, 14, lambda: 5)
    nan: EarlyStopping[int] = EarlyStopping(objective, patience=5)
    assert not nan.check(0.1, {}, 2, lambda: 1)
    assert nan.check(math.nan, {}, 5, lambda: 2) and nan.best_state == 1
    lenient: EarlyStopping[int] = EarlyStopping(objective, patience=5, stop_on_non_finite=False)
    assert not lenient.check(math.nan, {}, 2, lambda: 1)
    assert lenient.best_state == 1 and lenient.best_score == -math.inf
    assert not lenient.check(0.2, {}, 5, lambda: 2) and lenient.best_state == 2
    lower = EarlyStopping[int](Objective(lambda p: (0.0, {}), False, "er"), patience=1)
    lower.check(0.3, {}, 2, lambda: 1)
    lower.check(0.2, {}, 5, lambda: 2)
    assert lower.best_state == 2 and lower.best_score == pytest.approx(0.2)


def test_postprocessing_selection_option_is_named(tmp_path: Path) -> None:
    task, _ = _kfold_embedded(tmp_path)
    with pytest.raises(HearbenchError, match="postprocessing_selection must be one of heareval, direction_aware"):
        make_objective(task, None, "lowest")  # type: ignore[arg-type]


def test_the_probe_bar_closes_when_a_fit_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tqdm.auto

    closed: list[bool] = []

    class Bar(tqdm.auto.tqdm):  # type: ignore[misc]
        def close(self) -> None:
            closed.append(True)
            super().close()

    class Failing(MLPProbe):
        def fit(self, *args: object, **kwargs: object) -> MLPProbe:
            raise RuntimeError("fit failed")

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    task = load_task(_task(tmp_path, "trainvaltest"))
    embeddings = {
        s: SplitEmbeddings(tuple(task.files(s)), np.zeros((len(task.files(s)), 2), np.float32))
        for s in task.split_names
    }
    with pytest.raises(RuntimeError, match="fit failed"):
        search_and_train(Failing, task, embeddings, [{}], {"prediction_type": "multiclass"})
    assert closed and closed[0]
