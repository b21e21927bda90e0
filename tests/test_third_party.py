"""Third-party code that fails reaches the user as one line; ``--debug`` shows the traceback.
Per-embedder weights let one ``run`` grid mix a weight-free and a pretrained embedder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import fsdd_task

from hearbench.cli import main, weights_by_embedder
from hearbench.results import read_results

SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}

BROKEN_MODULE = '''
import torch


class Model(torch.nn.Module):
    sample_rate = 16000
    scene_embedding_size = 4
    timestamp_embedding_size = 4


def load_model(model_file_path="", **options):
    if options.get("ok"):
        return Model()
    import librosa_stand_in

    return librosa_stand_in.mel(16000, 2048)


def get_timestamp_embeddings(audio, model):
    raise RuntimeError("embedding exploded\\nsecond line")


def get_scene_embeddings(audio, model):
    raise RuntimeError("embedding exploded\\nsecond line")
'''

STAND_IN = '''
def mel(*, sr, n_fft):
    return None
'''


@pytest.fixture
def broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A HEAR module whose ``load_model`` raises a TypeError from a library it calls."""
    (tmp_path / "brokenhear.py").write_text(BROKEN_MODULE)
    (tmp_path / "librosa_stand_in.py").write_text(STAND_IN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("HEARBENCH_DEBUG", raising=False)
    yield "brokenhear"
    for name in ("brokenhear", "librosa_stand_in"):
        sys.modules.pop(name, None)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_failing_load_model_is_one_line_and_debug_shows_the_traceback(broken_module: str) -> None:
    expected = (
        f"error: hear:{broken_module}: load_model failed: TypeError: "
        "mel() takes 0 positional arguments but 2 were given"
    )
    for command in ("check", "complexity"):
        outcome = CliRunner().invoke(main, [command, f"hear:{broken_module}"])
        assert outcome.exit_code == 1
        assert lines(outcome.stderr) == [expected], outcome.stderr

    debug = CliRunner().invoke(main, ["--debug", "check", f"hear:{broken_module}"])
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert 'librosa_stand_in.mel(16000, 2048)' in debug.stderr
    assert lines(debug.stderr)[-1] == expected

    env = CliRunner(env={"HEARBENCH_DEBUG": "1"}).invoke(main, ["check", f"hear:{broken_module}"])
    assert "Traceback" in env.stderr


def test_failing_embedding_function_is_one_line(broken_module: str, tmp_path: Path, data_dir: Path) -> None:
    task = fsdd_task(data_dir, tmp_path / "task", "fsdd-x", ("0", "1"), per_fold=1)
    outcome = CliRunner().invoke(
        main,
        ["embed", "--embedder", f"hear:{broken_module}", "--option", "ok=true", "--task", str(task),
         "--cache", str(tmp_path / "cache")],
    )
    assert outcome.exit_code == 1
    assert lines(outcome.stderr) == [
        f"error: hear:{broken_module}: get_scene_embeddings failed: RuntimeError: embedding exploded"
    ]


def test_a_library_error_outside_hearbench_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import hearbench.registry

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyError("plugin constructor broke")

    monkeypatch.setattr(hearbench.registry, "create_embedder", boom)
    outcome = CliRunner().invoke(main, ["check", "baseline"])
    assert outcome.exit_code == 1
    assert lines(outcome.stderr) == [
        "error: KeyError: 'plugin constructor broke' (--debug shows the traceback)"
    ]


def test_weights_by_embedder() -> None:
    assert weights_by_embedder(["mn04_as"], ["w.pt"]) == {"mn04_as": "w.pt"}
    assert weights_by_embedder(["mn04_as"], ["mn04_as=w.pt"]) == {"mn04_as": "w.pt"}
    assert weights_by_embedder(["baseline", "mn04_as"], ["mn04_as=a=b.pt"]) == {
        "baseline": None,
        "mn04_as": "a=b.pt",
    }
    with pytest.raises(Exception, match="NAME=PATH, NAME one of baseline, mn04_as"):
        weights_by_embedder(["baseline", "mn04_as"], ["w.pt"])
    with pytest.raises(Exception, match="two weights files for mn04_as"):
        weights_by_embedder(["mn04_as"], ["mn04_as=a.pt", "b.pt"])


def test_one_run_with_the_baseline_and_mn04_as_on_its_own_weights(
    data_dir: Path, reference_dir: Path, tmp_path: Path
) -> None:
    weights = reference_dir / "weights" / "mn04_as.pt"
    task = fsdd_task(data_dir, tmp_path / "task", "fsdd-two", ("0", "1"), per_fold=2)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "hearbench.cli", "run", "--embedder", "baseline", "--embedder", "mn04_as",
         "--weights", f"mn04_as={weights}", "--task", str(task), "--probe", "knn", "--out", str(out),
         "--cache", str(tmp_path / "cache"), "--no-complexity"],
        capture_output=True,
        text=True,
        env={**SUBPROCESS_ENV, "HEARBENCH_WEIGHTS": str(tmp_path / "no-weights-here")},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "2 succeeded, 0 failed" in done.stdout
    results = {r.embedder_id: r for r in read_results(out)}
    assert sorted(results) == ["baseline", "mn04_as"]
    from hearbench.weights import sha256_file

    assert results["mn04_as"].embedder["weights_sha256"] == sha256_file(weights)
    assert results["mn04_as"].embedder["pretrained"] is True
    assert results["baseline"].embedder.get("weights_sha256") is None
