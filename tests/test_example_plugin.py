"""The worked plugin package under examples/: installed, listed, checked and run end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from test_identity import tone_task

try:
    distribution("hearbench-example-plugin")
except PackageNotFoundError:
    if os.environ.get("HEARBENCH_EXAMPLE_REQUIRED") or os.environ.get("CI"):
        raise
    pytest.skip(
        "examples/hearbench-example-plugin is not installed (make example installs it)",
        allow_module_level=True,
    )


def hearbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hearbench.cli", *args], capture_output=True, text=True, cwd=cwd,
        check=False, timeout=600,
    )


def test_the_example_plugin_lists_checks_and_runs(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "hearbench_example_plugin", str(tmp_path / "dct.pt")], check=True)
    listed = hearbench("list", "embedders", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert {"example_logmel", "example_logmel_wide"} <= set(names)
    families = hearbench("list", "families", cwd=tmp_path)
    assert "  dim (an int >= 1; default 20): width of the projection (rows of the weights matrix)" in families.stdout

    checked = hearbench("check", "example_logmel", "--weights", "dct.pt", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith("example_logmel: all checks passed")
    wide = hearbench("check", "example_logmel_wide", "--random-weights", cwd=tmp_path)
    assert wide.returncode == 0, wide.stdout + wide.stderr

    bad = hearbench("check", "example_logmel", "--weights", "dct.pt", "--option", "dims=3", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: example_logmel: unknown option 'dims'; known: dim, hop_ms, n_mels"

    task = tone_task(tmp_path / "tones")
    run = hearbench(
        "run", "--embedder", "example_logmel", "--weights", "dct.pt", "--task", str(task),
        "--probe", "linear", "--out", "results", "--cache", "cache", "--no-complexity", cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [result_file] = (tmp_path / "results").rglob("linear.json")
    result = json.loads(result_file.read_text())
    assert result["embedder"]["name"] == "example_logmel"
    assert result["embedder"]["weights_sha256"] is not None
    assert result["scores"]["top1_acc"]["mean"] == 1.0
