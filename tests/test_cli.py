"""The command line end to end: list, check, demo, run, report, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hearbench.cli import main


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_list_commands() -> None:
    code, out = invoke("list", "embedders")
    assert code == 0
    for name in ("baseline", "mn04_as", "dymn10_as", "passt_base"):
        assert name in out
    code, out = invoke("list", "probes")
    assert code == 0 and {"linear", "mlp", "knn", "sequence"} <= set(out.split())
    code, out = invoke("list", "suites")
    assert code == 0 and "hear2021" in out and "local" in out


def test_check_baseline_passes() -> None:
    code, out = invoke("check", "baseline", "--option", "hop_ms=25", "--long-seconds", "12")
    assert code == 0, out
    assert "all checks passed" in out and "hop 25.000 ms" in out


@pytest.mark.parametrize(
    "options",
    [
        ["--option", "mode=window"],
        ["--option", "mode=window", "--option", "hop_ms=20", "--option", "layers=5,11,13,15"],
        ["--option", "mode=frames", "--option", "hop_ms=40", "--option", "layers=b15,clf1"],
        ["--option", "mode=frames", "--option", "hop_ms=10", "--option", "layers=3"],
    ],
)
def test_check_mn04_real_weights(reference_dir: Path, options: list[str]) -> None:
    weights = reference_dir / "weights" / "mn04_as.pt"
    code, out = invoke("check", "mn04_as", "--weights", str(weights), *options, "--long-seconds", "12")
    assert code == 0, out
    assert "all checks passed" in out


def test_unknown_embedder_is_one_line_error() -> None:
    result = CliRunner().invoke(main, ["check", "nope_as"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "not registered" in result.output


def test_bad_option_is_one_line_error() -> None:
    result = CliRunner().invoke(main, ["check", "baseline", "--option", "hop=3"])
    assert result.exit_code == 1
    assert "unknown option 'hop'" in result.output


def test_run_and_report_on_demo_task(tmp_path: Path) -> None:
    from hearbench.tasks.synthetic import build_synthetic_task

    task = build_synthetic_task("demo-texture", tmp_path / "tasks" / "demo-texture")
    out = tmp_path / "results"
    code, text = invoke(
        "run", "--embedder", "baseline", "--embedder", "baseline_mel", "--task", str(task),
        "--probe", "linear", "--out", str(out), "--cache", str(tmp_path / "cache"),
    )
    assert code == 0, text
    assert "2 succeeded, 0 failed" in text
    # each result is printed as it lands; a rerun shows what it took from the stored results
    live = [line for line in text.splitlines() if line.startswith("ok      ")]
    assert len(live) == 2 and "baseline × demo-texture × linear: " in live[0]
    # the complexity measurement says what it does, and what it found, once per configuration
    assert text.count("complexity of baseline: measuring parameters, MACs and latency") == 1
    assert "complexity of baseline: 0 parameters, " in text
    code, again = invoke(
        "run", "--embedder", "baseline", "--task", str(task), "--probe", "linear",
        "--out", str(out), "--cache", str(tmp_path / "cache"),
    )
    assert code == 0, again
    stored = [line for line in again.splitlines() if line.startswith("stored  ")]
    assert stored == [live[0].replace("ok      ", "stored  ") + " (already in the results; --no-resume recomputes)"]
    assert "1 succeeded, 0 failed (1 already stored)" in again
    result = json.loads((out / "baseline" / "demo-texture" / "linear.json").read_text())
    assert result["scores"]["top1_acc"]["mean"] > 0.5
    assert len(result["scores"]["top1_acc"]["folds"]) == 5
    assert result["complexity"]["macs_per_second"] > 0
    code, text = invoke("report", str(out), "--out", str(tmp_path / "report"), "--x", "macs_per_second")
    assert code == 0, text
    assert "report: statistics: bootstrap intervals and paired tests of 2 results (1000 resamples)" in text
    assert "report: tables of 2 rows × 1 tasks" in text and "report: plots against macs_per_second" in text
    board = (tmp_path / "report" / "leaderboard.md").read_text()
    assert "baseline" in board and "demo-texture" in board
    assert (tmp_path / "report" / "score_vs_macs_per_second.png").stat().st_size > 1000
    first = {p.name: p.read_bytes() for p in (tmp_path / "report").iterdir()}
    code, _ = invoke("report", str(out), "--out", str(tmp_path / "report"), "--x", "macs_per_second")
    assert {p.name: p.read_bytes() for p in (tmp_path / "report").iterdir()} == first


def test_run_with_missing_task_fails_cleanly(tmp_path: Path) -> None:
    from hearbench.tasks.synthetic import build_synthetic_task

    task = build_synthetic_task("demo-pitch", tmp_path / "demo-pitch")
    result = CliRunner().invoke(
        main,
        ["run", "--embedder", "baseline", "--task", str(task), "--task", str(tmp_path / "absent"),
         "--out", str(tmp_path / "r"), "--cache", str(tmp_path / "c"), "--no-complexity"],
    )
    assert result.exit_code == 1
    assert "1 succeeded, 1 failed" in result.output
    assert "task directory not found" in result.output


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path) -> None:
    from hearbench.results import read_results

    code, text = invoke("demo", "--out", str(tmp_path / "demo"))
    assert code == 0, text
    report = tmp_path / "demo" / "report"
    board = (report / "leaderboard.md").read_text()
    for task in ("demo-pitch", "demo-texture", "demo-events"):
        assert task in board
    assert "mn04\\_as" in board  # Markdown escapes the underscore
    # the terminal ends with the leaderboard table and the paths of the plots
    assert "| " in text and "plots:" in [line for line in text.splitlines() if line.strip()][-1]
    assert any(p.suffix == ".png" for p in report.iterdir())
    results = read_results(tmp_path / "demo" / "results")
    assert len(results) == 15
    by_task: dict[str, dict[str, float]] = {}
    for r in results:
        by_task.setdefault(str(r.task["name"]), {})[r.embedder_id] = r.primary.mean
    for task, scores in by_task.items():
        assert len(set(scores.values())) > 1, f"{task}: every row scores the same"
    # the pretrained CNN runs from the shipped checkpoint, not random weights
    assert all(r.embedder["pretrained"] for r in results)
    events = {
        (r.embedder["options"].get("mode"), r.embedder["options"].get("hop_ms")): r.primary.mean
        for r in results
        if r.task["name"] == "demo-events" and r.embedder["name"] == "mn04_as"
    }
    # onsets within 50 ms need a fine hop: frames at 20 ms beat frames at 160 ms
    assert events[("frames", 20)] > events[("frames", 160)] + 0.2


def test_demo_suite_reports_each_task_and_keeps_complete_ones(tmp_path: Path) -> None:
    from hearbench.tasks.synthetic import DEMO_TASKS, build_demo_suite

    seen: list[str] = []
    paths = build_demo_suite(tmp_path, on_task=seen.append)
    assert seen == list(DEMO_TASKS) and set(paths) == set(DEMO_TASKS)
    metadata = paths[DEMO_TASKS[0]] / "task_metadata.json"
    before = metadata.stat().st_mtime_ns
    again: list[str] = []
    build_demo_suite(tmp_path, on_task=again.append)
    # a complete task is kept as it is, and still counted on the demo's "tasks" bar
    assert again == list(DEMO_TASKS) and metadata.stat().st_mtime_ns == before
