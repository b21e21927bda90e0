"""The stacked MLP grid (``grid=stacked``) equals the plain loop with each point seeded on its own."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hearbench.api import HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.metrics import get_metric
from hearbench.probes.base import Objective, ProbeData
from hearbench.probes.mlp import MLPProbe
from hearbench.probes.mlp_arithmetic import FastArithmetic
from hearbench.probes.stopping import logged_score
from hearbench.protocol import search_and_train
from hearbench.tasks.format import Task

SMALL = {"max_epochs": 30, "hidden_dim": 32, "patience": 3, "batch_size": 16}


def _data(n: int, prediction_type: str, seed: int, classes: int = 4) -> ProbeData:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = np.random.default_rng(0).normal(size=(classes, 12))
    X = (centres[labels] + 1.5 * rng.normal(size=(n, 12))).astype(np.float32)
    Y = np.zeros((n, classes), dtype=np.float32)
    Y[np.arange(n), labels] = 1
    if prediction_type == "multilabel":
        Y[np.arange(n), (labels + 1) % classes] = rng.integers(0, 2, n)
    return ProbeData(X, Y)


def _objective(valid: ProbeData, prediction_type: str) -> Objective:
    metric = get_metric("top1_acc" if prediction_type == "multiclass" else "mAP")

    def evaluate(probs: np.ndarray) -> tuple[float, Mapping[str, Any]]:
        return float(metric(probs, valid.Y)), {}

    return Objective(evaluate, metric.higher_is_better, metric.name)


def _fit_both(
    prediction_type: str, overrides: Mapping[str, Any], n_train: int = 49
) -> tuple[list[MLPProbe], list[MLPProbe], ProbeData]:
    train, valid = _data(n_train, prediction_type, 1), _data(24, prediction_type, 2)
    objective = _objective(valid, prediction_type)
    points = MLPProbe.param_grid(**{**SMALL, **overrides})
    fixed = {"prediction_type": prediction_type, "seed": 7, "shuffle_train": True, "seeding": "point"}
    together = MLPProbe.fit_grid(points, train, valid, objective, {**fixed, "grid": "stacked"})
    alone = MLPProbe.fit_grid(points, train, valid, objective, fixed)
    return together, alone, valid


def _assert_same(together: list[MLPProbe], alone: list[MLPProbe], data: ProbeData) -> None:
    assert len(together) == len(alone)
    for a, b in zip(together, alone, strict=True):
        assert a.get_params() == {**b.get_params(), "grid": "stacked"}
        assert a.best_epoch_ == b.best_epoch_
        assert a.valid_score_ == pytest.approx(b.valid_score_, abs=1e-6)
        np.testing.assert_allclose(a.predict_proba(data), b.predict_proba(data), atol=1e-5)


@pytest.mark.parametrize("prediction_type", ["multiclass", "multilabel"])
def test_grid_together_equals_each_point_alone(prediction_type: str) -> None:
    together, alone, valid = _fit_both(prediction_type, {})
    assert {p.hidden_layers for p in together} == {1, 2}
    _assert_same(together, alone, valid)


def test_one_row_batches_are_skipped_and_early_stopping_matches() -> None:
    # 49 rows in batches of 16 leave a last batch of one row, which the fit skips
    together, alone, valid = _fit_both("multiclass", {"patience": 1, "max_epochs": 60})
    assert min(p.best_epoch_ for p in alone) < 57
    _assert_same(together, alone, valid)


def test_without_dropout_and_without_shuffling() -> None:
    train, valid = _data(40, "multiclass", 3), _data(20, "multiclass", 4)
    objective = _objective(valid, "multiclass")
    points = MLPProbe.param_grid(**{**SMALL, "dropout": 0.0}, points=3)
    fixed = {"prediction_type": "multiclass", "seed": 0, "seeding": "point"}
    together = MLPProbe.fit_grid(points, train, valid, objective, {**fixed, "grid": "stacked"})
    alone = [MLPProbe(**{**fixed, **p}).fit(train, valid, objective) for p in points]
    _assert_same(together, alone, valid)


def test_fitted_probes_are_ordinary_probes() -> None:
    together, _, valid = _fit_both("multiclass", {})
    probe = together[0]
    assert isinstance(probe.model_, torch.nn.Sequential)
    assert not probe.model_.training
    probs = probe.predict_proba(valid)
    assert probs.shape == valid.Y.shape
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_stacked_grid_leaves_the_global_random_state_alone() -> None:
    train, valid = _data(30, "multiclass", 5), _data(12, "multiclass", 6)
    before = torch.get_rng_state()
    MLPProbe.fit_grid(
        MLPProbe.param_grid(**SMALL, points=2),
        train,
        valid,
        _objective(valid, "multiclass"),
        {"grid": "stacked"},
    )
    assert torch.equal(torch.get_rng_state(), before)


def test_nothing_validated_is_an_error() -> None:
    with pytest.raises(HearbenchError, match="nothing would be validated"):
        MLPProbe(max_epochs=2)


def test_unknown_grid_and_seeding_are_named() -> None:
    with pytest.raises(HearbenchError, match="grid must be one of plain, stacked, got 'fast'"):
        MLPProbe(grid="fast")
    with pytest.raises(HearbenchError, match="seeding must be one of task, point, got 'fold'"):
        MLPProbe(seeding="fold")


def _kfold_task() -> tuple[Task, dict[str, SplitEmbeddings]]:
    folds = [f"fold{i:02d}" for i in range(3)]
    labels = ("a", "b", "c")
    targets: dict[str, dict[str, list[str]]] = {}
    embeddings = {}
    for k, fold in enumerate(folds):
        data = _data(30, "multiclass", 10 + k, classes=3)
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


def test_protocol_chooses_the_same_point_and_scores_the_same() -> None:
    task, embeddings = _kfold_task()
    grid = MLPProbe.param_grid(**SMALL)
    fixed = {"prediction_type": "multiclass", "seed": 42, "seeding": "point"}
    chosen, outcomes = search_and_train(MLPProbe, task, embeddings, grid, {**fixed, "grid": "stacked"})
    chosen_seq, outcomes_seq = search_and_train(MLPProbe, task, embeddings, grid, fixed)
    assert chosen == chosen_seq
    assert len(outcomes) == len(outcomes_seq) == 3
    for a, b in zip(outcomes, outcomes_seq, strict=True):
        np.testing.assert_allclose(a.test_probs, b.test_probs, atol=1e-5)


def test_bfloat16_grid_is_repeatable_and_stays_close_to_float32() -> None:
    together, alone, valid = _fit_both("multiclass", {"precision": "bfloat16"})
    again, _, _ = _fit_both("multiclass", {"precision": "bfloat16"})
    assert {p.precision for p in together} == {"bfloat16"}
    for first, second in zip(together, again, strict=True):
        np.testing.assert_array_equal(first.predict_proba(valid), second.predict_proba(valid))
    exact, _, _ = _fit_both("multiclass", {}, n_train=49)
    # bfloat16 arithmetic and its own dropout stream change the training noise, not what is learnt
    for fast, sequential, full in zip(together, alone, exact, strict=True):
        assert abs(fast.valid_score_ - full.valid_score_) <= 0.25
        assert abs(fast.valid_score_ - sequential.valid_score_) <= 0.25
        assert fast.predict_proba(valid).dtype == np.float32


def test_bfloat16_grid_validates_with_the_arithmetic_its_fitted_probes_predict_with() -> None:
    # the best checkpoint is chosen on validation scores; the returned probe must reproduce them
    # (a continuous objective, so that any difference in arithmetic shows)
    train, valid = _data(49, "multiclass", 1), _data(24, "multiclass", 2)

    def evaluate(probs: np.ndarray) -> tuple[float, Mapping[str, Any]]:
        return float((probs * valid.Y).sum(axis=1).mean()), {}

    objective = Objective(evaluate, True, "true_class_probability")
    points = MLPProbe.param_grid(**{**SMALL, "precision": "bfloat16"})
    fixed = {"prediction_type": "multiclass", "seed": 7, "shuffle_train": True, "grid": "stacked"}
    for probe in MLPProbe.fit_grid(points, train, valid, objective, fixed):
        assert probe.valid_score_ == logged_score(evaluate(probe.predict_proba(valid))[0])


def test_fast_dropout_relu_drops_the_asked_fraction_keeps_the_mean_and_its_gradient() -> None:
    arithmetic = FastArithmetic(ThreadPoolExecutor(max_workers=2))
    values = [torch.ones(512, 256, dtype=torch.bfloat16) for _ in range(2)]
    generators = [torch.Generator().manual_seed(seed) for seed in (1, 2)]
    first, second = arithmetic.dropout_relu(values, generators, 0.1)
    for out in (first, second):
        assert abs(float((out == 0).float().mean()) - 0.1) < 0.005
        assert abs(float(out.float().mean()) - 1.0) < 0.01
    assert not torch.equal(first, second)
    again = arithmetic.dropout_relu(values[:1], [torch.Generator().manual_seed(1)], 0.1)[0]
    assert torch.equal(first, again)
    x = torch.randn(64, 32, requires_grad=True)
    assert torch.equal(arithmetic.dropout_relu([x], generators, 0.0)[0], torch.relu(x))
    out = arithmetic.dropout_relu([x], generators, 0.5)[0]
    out.sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, (out > 0).float() * 2.0)
    torch.testing.assert_close(out[out > 0], 2.0 * x.detach()[out > 0])


def test_fast_adam_follows_torch_adam_at_each_points_rate() -> None:
    torch.manual_seed(0)
    start = torch.randn(3, 5, 4)
    lrs = [1e-3, 3.2e-3, 1e-3]
    stacked = start.clone()
    exp_avg, exp_avg_sq = [torch.zeros_like(start)], [torch.zeros_like(start)]
    singles = [start[slot].clone().requires_grad_() for slot in range(3)]
    optimisers = [torch.optim.Adam([w], lr=lr) for w, lr in zip(singles, lrs, strict=True)]
    arithmetic = FastArithmetic(ThreadPoolExecutor(max_workers=1))
    for step in range(1, 4):
        grad = torch.randn_like(start)
        arithmetic.adam(
            list(stacked), list(grad), list(exp_avg[0]), list(exp_avg_sq[0]), lrs, step
        )
        for slot, (w, opt) in enumerate(zip(singles, optimisers, strict=True)):
            w.grad = grad[slot].clone()
            opt.step()
    for slot in range(3):
        torch.testing.assert_close(stacked[slot], singles[slot].detach(), atol=1e-6, rtol=1e-5)


def test_unknown_precision_is_named() -> None:
    with pytest.raises(HearbenchError, match="precision must be one of float32, bfloat16, got 'fp8'"):
        MLPProbe(precision="fp8")


@pytest.mark.parametrize("module", ["mlp_grid", "mlp_net", "mlp_arithmetic", "stopping", "torch_utils"])
def test_lower_probe_modules_do_not_import_the_mlp_probe(module: str) -> None:
    # the plain probe imports the stacked grid, never the other way round: no cycle
    path = Path(__file__).resolve().parents[1] / "hearbench" / "probes" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "hearbench.probes.mlp" not in imported
