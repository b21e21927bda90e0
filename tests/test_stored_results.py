"""The stored reference results and sweeps regenerate their committed reports byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from hearbench.cli import main
from hearbench.metrics import get_metric
from hearbench.results import read_predictions, read_results, result_path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _report(results: Path, out: Path, *extra: str) -> None:
    """``hearbench report`` as the Makefile's ``reports`` target runs it."""
    outcome = CliRunner().invoke(main, ["report", str(results), "--out", str(out), *extra])
    assert outcome.exit_code == 0, outcome.output


def _same_files(written: Path, stored: Path) -> None:
    names = sorted(p.name for p in stored.iterdir())
    assert names == sorted(p.name for p in written.iterdir())
    for name in names:
        assert (written / name).read_bytes() == (stored / name).read_bytes(), name


@pytest.mark.slow
def test_reference_report_regenerates_identically(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "report"
    _report(RESULTS / "reference", out, "--with-published", "hear2021")
    _same_files(out, RESULTS / "reference" / "report")


@pytest.mark.slow
def test_sweeps_report_regenerates_identically(tmp_path: Path) -> None:
    out = tmp_path / "report"
    _report(RESULTS / "sweeps", out)
    _same_files(out, RESULTS / "sweeps" / "report")


def test_reference_runs_are_complete_and_recomputable() -> None:
    results = read_results(RESULTS / "reference")
    cells = {(r.embedder_id, str(r.task["name"]), str(r.probe["name"])) for r in results}
    tasks = {"fsdd-digit", "fsdd-speaker", "mridangam-stroke", "mridangam-tonic", "urbansound8k", "events"}
    assert cells == {(e, t, p) for e in ("baseline", "mn04_as") for t in tasks for p in ("linear", "mlp")}
    for result in results:
        assert result.embedder["pretrained"] is True
        if result.task["embedding_type"] != "scene":
            continue
        path = result_path(RESULTS / "reference", result.embedder_id, str(result.task["name"]), str(result.probe["name"]))
        stored = read_predictions(path)
        metric = get_metric(result.primary_metric)
        folds = [metric(np.array(f["scores"]), np.array(f["targets"])) for f in stored["folds"]]
        assert folds == pytest.approx(list(result.primary.folds), abs=1e-9)
