"""The robustness table and plots of the report, and the complexity budget."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from hearbench.api import HearbenchError
from hearbench.cli import main
from hearbench.report import leaderboard_results, write_report
from hearbench.report.budget import inside, parse_budget
from hearbench.report.plots import panel_points
from hearbench.report.robustness_plots import robustness_points
from hearbench.report.tables import build_leaderboard
from hearbench.results import Result, Score, write_result
from hearbench.robustness_summary import RobustnessSummary

SMALL = {"params": 100_000.0, "macs_per_second": 20e6}
LARGE = {"params": 1_000_000.0, "macs_per_second": 70e6}


def clean(embedder: str, folds: list[float], complexity: dict[str, Any], augment: bool = False) -> Result:
    probe: dict[str, Any] = {"name": "linear", "params": {}}
    if augment:
        probe["augment"] = {"dir_augment_p": 0.5, "dir_augment_draws": 2}
    return Result(
        embedder={"name": embedder, "id": embedder, "options": {}, "pretrained": True},
        task={"name": "esc10", "version": "1", "embedding_type": "scene"},
        probe=probe,
        primary_metric="top1_acc",
        scores={"top1_acc": Score.from_folds(folds)},
        complexity=complexity,
        variant="+dir_augment-0123456789ab" if augment else "",
    )


def robust(result: Result, conditions: dict[str, float]) -> Result:
    summary = RobustnessSummary("top1_acc", True, result.primary.mean, conditions, tuple(sorted(conditions)))
    return dataclasses.replace(
        result,
        variant=result.variant + "@dir-abcdefabcdef",
        robustness=summary,
        perturbation={"kind": "dir", "level": "rms", "max_conditions": None},
    )


@pytest.fixture
def results() -> list[Result]:
    small = clean("small", [0.70, 0.74], SMALL)
    large = clean("large", [0.96, 1.00], LARGE)
    large_aug = clean("large", [0.95, 0.99], LARGE, augment=True)
    return [
        small,
        large,
        robust(small, {"dir:a": 0.60, "dir:b": 0.50}),
        robust(large, {"dir:a": 0.95, "dir:b": 0.93}),
        robust(large_aug, {"dir:a": 0.96, "dir:b": 0.96}),
    ]


def test_leaderboard_takes_clean_scores_once(results: list[Result]) -> None:
    shown = leaderboard_results(results)
    # the clean results, plus the augmented run (no clean result of its own)
    assert len(shown) == 3
    board = build_leaderboard(shown)
    labels = sorted(r.label for r in board.rows)
    assert labels == ["large (linear + DIR aug (p=0.5, n=2))", "large (linear)", "small (linear)"]


def test_robustness_table_in_every_format(results: list[Result], tmp_path: Path) -> None:
    written = write_report(results, tmp_path, stats=False, x=("params",), budget={"params": 128000})
    names = {p.name for p in written}
    assert {"robustness.md", "robustness.csv", "robustness.tex", "robustness_vs_params.svg"} <= names
    table = pd.read_csv(tmp_path / "robustness.csv")
    assert list(table["Embedder"]) == ["large", "large", "small"]
    assert list(table["Probe"]) == ["linear", "linear + DIR aug (p=0.5, n=2)", "linear"]
    row = table.iloc[2]
    assert row["Clean"] == pytest.approx(0.72)
    assert row["Unseen mean"] == pytest.approx(0.55)
    assert row["Worst"] == pytest.approx(0.50)
    assert row["Drop"] == pytest.approx(0.17)
    assert row["Rel. drop"] == pytest.approx(0.17 / 0.72, abs=1e-6)
    assert row["DG"] == pytest.approx(0.05)
    assert list(table["Inside budget"]) == ["no", "no", "yes"]
    md = (tmp_path / "robustness.md").read_text()
    assert "| small      | linear" in md and "+0.1700" in md
    tex = (tmp_path / "robustness.tex").read_text()
    assert r"\begin{tabular}" in tex and "0.5500" in tex
    page = (tmp_path / "index.html").read_text()
    assert "Device robustness" in page and "0.5500" in page


def test_no_robustness_section_without_robustness_results(results: list[Result], tmp_path: Path) -> None:
    written = write_report(results[:2], tmp_path, stats=False, x=("params",))
    assert not [p for p in written if p.name.startswith("robustness")]
    assert "Device robustness" not in (tmp_path / "index.html").read_text()


def test_budget_marks_the_rows_inside(results: list[Result]) -> None:
    budget = parse_budget(["params=128000", "macs_per_second=30e6"])
    assert budget == {"params": 128000.0, "macs_per_second": 30e6}
    assert inside(SMALL, budget) and not inside(LARGE, budget)
    assert not inside({"params": 1.0}, budget)  # no MACs figure: not known to be inside
    board = build_leaderboard(leaderboard_results(results))
    points = panel_points(board, "params", None, "esc10", budget)
    assert {p.label: p.inside for p in points.points} == {
        "large (linear)": False,
        "large (linear + DIR aug (p=0.5, n=2))": False,
        "small (linear)": True,
    }
    drops = robustness_points(results, "macs_per_second", "drop", budget)["esc10"][0]
    assert sorted((p.label, p.score, p.inside) for p in drops) == [
        ("large (linear + DIR aug (p=0.5, n=2))", 0.01, False),
        ("large (linear)", 0.04, False),
        ("small (linear)", 0.17, True),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("flops=1", "--budget 'flops=1': unknown key 'flops'; choose from"),
        ("params=lots", "--budget 'params=lots': expected a positive number, got 'lots'"),
        ("params=-5", "expected a positive number, got '-5'"),
        ("params=inf", "expected a positive number, got 'inf'"),
        ("params", "--budget 'params': expected KEY=VALUE"),
    ],
)
def test_bad_budget_is_one_line_and_writes_nothing(
    value: str, message: str, results: list[Result], tmp_path: Path
) -> None:
    with pytest.raises(HearbenchError, match="budget"):
        parse_budget([value])
    folder = tmp_path / "results"
    write_result(folder, results[0], None)
    out = tmp_path / "report"
    outcome = CliRunner().invoke(main, ["report", str(folder), "--out", str(out), "--budget", value])
    lines = outcome.output.strip().splitlines()
    assert outcome.exit_code == 1 and len(lines) == 1 and message in lines[0], outcome.output
    assert not out.exists()


def test_budget_given_twice_is_refused() -> None:
    with pytest.raises(HearbenchError, match="macs_per_second is given twice"):
        parse_budget(["macs=1e6", "macs_per_second=2e6"])
