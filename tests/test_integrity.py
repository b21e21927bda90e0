"""Nothing on disk contradicts itself: a result and its predictions are one unit, and every
corruption (a flipped cache byte, a truncated manifest or result, a deleted predictions file)
is detected where it is read, reported in one line, and repaired or refused.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import fsdd_task

from hearbench.api import HearbenchError
from hearbench.atomic import dumps_json, loads_json, temp_prefix, write_bytes_atomic
from hearbench.cache import MANIFEST, EmbeddingCache
from hearbench.cli import main
from hearbench.executors import EmbedderSpec, Job, RunSettings, run_local
from hearbench.metrics import get_metric
from hearbench.predictions import SceneFold, read_predictions_file
from hearbench.results import (
    Result,
    Score,
    pair_problem,
    predictions_path,
    prune_results,
    read_result,
    read_results,
    result_predictions,
    write_result,
)

SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
OPTIONS_A = {"l2": 0.01}


@pytest.fixture(scope="module")
def task(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny three-fold digit task."""
    return fsdd_task(data_dir, tmp_path_factory.mktemp("tasks") / "fsdd-a", "fsdd-a", ("0", "1"))


@pytest.fixture(scope="module")
def rebuilt_task(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The task ``fsdd-a`` rebuilt from other clips: same result file, other predictions."""
    return fsdd_task(data_dir, tmp_path_factory.mktemp("tasks") / "fsdd-a-rebuilt", "fsdd-a", ("0", "2"))


def settings(out: Path, cache: Path, options: dict[str, float]) -> RunSettings:
    return RunSettings(
        out_dir=str(out),
        cache_dir=str(cache),
        probe_options=options,
        with_complexity=False,
        progress=False,
    )


def run_once(task: Path, out: Path, cache: Path, options: dict[str, float]) -> Path:
    [outcome] = run_local([Job(EmbedderSpec("baseline"), str(task), "linear")], settings(out, cache, options))
    assert outcome.ok and outcome.result_path is not None, outcome.error
    return Path(outcome.result_path)


def recomputed(path: Path) -> list[float]:
    """Every fold's primary metric recomputed from the predictions stored beside ``path``."""
    result = read_result(path)
    metric = get_metric(result.primary_metric)
    folds = read_predictions_file(predictions_path(path)).folds
    return [float(metric(f.scores, f.targets)) for f in folds if isinstance(f, SceneFold)]


KILL_BETWEEN_WRITES = """
import os, signal, sys
import hearbench.results.records as results
from hearbench.executors import EmbedderSpec, Job, RunSettings, run_local

task, out, cache = sys.argv[1:4]
real = results.write_json_atomic

def killed(path, obj):
    # the predictions are on disk; die before the result is written
    os.kill(os.getpid(), signal.SIGKILL)

results.write_json_atomic = killed
# same task name and probe options (so the same file), other clips (so other predictions)
settings = RunSettings(out_dir=out, cache_dir=cache, probe_options={"l2": 0.01},
                       with_complexity=False, progress=False, resume=False)
run_local([Job(EmbedderSpec("baseline"), task, "linear")], settings)
"""


def test_kill_between_the_two_writes_of_a_rerun_is_recomputed_on_resume(
    task: Path, rebuilt_task: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    path = run_once(task, out, cache, OPTIONS_A)
    first = read_result(path)
    assert recomputed(path) == list(first.primary.folds)
    old_predictions = predictions_path(path).read_bytes()

    crashed = subprocess.run(
        [sys.executable, "-c", KILL_BETWEEN_WRITES, str(rebuilt_task), str(out), str(cache)],
        capture_output=True,
        text=True,
        env=SUBPROCESS_ENV,
        timeout=300,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    # result A beside predictions B: the mix is detected, never taken for a result
    assert predictions_path(path).read_bytes() != old_predictions
    assert read_result(path).to_dict() == first.to_dict()
    problem = pair_problem(path, read_result(path))
    assert problem is not None and "does not match" in problem
    with caplog.at_level(logging.WARNING):
        assert read_results(out) == []
    assert any(str(predictions_path(path)) in r.getMessage() for r in caplog.records)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = run_once(task, out, cache, OPTIONS_A)
    assert again == path
    assert any("treated as missing" in r.getMessage() for r in caplog.records)
    final = read_result(path)
    assert pair_problem(path, final) is None
    assert final.probe["options"] == OPTIONS_A
    assert final.timing["embeddings_cached"] == ["fold00", "fold01", "fold02"]
    assert recomputed(path) == list(final.primary.folds)
    assert final.primary.folds == first.primary.folds
    [listed] = read_results(out)
    assert listed.primary.folds == first.primary.folds


def test_truncated_result_and_deleted_predictions_are_recomputed_and_skipped_by_report(
    task: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    path = run_once(task, out, cache, OPTIONS_A)
    expected = read_result(path).primary.folds
    [other] = run_local([Job(EmbedderSpec("baseline"), str(task), "knn")], settings(out, cache, {}))
    assert other.ok

    path.write_bytes(path.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        assert [r.probe["name"] for r in read_results(out)] == ["knn"]
    [warning] = [r.getMessage() for r in caplog.records if str(path) in r.getMessage()]
    assert "cannot read result" in warning and "\n" not in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        report = CliRunner().invoke(main, ["report", str(out), "--out", str(tmp_path / "report"), "--no-stats"])
    assert report.exit_code == 0, report.output
    assert any(str(path) in r.getMessage() for r in caplog.records)
    assert run_once(task, out, cache, OPTIONS_A) == path
    assert read_result(path).primary.folds == expected

    predictions_path(path).unlink()
    problem = pair_problem(path, read_result(path))
    assert problem is not None and "predictions file missing" in problem
    assert [r.probe["name"] for r in read_results(out)] == ["knn"]
    run_once(task, out, cache, OPTIONS_A)
    assert predictions_path(path).is_file()
    assert recomputed(path) == list(expected)

    edited = loads_json(predictions_path(path).read_text())
    edited["folds"][0]["scores"][0][0] = 0.5
    predictions_path(path).write_text(dumps_json(edited))
    assert "does not match" in str(pair_problem(path, read_result(path)))


def test_flipped_cache_byte_is_recomputed_with_a_warning(
    task: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    path = run_once(task, out, cache, OPTIONS_A)
    expected = read_result(path).scores
    [entry] = [e for e in EmbeddingCache(cache).entries() if e.name.startswith("fold01")]
    array = entry / "embeddings.npy"
    data = bytearray(array.read_bytes())
    data[-5] ^= 0x10
    array.write_bytes(bytes(data))
    assert EmbeddingCache(cache).verify() == [f"{array}: checksum mismatch"]

    with caplog.at_level(logging.WARNING):
        run_local(
            [Job(EmbedderSpec("baseline"), str(task), "linear")],
            RunSettings(str(out), str(cache), probe_options=OPTIONS_A, with_complexity=False, progress=False, resume=False),
        )
    [warning] = [r.getMessage() for r in caplog.records if "checksum mismatch" in r.getMessage()]
    assert str(array) in warning and "recomputing" in warning
    result = read_result(path)
    assert result.timing["embeddings_computed"] == ["fold01"]
    assert {m: s.folds for m, s in result.scores.items()} == {m: s.folds for m, s in expected.items()}
    assert EmbeddingCache(cache).verify() == []


def test_truncated_manifest_is_reported_and_pruned(task: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    run_once(task, out, cache, OPTIONS_A)
    [entry] = [e for e in EmbeddingCache(cache).entries() if e.name.startswith("fold00")]
    manifest = entry / MANIFEST
    manifest.write_text(manifest.read_text()[:40])

    verify = CliRunner().invoke(main, ["cache", "verify", "--cache", str(cache)])
    assert verify.exit_code == 1 and "Traceback" not in verify.output
    [line] = [x for x in verify.output.splitlines() if str(manifest) in x]
    assert "unreadable manifest" in line
    assert "3 entries, 1 problem(s)" in verify.output

    prune = CliRunner().invoke(main, ["cache", "prune", "--cache", str(cache)])
    assert prune.exit_code == 0, prune.output
    assert f"removed {entry}" in prune.output
    assert len(EmbeddingCache(cache).entries()) == 2
    assert EmbeddingCache(cache).verify() == []


def test_leftover_temporary_files_are_removed_by_the_next_run_and_results_prune(
    task: Path, tmp_path: Path
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    path = run_once(task, out, cache, OPTIONS_A)
    dead = path.parent / f".{path.name}.{os.uname().nodename}-999999999.abc123.tmp"
    dead.write_text("{")
    alive = path.parent / f"{temp_prefix(path.name)}live12.tmp"
    alive.write_text("{")
    run_once(task, out, cache, OPTIONS_A)
    assert not dead.exists() and alive.exists()

    dead.write_text("{")
    outcome = CliRunner().invoke(main, ["results", "prune", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert f"removed {dead}" in outcome.output and "1 leftover(s) removed" in outcome.output
    assert prune_results(out) == []


def test_results_are_strict_json_and_keep_non_finite_scores(tmp_path: Path) -> None:
    result = Result(
        embedder={"name": "e", "id": "e"},
        task={"name": "t", "embedding_type": "scene"},
        probe={"name": "linear"},
        primary_metric="mAP",
        scores={"mAP": Score.from_folds([0.5]), "d_prime": Score(math.inf, math.nan, (math.inf,))},
    )
    path = write_result(tmp_path, result, None)

    def refuse(token: str) -> float:
        raise ValueError(f"non-standard token {token}")

    data = json.loads(path.read_text(), parse_constant=refuse)
    assert data["scores"]["d_prime"]["mean"] is None
    assert data["nonfinite"]["/scores/d_prime/mean"] == "Infinity"
    back = read_result(path)
    assert back.scores["d_prime"].mean == math.inf and math.isnan(back.scores["d_prime"].std)
    assert back.predictions_sha256 is None and back.paired

    legacy = tmp_path / "legacy.json"
    legacy.write_text('{"a": NaN, "b": [Infinity]}')
    parsed = loads_json(legacy.read_text())
    assert math.isnan(parsed["a"]) and parsed["b"] == [math.inf]


def test_new_predictions_recompute_every_metric_exactly(task: Path, tmp_path: Path) -> None:
    from hearbench import create_embedder
    from hearbench.runner import evaluate
    from hearbench.tasks.format import load_task

    result = evaluate(
        create_embedder("baseline"),
        load_task(task),
        "linear",
        cache=EmbeddingCache(tmp_path / "cache"),
        out_dir=tmp_path / "out",
        probe_options=OPTIONS_A,
        progress=False,
    )
    [path] = [p for p in (tmp_path / "out").rglob(f"{result.run_name}.json")]
    stored = read_predictions_file(predictions_path(path))
    assert not stored.legacy
    for metric, score in result.scores.items():
        fn = get_metric(metric)
        again = [float(fn(f.scores, f.targets)) for f in stored.folds if isinstance(f, SceneFold)]
        assert again == list(score.folds), metric


def test_results_written_before_the_predictions_digest_still_read() -> None:
    # a result and its predictions as an earlier release stored them (no digest, rounded scores)
    root = Path(__file__).resolve().parent / "data" / "legacy-results"
    [legacy] = read_results(root)
    assert not legacy.paired and legacy.primary.mean == pytest.approx(0.411, abs=5e-4)
    assert result_predictions(root, legacy) is not None


def test_stored_results_are_units_with_their_predictions() -> None:
    root = Path(__file__).resolve().parents[1] / "results"
    for folder in ("reference", "sweeps", "robustness", "event-metrics", "event-sweep"):
        results = read_results(root / folder)
        assert results and all(r.paired for r in results), folder


def test_out_of_space_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "sub" / "file.json"
    with pytest.raises(HearbenchError) as exc:
        write_bytes_atomic(target, b"{}")
    assert str(exc.value) == f"{target}: no space left on the device"
    assert list((tmp_path / "sub").iterdir()) == []


def test_unknown_probe_fails_at_once_in_one_line(tmp_path: Path) -> None:
    import time

    args = ["run", "--embedder", "mn04_as", "--task", str(tmp_path), "--probe", "linear",
            "--probe", "liner", "--out", str(tmp_path / "out")]
    start = time.perf_counter()
    outcome = CliRunner().invoke(main, args)
    elapsed = time.perf_counter() - start
    assert outcome.exit_code == 1
    assert outcome.stderr.strip() == "error: --probe 'liner': unknown probe; choose from linear, mlp, knn, sequence"
    assert elapsed < 2.0
    assert not (tmp_path / "out").exists()


def test_unsafe_weights_message_names_the_global(tmp_path: Path) -> None:
    import torch

    from hearbench.weights import load_state_dict

    path = tmp_path / "unsafe.pt"
    torch.save({"w": torch.ones(1), "extra": np.dtype("float32").type}, path)
    with pytest.raises(HearbenchError) as exc:
        load_state_dict(path)
    message = str(exc.value)
    assert "numpy" in message and "plain state dict" in message
    assert "weights_only=False" not in message and "\n" not in message


def test_runs_with_other_probe_options_sit_side_by_side(task: Path, tmp_path: Path) -> None:
    from hearbench.report.tables import build_leaderboard

    out, cache = tmp_path / "out", tmp_path / "cache"
    strong = run_once(task, out, cache, {"l2": 1000.0})
    weak = run_once(task, out, cache, OPTIONS_A)
    plain = run_once(task, out, cache, {})
    assert plain.name == "linear.json"
    assert len({strong, weak, plain}) == 3 and all(p.name.startswith("linear-") for p in (strong, weak))
    assert run_once(task, out, cache, {"l2": 1000.0}) == strong  # resumed, not replaced
    results = read_results(out)
    assert sorted(r.probe_label for r in results) == ["linear", "linear [l2=0.01]", "linear [l2=1000]"]
    assert read_result(strong).primary.mean < read_result(weak).primary.mean
    labels = sorted(row.label for row in build_leaderboard(results).rows)
    assert labels == ["baseline (linear [l2=0.01])", "baseline (linear [l2=1000])", "baseline (linear)"]
