"""Crashes and concurrency: a killed run resumes to the same results; nothing half-written shows.

Runs go through real subprocesses (the ``hearbench`` command line or small scripts), killed
with SIGKILL, so no cleanup code gets a chance to run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import fsdd_task

from hearbench.cache import MANIFEST, EmbeddingCache
from hearbench.results import predictions_path, read_result

FOLDS = ["fold00", "fold01", "fold02"]
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def tasks(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three tiny digit tasks."""
    root = tmp_path_factory.mktemp("tasks")
    return [
        fsdd_task(data_dir, root / name, name, digits)
        for name, digits in (("fsdd-a", ("0", "1")), ("fsdd-b", ("2", "3")), ("fsdd-c", ("4", "5")))
    ]


def run_command(tasks: list[Path], out: Path, cache: Path) -> list[str]:
    """The ``hearbench run`` command line of the grid: baseline × tasks × (linear, knn)."""
    command = [
        sys.executable,
        "-m",
        "hearbench.cli",
        "run",
        "--embedder",
        "baseline",
        "--probe",
        "linear",
        "--probe",
        "knn",
        "--probe-option",
        "l2=0.01",
        "--out",
        str(out),
        "--cache",
        str(cache),
        "--no-complexity",
    ]
    for task in tasks:
        command += ["--task", str(task)]
    return command


def result_files(out: Path) -> dict[Path, bytes]:
    """Every final result file under ``out`` and its bytes."""
    return {
        p: p.read_bytes()
        for p in sorted(out.rglob("*.json"))
        if not p.name.startswith(".") and not p.name.endswith(".predictions.json")
    }


def scores_of(path: Path) -> dict[str, tuple[float, ...]]:
    return {metric: score.folds for metric, score in read_result(path).scores.items()}


def assert_nothing_half_written(out: Path, cache: Path) -> None:
    """Every visible result is whole (with its predictions); every visible cache entry is complete."""
    for path in result_files(out):
        read_result(path)
        json.loads(predictions_path(path).read_text(encoding="utf-8"))
    store = EmbeddingCache(cache)
    for folder in cache.glob("*/*/*"):
        if folder.is_dir() and not folder.name.startswith("."):
            assert (folder / MANIFEST).is_file(), f"{folder} is visible without its manifest"
    assert store.verify() == []


def cached_splits(cache: Path) -> set[tuple[str, str]]:
    """``(task, split)`` of every complete cache entry."""
    keys = [json.loads((f / MANIFEST).read_text())["key"] for f in EmbeddingCache(cache).entries()]
    return {(k["task"], k["split"]) for k in keys}


