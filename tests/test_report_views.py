"""Plots that can be read, shortened probe schedules marked everywhere, the tidy frame and the
``results`` commands."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure
from test_report import make_result, md_rows

from hearbench.cli import main
from hearbench.report import cost_plots, sweep_plots
from hearbench.report.html import report_page
from hearbench.report.plots import figure_captions, write_plots
from hearbench.report.render import to_csv, to_latex, to_markdown
from hearbench.report.tables import build_leaderboard
from hearbench.results import Result, leaderboard, load_results, to_wide, write_result


def _results() -> list[Result]:
    out = []
    for k, (name, params) in enumerate(
        (("zero", 0), ("tiny", 1e4), ("small", 1e5), ("mid", 1.2e5), ("big", 1e6), ("huge", 1.1e6))
    ):
        for task, base in (("t1", 0.5), ("t2", 0.3)):
            out.append(
                make_result(
                    f"{name}-embedder-with-a-long-name", task, [base + 0.05 * k],
                    complexity={"params": params},
                )
            )
    short = make_result("short", "t1", [0.99], complexity={"params": 5e4})
    short = dataclasses.replace(short, probe={"name": "mlp", "params": {}, "options": {"max_epochs": 5}})
    out.append(short)
    out.append(dataclasses.replace(make_result("short", "t2", [0.2], complexity={"params": 5e4}), probe=short.probe))
    return out


@pytest.fixture()
def figures(monkeypatch: pytest.MonkeyPatch) -> dict[str, Figure]:
    caught: dict[str, Figure] = {}

    def keep(fig: Figure, stem: Path, formats: Any = ("png", "svg")) -> list[Path]:
        caught[stem.name] = fig
        return [stem.with_suffix(".svg")]

    for module in (cost_plots, sweep_plots):
        monkeypatch.setattr(module, "save_figure", keep)
    return caught


def test_plots_are_readable(figures: dict[str, Figure], tmp_path: Path) -> None:
    results = _results()
    board = build_leaderboard(results)
    write_plots(board, results, tmp_path, ("params",))
    fig = figures["score_vs_params"]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    (ax,) = fig.axes
    labels = [t for t in ax.texts]
    assert len(labels) >= 4
    boxes = [t.get_window_extent(renderer) for t in labels]
    for a, b in combinations(boxes, 2):
        assert not a.overlaps(b)
    legend = fig.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    assert ax.get_ylabel() == "HEAR score over 2 local task(s)"
    assert "not on the log axis (no positive parameters): zero-embedder-with-a-long-name" in ax.get_xlabel()
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "hearbench, shortened probe schedule §" in legend_texts
    assert any(t.get_text() == "short §" for t in labels)
    tasks = figures["tasks_vs_params"]
    assert [a.get_ylabel() for a in tasks.axes] == ["top1_acc", "top1_acc"]


def test_every_local_point_is_labelled_and_coincident_points_share_a_label(
    figures: dict[str, Figure], tmp_path: Path
) -> None:
    results = [
        make_result(name, task, [score], complexity={"params": params})
        for name, params, scores in (
            ("front", 1e4, (0.9, 0.8)),
            ("behind", 1e6, (0.5, 0.4)),
            ("twin-a", 1e5, (0.6, 0.3)),
            ("twin-b", 1e5, (0.6, 0.35)),
        )
        for task, score in zip(("t1", "t2"), scores, strict=True)
    ]
    board = build_leaderboard(results)
    write_plots(board, results, tmp_path, ("params",))
    t1, t2 = figures["tasks_vs_params"].axes
    # off the Pareto front too, and two points at one position get one two-line label
    assert sorted(t.get_text() for t in t1.texts) == ["behind", "front", "twin-a\ntwin-b"]
    assert sorted(t.get_text() for t in t2.texts) == ["behind", "front", "twin-a", "twin-b"]


def test_sweep_plots_name_the_metric(figures: dict[str, Figure], tmp_path: Path) -> None:
    results = [
        make_result(f"s{layer}", "t1", [0.5 + layer / 100], metric="mAP", options={"layers": layer}, name="s")
        for layer in (1, 4, 12)
    ]
    write_plots(build_leaderboard(results), results, tmp_path, ())
    assert [a.get_ylabel() for a in figures["sweep_layers"].axes] == ["mAP"]


def test_a_shortened_probe_schedule_is_marked_in_every_table_and_plot(tmp_path: Path) -> None:
    results = _results()
    board = build_leaderboard(results)
    row = next(r for r in board.rows if r.key[0] == "short")
    assert row.label == "short §" and row.shortened == ("max_epochs=5",)
    assert "short §" in md_rows(to_markdown(board))
    assert "§ Shortened probe schedule" in to_markdown(board)
    assert r"short \S{}" in to_latex(board)
    line = next(r for r in csv.DictReader(io.StringIO(to_csv(board))) if r["embedder"] == "short")
    assert line["label"] == "short §" and line["shortened"] == "max_epochs=5"
    assert "short §" in report_page(board)
    captions = figure_captions(board, {"score_vs_params": [tmp_path / "x.svg"]})
    assert "§ / hollow markers: shortened probe schedule." in captions[0][0]
    assert "zero-embedder-with-a-long-name" in captions[0][0]


def test_frame_has_one_row_per_fold_and_metric_and_pivots(tmp_path: Path) -> None:
    result = make_result("emb", "t1", [0.6, 0.8], options={"hop_ms": 20.0, "layers": ["a", "b"]})
    write_result(tmp_path, result, None)
    write_result(tmp_path, make_result("emb", "t2", [0.5]), None)
    frame = load_results(tmp_path)
    assert len(frame) == 3
    assert set(frame["source"]) == {"local"} and frame["primary"].all()
    t1 = frame[frame["task"] == "t1"]
    assert list(t1["fold"]) == [0, 1] and list(t1["value"]) == [0.6, 0.8]
    assert t1["option.hop_ms"].iloc[0] == 20.0 and t1["option.layers"].iloc[0] == '["a", "b"]'
    wide = leaderboard(frame)
    assert wide.loc[("local", "emb", "mlp"), "t1"] == pytest.approx(0.7)
    assert to_wide(frame, stat="std").loc[("local", "emb", "mlp"), "t2"] == 0.0


def test_results_commands(tmp_path: Path) -> None:
    for emb, value in (("a", 0.6), ("b", 0.7)):
        write_result(tmp_path, make_result(emb, "t1", [value]), None)
    runner = CliRunner()
    listed = runner.invoke(main, ["results", "list", str(tmp_path), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [r["embedder_id"] for r in json.loads(listed.output)] == ["a", "b"]
    compared = runner.invoke(main, ["results", "compare", str(tmp_path), "--format", "csv"])
    assert compared.output.splitlines() == ["source,embedder_id,probe,t1", "local,a,mlp,0.6", "local,b,mlp,0.7"]
    shown = runner.invoke(main, ["results", "show", str(tmp_path), "--embedder", "b"])
    assert shown.exit_code == 0 and "0.7000" in shown.output and " a " not in shown.output
    bad = runner.invoke(main, ["results", "show", str(tmp_path), "--task", "nope"])
    assert bad.exit_code == 1 and bad.output.strip().splitlines()[-1] == "error: --task 'nope': no such task in the results"
    missing = runner.invoke(main, ["results", "list", str(tmp_path / "absent")])
    assert missing.exit_code == 1 and "results folder not found" in missing.output


def test_report_command_takes_task_sets_and_impute(tmp_path: Path) -> None:
    results = [
        make_result("full", "t1", [0.8]),
        make_result("full", "t2", [0.6]),
        make_result("partial", "t1", [0.5]),
        make_result("third", "t1", [0.7]),
        make_result("third", "t2", [0.2]),
    ]
    for result in results:
        write_result(tmp_path / "r", result, None)
    runner = CliRunner()
    base = ["report", str(tmp_path / "r"), "--no-stats", "--format", "csv", "--x", "params"]
    bad = runner.invoke(main, [*base, "--out", str(tmp_path / "a"), "--aggregate-over", "nope"])
    assert bad.exit_code == 1 and "--aggregate-over: 'nope' is not a task of the table" in bad.output
    for extra, partial in (([], "-1.000000"), (["--aggregate-over", "t1,t2"], ""), (["--aggregate-over", "t1,t2", "--impute"], None)):
        out = tmp_path / f"out{len(extra)}"
        done = runner.invoke(main, [*base, "--out", str(out), *extra])
        assert done.exit_code == 0, done.output
        rows = {r["embedder"]: r for r in csv.DictReader((out / "leaderboard.csv").open())}
        if partial is None:
            assert rows["partial"]["hear_score"] != "" and rows["partial"]["t2:imputed"] != ""
        else:
            assert rows["partial"]["hear_score"] == partial
