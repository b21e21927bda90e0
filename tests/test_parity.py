"""Parity with heareval 2021.1.3, proven by running heareval's own predictions runner.

Four small tasks (a ``trainvaltest`` scene task, a 5-fold scene task, a multilabel scene task
and an event task), embedded by the weight-free baseline, are written in heareval's layout by
``hearbench export heareval``; heareval's runner trains its probe on them for a fixed, short
grid, and hearbench's protocol runs on what ``hearbench import heareval`` reads back. Test
predictions must agree to float tolerance and test scores to 1e-6; hearbench's metrics on
heareval's stored predictions must give heareval's numbers.

Needs the ``parity`` extra (``pip install -e .[parity]`` then ``pip install --no-deps
heareval==2021.1.3``; ``make test`` does both); skips, with the reason, when heareval cannot be
imported. heareval runs through :func:`hearbench.interop.heareval_runner.run_heareval`, whose
shims let it run beside today's libraries, none touching its arithmetic:
``numpy.Inf`` (removed in NumPy 2, read by Lightning 1.9), ``torch.load`` of its own
checkpoints without ``weights_only``, and the epoch of heareval's test-time post-processing
lookup (it sets ``trainer.fit_loop.current_epoch``, which Lightning 1.9 no longer reads).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from hearbench.cli import main
from hearbench.interop.heareval import (
    evaluate_embeddings,
    read_embeddings,
    read_predictions,
    score_predictions,
    stored_scores,
)
from hearbench.interop.heareval_runner import run_heareval
from hearbench.probes.mlp_net import hear_grid_points
from hearbench.tasks.format import TaskItem, write_task
from hearbench.tasks.synthetic import SR, TEXTURES, _rng, build_synthetic_task, texture

POINT: dict[str, Any] = {
    "hidden_layers": 2,
    "hidden_dim": 64,
    "dropout": 0.1,
    "lr": 1e-3,
    "initialization": "xavier_normal",
    "max_epochs": 12,
    "check_val_every_n_epoch": 3,
    "patience": 2,
    "batch_size": 32,
}
"""One grid point and a short schedule; batches of 32 rows so that the row order matters."""

pytestmark = [
    pytest.mark.filterwarnings(f"ignore:::{module}")
    for module in ("pytorch_lightning", "lightning_fabric", "heareval", "torch", "pandas", "torchmetrics")
]

KFOLD_LRS = [1e-3, 3.2e-3]
"""The k-fold task searches two points (heareval's shuffle picks their order)."""


def _heareval() -> ModuleType:
    if not hasattr(np, "Inf"):
        np.Inf = np.inf  # type: ignore[attr-defined]
    try:
        return importlib.import_module("heareval.predictions.task_predictions")
    except Exception as exc:  # any failure to import means: not installable here
        pytest.skip(f"heareval 2021.1.3 cannot be imported ({type(exc).__name__}: {exc}); see README")


def _multilabel_task(out: Path) -> Path:
    kinds = list(TEXTURES)
    items = []
    index = 0
    for split, count in (("train", 40), ("valid", 16), ("test", 16)):
        for take in range(count):
            rng = _rng(7, index)
            index += 1
            chosen = sorted(set(rng.choice(len(kinds), size=int(rng.integers(1, 3)), replace=True).tolist()))
            audio = sum(texture(kinds[k], 1.0, rng) for k in chosen) / len(chosen)
            items.append(TaskItem(split, f"mix_{split}_{take}.wav", audio, SR, [kinds[k] for k in chosen]))
    meta = {
        "task_name": "parity-multilabel",
        "version": "1",
        "embedding_type": "scene",
        "prediction_type": "multilabel",
        "split_mode": "trainvaltest",
        "sample_duration": 1.0,
        "evaluation": ["mAP", "d_prime", "aucroc"],
        "splits": ["train", "valid", "test"],
    }
    return write_task(out, meta, kinds, items, [SR])


TASKS = {
    "trainvaltest": lambda out: build_synthetic_task("demo-pitch", out),
    "kfold": lambda out: build_synthetic_task("demo-texture", out),
    "multilabel": _multilabel_task,
    "event": lambda out: build_synthetic_task("demo-events", out),
}


def _run_heareval(folder: Path, grid_points: int, lrs: list[float]) -> None:
    overrides: dict[str, list[Any]] = {key: [value] for key, value in POINT.items()}
    overrides["lr"] = lrs
    run_heareval(folder, grid_points, overrides)


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    _heareval()
    root = tmp_path_factory.mktemp("parity")
    previous = os.getcwd()
    os.chdir(root)
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    out: dict[str, dict[str, Any]] = {}
    try:
        for kind, build in TASKS.items():
            task_dir = build(root / kind / "task")
            folder = root / kind / "heareval"
            result = CliRunner().invoke(
                main,
                [
                    *("export", "heareval", "--embedder", "baseline", "--task", str(task_dir)),
                    *("--out", str(folder), "--cache", str(root / "cache")),
                ],
            )
            assert result.exit_code == 0, result.output
            lrs = KFOLD_LRS if kind == "kfold" else [POINT["lr"]]
            task, embeddings = read_embeddings(folder)
            options = {**POINT, "lr": lrs, "points": len(lrs)}
            chosen, scores, probs = evaluate_embeddings(task, embeddings, "mlp", options)
            _run_heareval(folder, len(lrs), lrs)
            out[kind] = {
                "task": task,
                "folder": folder,
                "chosen": chosen,
                "scores": scores,
                "probs": probs,
                "heareval": stored_scores(folder, task.evaluation),
                "predictions": read_predictions(folder),
                "summary": json.loads((folder / "test.predicted-scores.json").read_text()),
            }
        yield out
    finally:
        os.chdir(previous)


def _close(a: float, b: float) -> bool:
    return (math.isinf(a) and a == b) or abs(a - b) <= 1e-6


@pytest.mark.parametrize("kind", list(TASKS))
def test_hearbench_reproduces_heareval_predictions_and_scores(
    parity: dict[str, dict[str, Any]], kind: str
) -> None:
    run = parity[kind]
    task = run["task"]
    assert set(run["scores"]) == set(run["heareval"]) == set(run["predictions"])
    assert len(run["scores"]) == (5 if kind == "kfold" else 1)
    for fold, ours in run["scores"].items():
        pred = run["predictions"][fold]
        theirs = pred.probabilities if pred.probabilities is not None else pred.frame_probabilities
        np.testing.assert_allclose(run["probs"][fold], theirs, rtol=0, atol=1e-6)
        for metric in task.evaluation:
            assert _close(ours[metric], run["heareval"][fold][metric]), (fold, metric)
    assert run["summary"]["hparams"]["lr"] == run["chosen"]["lr"]


@pytest.mark.parametrize("kind", list(TASKS))
def test_hearbench_scores_heareval_predictions_as_heareval(
    parity: dict[str, dict[str, Any]], kind: str
) -> None:
    run = parity[kind]
    rescored = score_predictions(run["predictions"], run["task"].evaluation)
    for fold, values in rescored.items():
        for metric, value in values.items():
            assert _close(value, run["heareval"][fold][metric]), (fold, metric)


def test_import_command_rescores_a_predictions_folder(parity: dict[str, dict[str, Any]]) -> None:
    folder = parity["kfold"]["folder"]
    result = CliRunner().invoke(main, ["import", "heareval", str(folder), "--json", str(folder / "hb.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((folder / "hb.json").read_text())
    assert data["hearbench"] == score_predictions(parity["kfold"]["predictions"], parity["kfold"]["task"].evaluation)
    assert "fold04" in result.output and "top1_acc" in result.output


def test_grid_points_are_heareval_points() -> None:
    tp = _heareval()
    random_module = importlib.import_module("random")
    from sklearn.model_selection import ParameterGrid

    random_module.seed(42)
    confs = list(ParameterGrid(tp.PARAM_GRID))
    random_module.shuffle(confs)
    theirs = [(c["hidden_layers"], c["initialization"].__name__.rstrip("_"), c["lr"]) for c in confs[:8]]
    ours = [(p["hidden_layers"], p["initialization"], p["lr"]) for p in hear_grid_points()]
    assert ours == theirs


def test_parity_depends_on_the_row_order(parity: dict[str, dict[str, Any]]) -> None:
    # the same embeddings in another row order (the splits shuffled in another sequence) train
    # other batches, and the predictions no longer match heareval's
    run = parity["kfold"]
    task, embeddings = read_embeddings(run["folder"])
    listed = list(task.metadata["splits"])
    shuffled = dataclasses.replace(task, metadata={**task.metadata, "splits": listed[::-1]})
    _, _, probs = evaluate_embeddings(shuffled, embeddings, "mlp", {**POINT, "lr": KFOLD_LRS, "points": 2})
    theirs = run["predictions"]["fold00"].probabilities
    assert np.abs(probs["fold00"] - theirs).max() > 1e-3
