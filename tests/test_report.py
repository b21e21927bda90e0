"""The reporter: Pareto fronts, aggregates, tables, plots, statistics and published scores."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hearbench.api import HearbenchError
from hearbench.report import write_report
from hearbench.report.aggregates import hear_normalized_score, mean_rank, score_over_best
from hearbench.report.html import report_page
from hearbench.report.pareto import dominates, pareto_front
from hearbench.report.render import to_csv, to_latex, to_markdown
from hearbench.report.stats import bootstrap_ci, cell_statistics, paired_test
from hearbench.report.sweeps import sweeps
from hearbench.report.tables import build_leaderboard
from hearbench.results import Result, Score, write_result
from hearbench.results.published import (
    HEAR2021_TASKS,
    canonical_task_name,
    load_published,
    load_published_params,
)

N_CLASSES = 4


def make_result(
    embedder: str,
    task: str,
    folds: list[float],
    metric: str = "top1_acc",
    probe: str = "mlp",
    complexity: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    name: str | None = None,
    version: str = "local-1",
) -> Result:
    return Result(
        embedder={
            "name": name or embedder,
            "id": embedder,
            "options": options or {},
            "weights_sha256": None,
            "pretrained": True,
        },
        task={"name": task, "version": version, "embedding_type": "scene"},
        probe={"name": probe, "params": {}},
        primary_metric=metric,
        scores={metric: Score.from_folds(folds)},
        complexity=complexity,
    )


def md_rows(md: str) -> dict[str, list[str]]:
    """The body rows of a Markdown table, by first cell, cells stripped."""
    lines = [line for line in md.splitlines() if line.startswith("|")][2:]
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        rows[cells[0]] = cells[1:]
    return rows


def scene_predictions(correct: list[np.ndarray], seed: int = 0) -> dict[str, Any]:
    """Multiclass predictions whose arg-max is right exactly where ``correct`` is true."""
    rng = np.random.default_rng(seed)
    folds = []
    for k, mask in enumerate(correct):
        n = len(mask)
        labels = rng.integers(0, N_CLASSES, size=n)
        targets = np.eye(N_CLASSES)[labels]
        wrong = (labels + 1 + rng.integers(0, N_CLASSES - 1, size=n)) % N_CLASSES
        top = np.where(mask, labels, wrong)
        scores = rng.random((n, N_CLASSES)) * 0.5
        scores[np.arange(n), top] = 1.0
        folds.append(
            {
                "fold": k,
                "test": [f"fold{k:02d}"],
                "files": [f"f{k}_{i:05d}.wav" for i in range(n)],
                "scores": scores.tolist(),
                "targets": targets.astype(int).tolist(),
            }
        )
    return {
        "kind": "scene",
        "labels": [str(c) for c in range(N_CLASSES)],
        "prediction_type": "multiclass",
        "folds": folds,
    }


def accuracy_mask(n: int, accuracy: float, seed: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[: round(accuracy * n)] = True
    return np.random.default_rng(seed).permutation(mask)


# -- Pareto front --------------------------------------------------------------------------


def test_pareto_front_on_hand_made_points() -> None:
    costs = [1.0, 2.0, 2.0, 3.0, 4.0, 0.5, math.nan, 4.0, 10.0]
    scores = [0.5, 0.7, 0.6, 0.7, 0.9, 0.1, 1.0, 0.9, 0.85]
    # 2 (0.6 at cost 2) and 3 (0.7 at cost 3) are dominated by 1 (0.7 at cost 2); 8 by 4;
    # 6 has no cost; 4 and 7 are the same point, so both stay.
    assert pareto_front(costs, scores) == [5, 0, 1, 4, 7]
    assert dominates((2.0, 0.7), (3.0, 0.7))
    assert not dominates((4.0, 0.9), (4.0, 0.9))
    errors = [0.5, 0.3, 0.4, 0.1]
    assert pareto_front([1.0, 2.0, 3.0, 4.0], errors, higher_is_better=False) == [0, 1, 3]
    assert pareto_front([], []) == []


# -- aggregates ----------------------------------------------------------------------------


def test_hear_score_and_score_over_best_on_a_hand_worked_example() -> None:
    # Task t1 (top1_acc, higher is better): A .9, B .7, C .5, D .5.
    #   mean .65, population variance (.25² + .05² + .15² + .15²) / 4 = .0275
    #   z = (1.508 -> clamped 1, .05/√.0275, -.15/√.0275, -.15/√.0275)
    # Task t2 (segment_1s_er, lower is better, negated): A .1, B .3, C .2, D .4
    #   negated mean -.25, variance (.15² + .05² + .05² + .15²) / 4 = .0125
    #   z = (1.342 -> 1, -.05/√.0125, .05/√.0125, -1.342 -> -1)
    z1 = 0.05 / math.sqrt(0.0275)
    z2 = 0.05 / math.sqrt(0.0125)
    expected = {
        "A": (1.0 + 1.0) / 2,
        "B": (z1 - z2) / 2,
        "C": (-3 * z1 + z2) / 2,
        "D": (-3 * z1 - 1.0) / 2,
    }
    # Score/best: t1 best .9 -> (1, 7/9, 5/9, 5/9); t2 best .1 -> (1, 1/3, 1/2, 1/4).
    ratios = {
        "A": 1.0,
        "B": (7 / 9 + 1 / 3) / 2,
        "C": (5 / 9 + 1 / 2) / 2,
        "D": (5 / 9 + 1 / 4) / 2,
    }
    t1 = {"A": 0.9, "B": 0.7, "C": 0.5, "D": 0.5}
    t2 = {"A": 0.1, "B": 0.3, "C": 0.2, "D": 0.4}
    matrix = [[t1[k], t2[k]] for k in "ABCD"]
    got = hear_normalized_score(matrix, [True, False])
    assert got == pytest.approx([expected[k] for k in "ABCD"], abs=1e-12)
    assert score_over_best(matrix, [True, False]) == pytest.approx(
        [ratios[k] for k in "ABCD"], abs=1e-12
    )

    results = [make_result(k, "t1", [t1[k]]) for k in "ABCD"]
    results += [make_result(k, "t2", [t2[k]], metric="segment_1s_er") for k in "ABCD"]
    board = build_leaderboard(results)
    assert [r.label for r in board.rows] == ["A", "B", "C", "D"]
    for row in board.rows:
        assert row.aggregates["local"].hear_score == pytest.approx(expected[row.label], abs=1e-12)
        assert row.aggregates["local"].score_over_best == pytest.approx(ratios[row.label], abs=1e-12)
    # Ranks: t1 A 1, B 2, C and D tied 3.5; t2 (lower is better) A 1, C 2, B 3, D 4.
    ranks = {"A": 1.0, "B": 2.5, "C": 2.75, "D": 3.75}
    assert mean_rank(matrix, [True, False]) == pytest.approx([ranks[k] for k in "ABCD"])
    md = md_rows(to_markdown(board))
    assert md["A"] == ["+1.000", "1.000", "1.00", "2/2", "**0.900 ± 0.000**", "**0.100 ± 0.000**"]
    assert md["B"][:3] == [f"{expected['B']:+.3f}", f"{ratios['B']:.3f}", "2.50"]
    text = to_markdown(board)
    assert "over 2 task(s)" in text and "nothing is imputed" in text
    assert "segment\\_1s\\_er (lower is better)" in text


def test_missing_tasks_are_missing_not_zero_and_left_out_of_aggregates() -> None:
    results = [
        make_result("full", "t1", [0.8, 0.9]),
        make_result("full", "t2", [0.6, 0.7]),
        make_result("partial", "t1", [0.5, 0.6]),
        make_result("third", "t1", [0.7, 0.7]),
        make_result("third", "t2", [0.2, 0.3]),
    ]
    # Default: the tasks every row shares, here t1 alone.
    board = build_leaderboard(results)
    assert [s.tasks for s in board.task_sets] == [("t1",)]
    partial = next(r for r in board.rows if r.label == "partial")
    assert "t2" not in partial.cells
    assert partial.aggregates["local"].score_over_best == pytest.approx(0.55 / 0.85)
    # Over t1 alone: values .85, .55, .70 -> z of .55 = -.15 / √.015 < -1 -> clamped.
    assert partial.aggregates["local"].hear_score == pytest.approx(-1.0)

    md_row = md_rows(to_markdown(board))["partial"]
    std = Score.from_folds([0.5, 0.6]).std
    assert md_row[-2:] == [f"0.550 ± {std:.3f}", "—"]
    assert md_row[3] == "1/2"
    table = csv.DictReader(io.StringIO(to_csv(board)))
    csv_row = next(r for r in table if r["embedder"] == "partial")
    assert csv_row["t2"] == "" and csv_row["t2:std"] == ""
    assert csv_row["t1"] == "0.550000"
    tex_row = next(line for line in to_latex(board).splitlines() if line.startswith("partial"))
    assert tex_row.endswith("& ---" + r" \\")
    page = report_page(board)
    assert 'class="data row' in page and "missing" in page

    # Over both tasks the partial row is left out, and said to be.
    both = build_leaderboard(results, aggregate_over=["t1,t2"])
    partial = next(r for r in both.rows if r.label == "partial")
    assert partial.aggregates == {}
    assert "Left out for not running all of them: partial." in to_markdown(both)
    assert md_rows(to_markdown(both))["partial"][:3] == ["—", "—", "—"]
    assert next(r for r in csv.DictReader(io.StringIO(to_csv(both))) if r["embedder"] == "partial")[
        "hear_score"
    ] == ""

    # With --impute it enters, and its imputed cell is marked in every format.
    imputed = build_leaderboard(results, aggregate_over=["t1,t2"], impute=True)
    partial = next(r for r in imputed.rows if r.label == "partial")
    value = partial.aggregates["tasks"].imputed["t2"]
    assert math.isfinite(value) and "t2" not in partial.cells
    assert md_rows(to_markdown(imputed))["partial"][-1] == f"[{value:.3f}]"
    assert f"[{value:.3f}]" in to_latex(imputed)
    row = next(r for r in csv.DictReader(io.StringIO(to_csv(imputed))) if r["embedder"] == "partial")
    assert row["t2"] == "" and row["t2:imputed"] == f"{value:.6f}"
    assert f">[{value:.3f}]</td>" in report_page(imputed)
    assert "imputed" in report_page(imputed)

    with pytest.raises(HearbenchError, match="--aggregate-over: 'nope' is not a task"):
        build_leaderboard(results, aggregate_over=["nope"])


def test_duplicate_cells_and_mixed_metrics_are_refused() -> None:
    a = make_result("a", "t1", [0.5])
    with pytest.raises(HearbenchError, match="two results"):
        build_leaderboard([a, a])
    with pytest.raises(HearbenchError, match="primary metric"):
        build_leaderboard([a, make_result("b", "t1", [0.5], metric="mAP")])


def test_probe_is_part_of_the_label_only_when_several_probes() -> None:
    one = build_leaderboard([make_result("emb", "t1", [0.5])])
    assert [r.label for r in one.rows] == ["emb"]
    two = build_leaderboard(
        [make_result("emb", "t1", [0.5]), make_result("emb", "t1", [0.6], probe="linear")]
    )
    assert [r.label for r in two.rows] == ["emb (linear)", "emb (mlp)"]


# -- statistics ----------------------------------------------------------------------------


def test_bootstrap_ci_contains_the_estimate_and_shrinks_with_more_items() -> None:
    small = scene_predictions([accuracy_mask(60, 0.8, 1), accuracy_mask(60, 0.7, 2)])
    large = scene_predictions([accuracy_mask(3000, 0.8, 1), accuracy_mask(3000, 0.7, 2)])
    ci_small = bootstrap_ci(small, "top1_acc", seed=3)
    ci_large = bootstrap_ci(large, "top1_acc", seed=3)
    assert ci_small.estimate == pytest.approx(0.75)
    assert ci_large.estimate == pytest.approx(0.75)
    for ci in (ci_small, ci_large):
        assert ci.low <= ci.estimate <= ci.high
    assert (ci_large.high - ci_large.low) < 0.3 * (ci_small.high - ci_small.low)
    assert bootstrap_ci(small, "top1_acc", seed=3) == ci_small
    # A metric that is not a mean over items goes through the general path.
    ci_map = bootstrap_ci(small, "mAP", n_boot=200, seed=3)
    assert ci_map.low <= ci_map.estimate <= ci_map.high


def test_paired_test_finds_a_real_difference_and_not_a_null_one() -> None:
    n = 400
    good = scene_predictions([accuracy_mask(n, 0.85, 1)], seed=5)
    bad = scene_predictions([accuracy_mask(n, 0.60, 2)], seed=5)
    other = scene_predictions([accuracy_mask(n, 0.85, 3)], seed=5)
    for method in ("permutation", "bootstrap"):
        real = paired_test(good, bad, "top1_acc", method=method)
        assert real.diff == pytest.approx(0.25)
        assert real.p_value < 0.01
        null = paired_test(good, other, "top1_acc", method=method)
        assert null.diff == pytest.approx(0.0)
        assert null.p_value > 0.5
    # Items are matched by name, whatever their order.
    fold = bad["folds"][0]
    order = np.random.default_rng(0).permutation(n)
    keys = ("files", "scores", "targets")
    shuffled = {**bad, "folds": [{**fold, **{k: [fold[k][i] for i in order] for k in keys}}]}
    assert paired_test(good, shuffled, "top1_acc").diff == pytest.approx(0.25)
    generic = paired_test(good, bad, "mAP", n_resamples=200)
    assert generic.diff > 0 and generic.p_value < 0.05


def test_cell_statistics_mark_ties_with_the_best() -> None:
    n = 300
    entries = [
        (make_result("best", "t", [0.90]), scene_predictions([accuracy_mask(n, 0.90, 1)])),
        (make_result("close", "t", [0.89]), scene_predictions([accuracy_mask(n, 0.89, 2)])),
        (make_result("far", "t", [0.50]), scene_predictions([accuracy_mask(n, 0.50, 3)])),
    ]
    stats = cell_statistics(entries, n_boot=500)
    assert stats[(("best", "mlp", False), "t")].same_as_best is None
    assert stats[(("close", "mlp", False), "t")].same_as_best is True
    assert stats[(("far", "mlp", False), "t")].same_as_best is False
    # A best row without predictions (a published score) leaves nothing to test against.
    above = cell_statistics([*entries, (make_result("pub", "t", [0.95]), None)], n_boot=100)
    assert len(above) == 3 and all(s.same_as_best is None for s in above.values())
    board = build_leaderboard([e[0] for e in entries], stats, significance="test")
    md = md_rows(to_markdown(board))
    # z of .9 among (.9, .89, .5): (.9 - .76333) / .18625 = .734
    assert md["best"] == ["+0.734", "1.000", "1.00", "1/1", "**0.900 ± 0.000**"]
    assert md["close"][-1] == "0.890 ± 0.000†"
    assert md["far"][-1] == "0.500 ± 0.000"


# -- whole report --------------------------------------------------------------------------


def write_results(root: Path) -> None:
    n = 120
    cost = {"small": 1e6, "mid": 5e6, "big": 8e7}
    acc = {"small": (0.70, 0.72), "mid": (0.80, 0.78), "big": (0.79, 0.81)}
    for emb, (a1, a2) in acc.items():
        complexity = {"params": cost[emb], "macs_per_second": cost[emb] * 30, "latency_ms": 5.0}
        for task, accuracy, seed in (("t1", a1, 1), ("t2", a2, 2)):
            masks = [accuracy_mask(n, accuracy, seed), accuracy_mask(n, accuracy, seed + 10)]
            preds = scene_predictions(masks, seed=seed)
            result = make_result(emb, task, [accuracy, accuracy], complexity=complexity)
            write_result(root, result, preds)
    for layer, score in ((1, 0.6), (4, 0.7), (12, 0.75)):
        for hop, delta in ((10, 0.0), (40, -0.05)):
            rid = f"sweep-l{layer}-h{hop}"
            options = {"layers": layer, "hop_ms": float(hop)}
            result = make_result(rid, "t1", [score + delta], options=options, name="sweep")
            write_result(root, result, None)


def test_report_is_byte_identical_across_runs(tmp_path: Path) -> None:
    write_results(tmp_path / "results")
    first = write_report(tmp_path / "results", tmp_path / "a", x=("params", "macs"), n_boot=200)
    second = write_report(tmp_path / "results", tmp_path / "b", x=("params", "macs"), n_boot=200)
    names = sorted(p.name for p in first)
    assert names == sorted(p.name for p in second)
    assert {f"leaderboard.{fmt}" for fmt in ("md", "csv", "tex")} | {"index.html"} <= set(names)
    for stem in (
        "score_vs_params",
        "tasks_vs_params",
        "score_vs_macs_per_second",
        "sweep_layers",
        "sweep_hop_ms",
    ):
        assert f"{stem}.png" in names and f"{stem}.svg" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    svg = (tmp_path / "a" / "score_vs_params.svg").read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    page = (tmp_path / "a" / "index.html").read_text()
    assert page.count("<svg") == 6 and page.count("<script>") == 1
    # Self-contained: every reference points inside the page.
    assert re.findall(r'(?:src|href)="(?!#)[^"]*"', page) == []
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a" / "leaderboard.csv").read_text())))
    assert {"t1:ci_low", "t1:ci_high"} <= set(rows[0])


def test_sweeps_group_results_differing_in_one_option(tmp_path: Path) -> None:
    write_results(tmp_path)
    from hearbench.results import read_results

    results = read_results(tmp_path)
    layers = sweeps(results, "layers")
    assert list(layers["t1"]) == ["sweep (mlp), hop_ms=10", "sweep (mlp), hop_ms=40"]
    curve = layers["t1"]["sweep (mlp), hop_ms=40"]
    assert [p.value for p in curve] == ["1", "4", "12"]
    assert [p.mean for p in curve] == pytest.approx([0.55, 0.65, 0.70])
    hops = sweeps(results, "hop_ms")
    assert len(hops["t1"]) == 3
    assert [p.value for p in hops["t1"]["sweep (mlp), layers=12"]] == ["10", "40"]


# -- published scores ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def leaderboard_csv() -> Path:
    path = Path(__file__).resolve().parents[1].parent / "shared/data/hear2021/leaderboard.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


def test_published_leaderboard_regenerates_exactly(leaderboard_csv: Path, tmp_path: Path) -> None:
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer
    from sklearn.preprocessing import StandardScaler

    with leaderboard_csv.open(encoding="utf-8") as handle:
        source = list(csv.reader(handle))
    header, body = source[0], source[1:]
    published = load_published(leaderboard_csv)
    assert all(r.published and r.primary.folds == () for r in published)
    write_report(
        [], tmp_path, formats=("csv", "md"), with_published=published, plots=False, impute=True
    )
    rows = {
        r["label"].removesuffix(" ‡"): r
        for r in csv.DictReader(io.StringIO((tmp_path / "leaderboard.csv").read_text()))
    }
    assert set(rows) == {line[0] for line in body}
    by_column = {t.column: t.name for t in HEAR2021_TASKS}
    for line in body:
        row = rows[line[0]]
        assert row["published"] == "true"
        for column, cell in zip(header[3:], line[3:], strict=True):
            got = row[by_column[column]]
            assert (got == "") == (cell == ""), (line[0], column)
            if cell:
                assert got == f"{round(float(cell), 6) + 0.0:.6f}", (line[0], column)

    # The official procedure (hear-leaderboard leaderboard.py), on the CSV as it is.
    matrix = np.array([[float(c) if c else np.nan for c in line[3:]] for line in body])
    filled = IterativeImputer(max_iter=10, random_state=0).fit_transform(matrix)
    official = np.clip(StandardScaler().fit_transform(filled), -1, 1).mean(axis=1)
    board = build_leaderboard(published, impute=True)
    assert [s.name for s in board.task_sets] == ["hear2021"]
    assert len(board.task_sets[0].tasks) == len(HEAR2021_TASKS)
    exact = {r.label.removesuffix(" ‡"): r.aggregates["hear2021"].hear_score for r in board.rows}
    cells = {r.label.removesuffix(" ‡"): r.cells for r in board.rows}
    for line in body:
        for column, cell in zip(header[3:], line[3:], strict=True):
            if cell:
                assert cells[line[0]][by_column[column]].mean == float(cell)
    for line, score in zip(body, official, strict=True):
        assert exact[line[0]] == pytest.approx(score, abs=1e-12)
        assert rows[line[0]]["hear_score"] == f"{round(score, 6) + 0.0:.6f}"
    md = (tmp_path / "leaderboard.md").read_text()
    assert md_rows(md)["GURA Fuse Cat H+w+C ‡"][0] == "+0.704"


def test_published_params_are_sourced_and_used(leaderboard_csv: Path) -> None:
    params = load_published_params()
    assert params and all(p["source"] and p["params"] > 0 for p in params.values())
    published = load_published(leaderboard_csv)
    models = {r.embedder["name"] for r in published}
    assert set(params) <= models
    board = build_leaderboard(published)
    with_params = {r.embedder["name"] for r in board.rows if "params" in r.complexity}
    assert with_params == set(params)


def test_local_tasks_line_up_with_published_columns_only_when_the_same(
    leaderboard_csv: Path,
) -> None:
    assert canonical_task_name({"name": "esc50", "version": "v2.0.0"}) == "esc50-v2.0.0-full"
    assert canonical_task_name({"name": "ESC-50", "version": "v2.0.0"}) == "esc50-v2.0.0-full"
    assert canonical_task_name({"name": "esc50-v2.0.0-full", "version": "x"}) == "esc50-v2.0.0-full"
    assert canonical_task_name({"name": "esc50", "version": "mini-1"}) == "esc50"
    assert canonical_task_name({"name": "nsynth_pitch", "version": "v2.2.3"}) == "nsynth_pitch"
    nsynth = {"name": "nsynth_pitch", "version": "v2.2.3", "mode": "5h"}
    assert canonical_task_name(nsynth) == "nsynth_pitch-v2.2.3-5h"

    local = make_result("mine", "esc50", [0.9, 0.92], version="v2.0.0")
    subset = make_result("mine", "mridangam_stroke", [0.8], version="subset-1")
    board = build_leaderboard([local, subset, *load_published(leaderboard_csv)])
    columns = [c.task for c in board.columns]
    assert "esc50" not in columns and "mridangam_stroke" in columns
    mine = next(r for r in board.rows if r.label == "mine")
    assert mine.cells["esc50-v2.0.0-full"].mean == pytest.approx(0.91)
    assert next(c for c in board.columns if c.task == "esc50-v2.0.0-full").label == "ESC-50"


def test_variants_of_one_embedder_are_named_by_the_options_that_differ() -> None:
    from hearbench.report.tables import variant_names

    def record(options: dict[str, object], **extra: object) -> dict[str, object]:
        return {"name": "mn04_as", "options": options, "weights_sha256": "ab" * 32, "pretrained": True, **extra}

    names = variant_names(
        {
            "mn04_as": record({"mode": "window", "hop_ms": 50.0, "layers": ["clf1"]}),
            "mn04_as-1": record({"mode": "frames", "hop_ms": 20.0, "layers": ["clf1"]}),
            "mn04_as-2": record({"mode": "window", "hop_ms": 50.0, "layers": ["b5", "b11"]}),
            "mn04_as-3": record({"mode": "window", "hop_ms": 50.0, "layers": ["clf1"]}, pretrained=False),
            "baseline": {"name": "baseline", "options": {"dim": 512}},
        }
    )
    assert names["mn04_as"] == "mn04_as [hop_ms=50, layers=clf1, mode=window]"
    assert names["mn04_as-1"] == "mn04_as [hop_ms=20, layers=clf1, mode=frames]"
    assert names["mn04_as-2"] == "mn04_as [hop_ms=50, layers=b5,b11, mode=window]"
    assert names["mn04_as-3"] == "mn04_as [hop_ms=50, layers=clf1, mode=window, random weights]"
    assert names["baseline"] == "baseline"


def test_one_configuration_has_one_results_id_however_it_is_spelled() -> None:
    from hearbench import create_embedder
    from hearbench.runner import embedder_id

    implied = create_embedder("baseline", dim=256)
    spelled = create_embedder("baseline", dim=256, seed=0)
    assert implied.config == spelled.config
    assert embedder_id(implied) == embedder_id(spelled) != "baseline"
    assert embedder_id(create_embedder("baseline")) == "baseline"
