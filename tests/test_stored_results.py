"""The stored results regenerate their committed reports byte for byte."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from hearbench.cli import main
from hearbench.metrics import get_metric
from hearbench.report import resolve_published
from hearbench.report.plots import panel_points
from hearbench.report.tables import build_leaderboard
from hearbench.results import Result, leaderboard, load_results, read_predictions, read_results, result_path

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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("robustness", ["--budget", "params=128000", "--budget", "macs_per_second=30e6"]),
        ("event-metrics", ["--n-boot", "200", "--x", "head_macs_per_second,total_macs_per_second,total_params"]),
        ("event-sweep", ["--n-boot", "200", "--x", "head_macs_per_second,total_params,total_macs_per_second"]),
    ],
)
def test_other_stored_reports_regenerate_identically(tmp_path: Path, name: str, extra: list[str]) -> None:
    out = tmp_path / "report"
    _report(RESULTS / name, out, *extra)
    _same_files(out, RESULTS / name / "report")


def test_reference_runs_are_complete_and_recomputable() -> None:
    results = read_results(RESULTS / "reference")
    cells = {(r.embedder_id, str(r.task["name"]), str(r.probe["name"])) for r in results}
    tasks = {"fsdd-digit", "fsdd-speaker", "mridangam-stroke", "mridangam-tonic", "urbansound8k", "esc10", "events"}
    assert cells == {(e, t, p) for e in ("baseline", "mn04_as") for t in tasks for p in ("linear", "mlp")}
    for result in results:
        assert result.embedder["pretrained"] is True
        if result.task["embedding_type"] != "scene":
            continue
        path = result_path(RESULTS / "reference", result.embedder_id, str(result.task["name"]), result.run_name)
        stored = read_predictions(path)
        metric = get_metric(result.primary_metric)
        folds = [metric(np.array(f["scores"]), np.array(f["targets"])) for f in stored["folds"]]
        assert folds == pytest.approx(list(result.primary.folds), abs=1e-9)


# -- aggregates that compare like with like ------------------------------------------------


@pytest.fixture(scope="module")
def reference_with_published(data_dir: Path) -> list[Result]:
    return read_results(RESULTS / "reference") + resolve_published("hear2021")


@pytest.mark.parametrize("impute", [False, True])
def test_no_aggregate_uses_a_task_the_row_did_not_run_unless_imputed(
    reference_with_published: list[Result], impute: bool
) -> None:
    for aggregate_over in (None, ["hear2021", "local"]):
        board = build_leaderboard(reference_with_published, aggregate_over=aggregate_over, impute=impute)
        sets = {s.name: s for s in board.task_sets}
        assert set(sets) == {"local", "hear2021"}
        for row in board.rows:
            for name, agg in row.aggregates.items():
                not_run = set(sets[name].tasks) - set(row.cells)
                assert set(agg.imputed) == not_run, (row.label, name)
                if not impute:
                    assert not not_run, (row.label, name)
        by_label = {r.label: r for r in board.rows}
        # The local mn04_as runs ran no HEAR 2021 task: never on that axis, even imputed.
        for probe in ("linear", "mlp"):
            local = by_label[f"mn04_as ({probe})"]
            assert "hear2021" not in local.aggregates and "local" in local.aggregates
        assert "hear2021" in by_label["CP-JKU mn04_as (e1+l) ‡"].aggregates
        assert "local" not in by_label["CP-JKU mn04_as (e1+l) ‡"].aggregates
        placed = {p.label for p in panel_points(board, "params", "hear2021", None).points}
        assert "CP-JKU mn04_as (e1+l) ‡" in placed
        assert not any(label.startswith(("mn04_as", "baseline")) for label in placed)
        local_axis = panel_points(board, "params", "local", None)
        assert {p.label for p in local_axis.points} == {"mn04_as (linear)", "mn04_as (mlp)"}
        assert set(local_axis.no_cost) == {"baseline (linear)", "baseline (mlp)"}
    if impute:
        assert any(agg.imputed for r in board.rows for agg in r.aggregates.values())


def test_stored_reference_table_has_separate_aggregates() -> None:
    rows = list(csv.DictReader((RESULTS / "reference" / "report" / "leaderboard.csv").open()))
    for row in rows:
        published = row["published"] == "true"
        assert (row["hear_score:hear2021"] != "") == published, row["label"]
        assert (row["hear_score:local"] != "") == (not published), row["label"]
    page = (RESULTS / "reference" / "report" / "index.html").read_text(encoding="utf-8")
    assert "mn04_as (mlp)" in page and "How the aggregates were computed" in page


# -- the tidy frame -------------------------------------------------------------------------


def test_frame_pivots_to_the_stored_leaderboard(data_dir: Path) -> None:
    frame = load_results(RESULTS / "reference", with_published="hear2021")
    assert set(frame["source"]) == {"local", "published"}
    wide = leaderboard(frame)
    stored = list(csv.DictReader((RESULTS / "reference" / "report" / "leaderboard.csv").open()))
    assert len(wide) == len(stored)
    tasks = [c for c in stored[0] if c in wide.columns]
    assert len(tasks) == 26
    for row in stored:
        source = "published" if row["published"] == "true" else "local"
        values = wide.loc[(source, row["embedder"], row["probe"])]
        for task in tasks:
            value = values[task]
            shown = "" if math.isnan(value) else f"{round(float(value), 6) + 0.0:.6f}"
            assert shown == row[task], (row["label"], task)


def test_primary_scores_recompute_from_stored_predictions_as_in_the_frame() -> None:
    frame = load_results(RESULTS / "reference")
    primary = frame[frame["primary"]].set_index(["embedder_id", "task_name", "probe", "fold"])["value"]
    checked = 0
    for result in read_results(RESULTS / "reference"):
        name, probe = str(result.task["name"]), str(result.probe["name"])
        path = result_path(RESULTS / "reference", result.embedder_id, name, probe)
        metric = get_metric(result.primary_metric)
        for k, fold in enumerate(read_predictions(path)["folds"]):
            if "scores" in fold:
                value = metric(np.array(fold["scores"]), np.array(fold["targets"]))
            else:
                value = metric(fold["events"], fold["references"])
            assert value == pytest.approx(primary[(result.embedder_id, name, probe, k)], abs=1e-9)
            checked += 1
    assert checked == len(primary) > 40


# -- last-bit noise changes nothing -------------------------------------------------------------


def _perturb(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value != 0.0:
        return value * (1.0 + float(rng.choice([-1e-12, 1e-12])))
    if isinstance(value, list):
        return [_perturb(v, rng) for v in value]
    if isinstance(value, dict):
        return {k: _perturb(v, rng) for k, v in value.items()}
    return value


def _perturbed_copy(source: Path, target: Path, rng: np.random.Generator) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("report"))
    for path in sorted(target.rglob("*.json")):
        if path.name.endswith(".predictions.json"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("scores", "complexity"):
            if data.get(key) is not None:
                data[key] = _perturb(data[key], rng)
        path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.slow
def test_stored_reports_are_insensitive_to_last_bit_noise(tmp_path: Path, data_dir: Path) -> None:
    rng = np.random.default_rng(12)
    leaderboard_csv = data_dir / "hear2021" / "leaderboard.csv"
    lines = list(csv.reader(leaderboard_csv.open(encoding="utf-8")))
    noisy_csv = tmp_path / "leaderboard.csv"
    with noisy_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(lines[0])
        for line in lines[1:]:
            writer.writerow(line[:3] + [repr(_perturb(float(c), rng)) if c else "" for c in line[3:]])
    for name, extra in (("reference", ["--with-published", str(noisy_csv)]), ("sweeps", [])):
        _perturbed_copy(RESULTS / name, tmp_path / name, rng)
        changed = next(p for p in (tmp_path / name).rglob("*.json") if "predictions" not in p.name)
        assert changed.read_bytes() != (RESULTS / name / changed.relative_to(tmp_path / name)).read_bytes()
        out = tmp_path / f"{name}-report"
        _report(tmp_path / name, out, *extra)
        _same_files(out, RESULTS / name / "report")
