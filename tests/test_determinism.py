"""Same seed, same scores (on CPU); every result records its seed and library versions."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers import fsdd_task

import hearbench
from hearbench.executors import EmbedderSpec, Job, RunSettings, run_local
from hearbench.results import read_predictions, read_results

PROBES: dict[str, dict[str, Any]] = {
    "linear": {"l2": [1e-3, 1e-1]},
    "mlp": {"max_epochs": 12, "points": 2, "hidden_dim": 64},
    "knn": {},
}


@pytest.fixture(scope="module")
def digits_task(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-fold task of spoken digits 0–2, one FSDD speaker per fold."""
    return fsdd_task(data_dir, tmp_path_factory.mktemp("task") / "digits", "digits", ("0", "1", "2"))


def run(task: Path, root: Path, seed: int) -> Path:
    """Run baseline × task × every probe into ``root`` with a fresh cache; returns the results folder."""
    for probe, options in PROBES.items():
        settings = RunSettings(
            out_dir=str(root / "results"),
            cache_dir=str(root / "cache"),
            seed=seed,
            probe_options=options,
            with_complexity=False,
            progress=False,
        )
        [outcome] = run_local([Job(EmbedderSpec("baseline"), str(task), probe)], settings)
        assert outcome.ok, outcome.error
    return root / "results"


def test_same_seed_same_scores_and_recorded_provenance(digits_task: Path, tmp_path: Path) -> None:
    first = read_results(run(digits_task, tmp_path / "a", seed=7))
    second = read_results(run(digits_task, tmp_path / "b", seed=7))
    assert [str(r.probe["name"]) for r in first] == sorted(PROBES)
    for a, b in zip(first, second, strict=True):
        assert {m: s.folds for m, s in a.scores.items()} == {m: s.folds for m, s in b.scores.items()}
        assert a.probe == b.probe
        assert a.timing["embeddings_computed"] == b.timing["embeddings_computed"]
    folder_a, folder_b = tmp_path / "a" / "results", tmp_path / "b" / "results"
    for result in first:
        stored_a = read_predictions(folder_a / "baseline" / "digits" / f"{result.run_name}.json")
        stored_b = read_predictions(folder_b / "baseline" / "digits" / f"{result.run_name}.json")
        assert stored_a == stored_b
        assert np.asarray(stored_a["folds"][0]["scores"]).shape[1] == 3

    for result in first:
        provenance = result.provenance
        assert provenance["seed"] == 7
        assert result.probe["params"]["seed"] == 7
        assert provenance["hearbench_version"] == hearbench.__version__
        assert provenance["torch"] == torch.__version__
        assert provenance["torch_threads"] == torch.get_num_threads()
        assert provenance["numpy"] == np.__version__
        assert provenance["python"] == platform.python_version()
        assert provenance["task_checksum"] == result.task["checksum"]
        assert provenance["time"]
        assert result.embedder["options"]["seed"] == 0