@pytest.mark.slow
def test_killed_run_resumes_to_the_uninterrupted_results(tasks: list[Path], tmp_path: Path) -> None:
    reference = subprocess.run(
        run_command(tasks, tmp_path / "ref", tmp_path / "ref-cache"),
        capture_output=True,
        text=True,
        env=SUBPROCESS_ENV,
        timeout=300,
    )
    assert reference.returncode == 0, reference.stderr
    expected = {p.relative_to(tmp_path / "ref"): scores_of(p) for p in result_files(tmp_path / "ref")}
    assert len(expected) == 6

    out, cache = tmp_path / "out", tmp_path / "cache"
    command = run_command(tasks, out, cache)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=SUBPROCESS_ENV
    )
    try:
        deadline = time.monotonic() + 240
        while not result_files(out) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL

    assert_nothing_half_written(out, cache)
    before = result_files(out)
    assert 1 <= len(before) < 6
    splits_before = cached_splits(cache)
    prune = subprocess.run(
        [sys.executable, "-m", "hearbench.cli", "cache", "prune", "--cache", str(cache)],
        capture_output=True,
        text=True,
        env=SUBPROCESS_ENV,
        timeout=120,
    )
    assert prune.returncode == 0, prune.stderr
    assert not [p for p in cache.glob("*/*/.*") if p.is_dir()]
    assert cached_splits(cache) == splits_before

    resumed = subprocess.run(command, capture_output=True, text=True, env=SUBPROCESS_ENV, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "6 succeeded, 0 failed" in resumed.stdout
    after = result_files(out)
    for path, data in before.items():
        assert after[path] == data, f"{path} was recomputed instead of resumed"
    computed_on_resume: dict[str, list[str]] = {}
    for path in set(after) - set(before):
        result = read_result(path)
        computed_on_resume.setdefault(str(result.task["name"]), []).extend(
            result.timing["embeddings_computed"]
        )
    for name, computed in computed_on_resume.items():
        assert sorted(computed) == [s for s in FOLDS if (name, s) not in splits_before], name
    assert {p.relative_to(out): scores_of(p) for p in after} == expected
    assert_nothing_half_written(out, cache)


CRASH_SCRIPT = """
import os, signal, sys
import numpy as np
from hearbench import create_embedder
from hearbench.cache import EmbeddingCache
from hearbench.embed import embed_task
from hearbench.runner import evaluate
from hearbench.tasks.format import load_task

where, task_dir, cache_dir, out_dir = sys.argv[1:5]
embedder, task, cache = create_embedder("baseline"), load_task(task_dir), EmbeddingCache(cache_dir)

def die(real):
    def patched(*args, **kwargs):
        real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    return patched

if where == "cache":
    np.save = die(np.save)
    embed_task(embedder, task, cache, progress=False)
else:
    embed_task(embedder, task, cache, progress=False)
    os.fsync = die(os.fsync)
    evaluate(embedder, task, "knn", cache=cache, out_dir=out_dir, progress=False)
"""


@pytest.mark.parametrize("where", ["cache", "result"])
def test_crash_while_writing_leaves_only_temporary_files(
    tasks: list[Path], tmp_path: Path, where: str
) -> None:
    cache, out = tmp_path / "cache", tmp_path / "out"
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, where, str(tasks[0]), str(cache), str(out)],
        capture_output=True,
        text=True,
        env=SUBPROCESS_ENV,
        timeout=120,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert_nothing_half_written(out, cache)
    if where == "cache":
        assert EmbeddingCache(cache).entries() == []
        leftovers = [p for p in cache.glob("*/*/.*") if p.is_dir()]
        assert len(leftovers) == 1
        assert list(leftovers[0].iterdir())
        assert EmbeddingCache(cache).prune() == leftovers
        assert not leftovers[0].exists()
    else:
        assert len(EmbeddingCache(cache).entries()) == 3
        assert result_files(out) == {}
        assert [
            p.name.startswith(".") and p.name.endswith(".tmp") for p in out.rglob("*") if p.is_file()
        ] == [True]

    from hearbench import create_embedder
    from hearbench.runner import evaluate
    from hearbench.tasks.format import load_task

    result = evaluate(
        create_embedder("baseline"),
        load_task(tasks[0]),
        "knn",
        cache=EmbeddingCache(cache),
        out_dir=out,
        progress=False,
    )
    assert result.timing["embeddings_computed"] == (FOLDS if where == "cache" else [])
    assert len(result_files(out)) == 1
    assert_nothing_half_written(out, cache)


CONCURRENT_SCRIPT = """
import json, sys, time
from pathlib import Path
from hearbench import create_embedder
from hearbench.cache import EmbeddingCache
from hearbench.embed import embed_task
from hearbench.tasks.format import load_task

task_dir, cache_dir, ready, go = sys.argv[1:5]
embedder, task = create_embedder("baseline"), load_task(task_dir)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
_, report = embed_task(embedder, task, EmbeddingCache(cache_dir), progress=False)
print(json.dumps({"computed": report.computed, "cached": report.cached}))
"""


def test_two_processes_share_one_cache(tasks: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CONCURRENT_SCRIPT,
                str(tasks[1]),
                str(cache),
                str(tmp_path / f"ready{i}"),
                str(go),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=SUBPROCESS_ENV,
        )
        for i in range(2)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    reports = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    computed = sorted(s for r in reports for s in r["computed"])
    cached = sorted(s for r in reports for s in r["cached"])
    assert computed == FOLDS, reports
    assert cached == FOLDS, reports
    store = EmbeddingCache(cache)
    assert len(store.entries()) == 3
    assert store.verify() == []
    assert not [p for p in cache.glob("*/*/.*") if p.is_dir()]


def test_resume_reuses_a_result_only_for_the_same_probe_options(
    tasks: list[Path], tmp_path: Path
) -> None:
    from hearbench.executors import EmbedderSpec, Job, RunSettings, run_local

    out, cache = tmp_path / "results", tmp_path / "cache"
    job = Job(EmbedderSpec("baseline"), str(tasks[0]), "linear")

    def run(options: dict[str, object]) -> dict[str, object]:
        settings = RunSettings(
            out_dir=str(out), cache_dir=str(cache), probe_options=options, with_complexity=False,
            progress=False,
        )
        [outcome] = run_local([job], settings)
        assert outcome.ok and outcome.result_path is not None, outcome.error
        return json.loads(Path(outcome.result_path).read_text(encoding="utf-8"))

    first = run({})
    assert first["probe"]["options"] == {}
    assert run({}) == first  # reused as it was
    narrowed = run({"l2": 0.1})
    assert narrowed["probe"]["options"] == {"l2": 0.1}
    assert narrowed["probe"]["params"]["l2"] == 0.1
