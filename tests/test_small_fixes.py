"""User-facing details: complexity without weights, CI without the data."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from hearbench.cli import main
from hearbench.registry import EmbedderCard, register_card
from hearbench.weights import Checkpoint

REPO = Path(__file__).resolve().parents[1]


def test_complexity_needs_no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARBENCH_WEIGHTS", str(tmp_path / "weights"))
    missing = Checkpoint((tmp_path / "nowhere.pt").as_uri(), "nowhere.pt")
    register_card(EmbedderCard("mn04_offline", "mobilenet", {"arch": "mn", "width_mult": 0.4}, missing))
    done = CliRunner().invoke(main, ["complexity", "mn04_offline", "--seconds", "1", "--json"])
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    assert figures["params"] > 400_000
    assert "architecture-only counts, latency on random weights" in figures["note"]
    assert "nowhere.pt" in figures["note"]
    bad = CliRunner().invoke(main, ["complexity", "mn04_offline", "--option", "widht=2"])
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "error: mn04_offline: unknown option 'widht'; known: " + ", ".join(
        sorted(["arch", "width_mult", "n_mels", "hop_size", "mode", "hop_ms", "window_ms",
                "scene_window_ms", "scene_hop_ms", "layers", "time_strides", "temperature", "frontend",
                "stride_layout"])
    )


def test_ci_fails_instead_of_skipping_without_the_data(tmp_path: Path) -> None:
    repo = tmp_path / "clone"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", repo / ".ci" / "run")
    done = subprocess.run(
        ["bash", str(repo / ".ci" / "run")], capture_output=True, text=True, env={"CI": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: CI is set but ../shared/data is missing; the tests that need it would skip"
    )


def test_upsampling_is_announced_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from hearbench.embed import load_clip
    from hearbench.tasks.format import load_task
    from hearbench.tasks.synthetic import build_synthetic_task

    task = load_task(build_synthetic_task("demo-pitch", tmp_path / "t", sample_rates=(16000, 8000)))
    split = task.split_names[0]
    first, second = task.files(split)[:2]
    with caplog.at_level("INFO", logger="hearbench.embed"):
        clip = load_clip(task, split, first, 44100)
        load_clip(task, split, second, 44100)
        load_clip(task, split, first, 12000)
    assert clip.shape == (round(task.sample_duration * 44100),)
    upsampled = [r for r in caplog.records if "upsampling from 16000 Hz" in r.getMessage()]
    assert len(upsampled) == 1 and upsampled[0].levelname == "WARNING"
    assert "nothing above 8000 Hz" in upsampled[0].getMessage()
    down = [r for r in caplog.records if "resampling from 16000 Hz" in r.getMessage()]
    assert len(down) == 1 and down[0].levelname == "INFO"
