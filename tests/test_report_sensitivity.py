"""Probe sensitivity: ranks per probe and Kendall τ between probes, only where a ranking exists;
a report rewritten into its folder leaves no table of the earlier report behind."""

from __future__ import annotations

from pathlib import Path

from hearbench.report import write_report
from hearbench.report.sensitivity import probe_sensitivity
from hearbench.report.tables import build_leaderboard
from hearbench.results import Result, Score

# mlp orders a > b > c on both tasks; linear orders a > c > b
SCORES = {
    "mlp": {"a": 0.9, "b": 0.7, "c": 0.5},
    "linear": {"a": 0.8, "b": 0.4, "c": 0.6},
}


def _result(embedder: str, task: str, score: float, probe: str) -> Result:
    return Result(
        embedder={"name": embedder, "id": embedder, "options": {}, "weights_sha256": None, "pretrained": True},
        task={"name": task, "version": "local-1", "embedding_type": "scene"},
        probe={"name": probe, "params": {}},
        primary_metric="top1_acc",
        scores={"top1_acc": Score.from_folds([score])},
    )


def _results(embedders: tuple[str, ...]) -> list[Result]:
    return [
        _result(name, task, scores[name], probe)
        for probe, scores in SCORES.items()
        for name in embedders
        for task in ("t1", "t2")
    ]


def test_ranks_and_kendall_tau_between_two_probes() -> None:
    tables = probe_sensitivity(build_leaderboard(_results(("a", "b", "c"))))
    assert tables is not None
    ranks, taus = tables
    assert list(ranks["Embedder"]) == ["a", "b", "c"]
    rank_columns = [c for c in ranks.columns if c != "Embedder"]
    linear = next(c for c in rank_columns if c.endswith("(linear)"))
    mlp = next(c for c in rank_columns if c.endswith("(mlp)"))
    assert list(ranks[linear]) == ["1.0", "3.0", "2.0"]
    assert list(ranks[mlp]) == ["1.0", "2.0", "3.0"]
    # one discordant pair (b, c) of three: tau = (2 - 1) / 3
    assert set(taus["Probes"]) == {"linear vs mlp"}
    assert set(taus["n"]) == {3}
    assert set(taus["Kendall τ"]) == {"0.333"}
    assert {"t1", "t2"} <= set(taus["Task set"])


def test_no_table_for_one_embedder_or_one_probe() -> None:
    assert probe_sensitivity(build_leaderboard(_results(("a",)))) is None
    one_probe = [r for r in _results(("a", "b", "c")) if r.probe["name"] == "mlp"]
    assert probe_sensitivity(build_leaderboard(one_probe)) is None


def test_a_regenerated_report_drops_the_tables_it_no_longer_has(tmp_path: Path) -> None:
    out = tmp_path / "report"
    first = write_report(_results(("a", "b", "c")), out, x=("params",), plots=False)
    assert {"probes.md", "probes.csv"} <= {p.name for p in first}
    (out / "notes.txt").write_text("kept: not a report output\n")
    second = write_report(_results(("a",)), out, x=("params",), plots=False)
    assert {p.name for p in out.iterdir()} == {p.name for p in second} | {"notes.txt"}
    assert not (out / "probes.md").exists() and not (out / "probes.csv").exists()
    assert (out / "leaderboard.md").exists()
