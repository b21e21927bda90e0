"""Bad input: every case ends in a one-line :class:`HearbenchError` and leaves nothing half-written.

Through the command line the same cases exit with code 1 and a single ``error: ...`` line that
names the file or field at fault.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner, Result

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo
from hearbench.audio import read_audio
from hearbench.cache import MANIFEST, EmbeddingCache
from hearbench.cli import main
from hearbench.options import Option, OptionSet
from hearbench.registry import EmbedderCard, register_card
from hearbench.tasks.format import TaskItem, load_task, write_task
from hearbench.weights import Checkpoint, download, load_state_dict, load_strict, resolve_weights

SR = 16000
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def clips(data_dir: Path) -> list[tuple[str, str, np.ndarray]]:
    """``(name, digit, audio)`` of twelve short FSDD clips, digits 0 and 1."""
    rows = [r for r in csv.DictReader((data_dir / "fsdd" / "metadata.csv").open()) if r["label"] in "01"]
    rows = [r for r in rows if r["speaker"] == "george"][:6] + [r for r in rows if r["speaker"] == "jackson"][
        :6
    ]
    return [
        (Path(r["file"]).with_suffix(".wav").name, r["label"], read_audio(data_dir / r["file"])[0])
        for r in rows
    ]


def build_task(clips: list[tuple[str, str, np.ndarray]], out: Path, event: bool = False) -> Path:
    """A tiny ``trainvaltest`` digit task (scene, or event with one event per clip)."""
    splits = ["train"] * 3 + ["valid", "test", "test"]
    items = []
    for i, (name, digit, audio) in enumerate(clips):
        target: Any = [digit]
        if event:
            target = [{"label": digit, "start": 0.0, "end": round(len(audio) * 1000 / SR, 3)}]
        items.append(TaskItem(splits[i % 6], name, audio, SR, target))
    meta = {
        "task_name": "digits-event" if event else "digits",
        "version": "1",
        "embedding_type": "event" if event else "scene",
        "prediction_type": "multiclass",
        "split_mode": "trainvaltest",
        "sample_duration": 1.0,
        "evaluation": ["event_onset_200ms_fms"] if event else ["top1_acc"],
    }
    return write_task(out, meta, ["0", "1"], items, [SR])


@pytest.fixture(scope="module")
def scene_task(clips: list[tuple[str, str, np.ndarray]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_task(clips, tmp_path_factory.mktemp("scene") / "digits")


@pytest.fixture(scope="module")
def event_task(clips: list[tuple[str, str, np.ndarray]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_task(clips, tmp_path_factory.mktemp("event") / "digits-event", event=True)


@pytest.fixture
def task_copy(scene_task: Path, tmp_path: Path) -> Path:
    """A private copy of the scene task, free to damage."""
    return Path(shutil.copytree(scene_task, tmp_path / "task"))


def one_line(exc: pytest.ExceptionInfo[HearbenchError], *needles: str) -> str:
    """The error's message, checked to be one line holding every needle."""
    message = str(exc.value)
    assert "\n" not in message and message.strip() == message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def visible_lines(text: str) -> list[str]:
    """Lines as a terminal shows them (carriage returns overwrite), blank ones dropped."""
    return [line.split("\r")[-1] for line in text.split("\n") if line.split("\r")[-1].strip()]


def cli_fails(args: list[str], *needles: str) -> Result:
    """Run the command line in process; it must exit 1 with one ``error:`` line holding the needles."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, (result.output, result.exception)
    [line] = visible_lines(result.stderr)
    assert line.startswith("error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return result


def assert_cache_clean(cache: Path) -> None:
    """No entry is visible without its manifest, no temporary entry is left, all entries verify."""
    if not cache.exists():
        return
    for folder in cache.glob("*/*/*"):
        if folder.is_dir():
            assert not folder.name.startswith("."), f"temporary entry {folder} left behind"
            assert (folder / MANIFEST).is_file(), f"{folder} is visible without its manifest"
    assert EmbeddingCache(cache).verify() == []


def write_corrupt(path: Path) -> None:
    path.write_bytes(b"RIFF\x10\x00\x00\x00garbage, not audio" * 4)


def write_truncated(fmt: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        audio = 0.3 * np.sin(np.arange(SR, dtype=np.float32) / 7)
        full = path.with_name("full." + fmt.lower())
        sf.write(full, audio, SR, format=fmt, subtype="PCM_16")
        data = full.read_bytes()
        full.unlink()
        path.write_bytes(data[: len(data) // 2])

    return write


def write_empty(path: Path) -> None:
    sf.write(path, np.zeros(0, dtype=np.float32), SR, format="WAV", subtype="PCM_16")


def write_non_finite(value: float) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        audio = np.full(SR // 2, 0.1, dtype=np.float32)
        audio[100] = value
        sf.write(path, audio, SR, format="WAV", subtype="FLOAT")

    return write


def write_stereo(path: Path) -> None:
    sf.write(path, np.zeros((SR // 2, 2), dtype=np.float32), SR, format="WAV", subtype="PCM_16")


BAD_AUDIO: dict[str, tuple[Callable[[Path], object], str]] = {
    "corrupt": (write_corrupt, "cannot decode audio"),
    "zero-bytes": (lambda p: p.write_bytes(b""), "cannot decode audio"),
    "truncated-wav": (write_truncated("WAV"), "truncated"),
    "truncated-flac": (write_truncated("FLAC"), "cannot decode audio"),
    "zero-length": (write_empty, "zero length"),
    "nan": (write_non_finite(math.nan), "NaN or Inf"),
    "inf": (write_non_finite(math.inf), "NaN or Inf"),
    "stereo": (write_stereo, "2 channels"),
}


@pytest.mark.parametrize("kind", sorted(BAD_AUDIO))
def test_bad_audio(kind: str, task_copy: Path, tmp_path: Path) -> None:
    write, reason = BAD_AUDIO[kind]
    loose = tmp_path / f"{kind}.wav"
    write(loose)
    with pytest.raises(HearbenchError) as exc:
        read_audio(loose)
    one_line(exc, str(loose), reason)

    victim = sorted((task_copy / "16000" / "train").iterdir())[0]
    write(victim)
    # without its builder's manifest (as a HEAR archive) the damage reaches the audio reader
    (task_copy / "audio_manifest.json").unlink()
    cache = tmp_path / "cache"
    cli_fails(
        ["embed", "--embedder", "baseline", "--task", str(task_copy), "--cache", str(cache)],
        victim.name,
        reason,
    )
    assert_cache_clean(cache)
    assert not [e for e in EmbeddingCache(cache).entries() if e.name.startswith("train")]
    outcome = CliRunner().invoke(main, ["tasks", "validate", str(task_copy)])
    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    [line] = [x for x in outcome.output.splitlines() if victim.name in x]
    assert reason in line, outcome.output


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _first_train_label(split: dict[str, list[str]]) -> None:
    split[sorted(split)[0]] = ["zebra"]


BAD_METADATA: dict[str, tuple[Callable[[Path], object], tuple[str, ...]]] = {
    "missing-field": (
        lambda t: _edit_json(t / "task_metadata.json", lambda m: m.pop("embedding_type")),
        ("task_metadata.json", "'embedding_type'", "missing"),
    ),
    "wrong-type": (
        lambda t: _edit_json(t / "task_metadata.json", lambda m: m.update(evaluation="top1_acc")),
        ("task_metadata.json", "'evaluation'", "list"),
    ),
    "bad-choice": (
        lambda t: _edit_json(t / "task_metadata.json", lambda m: m.update(split_mode="random")),
        ("task_metadata.json", "'split_mode'", "random"),
    ),
    "label-not-in-vocabulary": (
        lambda t: _edit_json(t / "train.json", _first_train_label),
        ("train.json", "'zebra'", "vocabulary"),
    ),
    "missing-split-file": (lambda t: (t / "valid.json").unlink(), ("valid.json", "missing")),
    "missing-sample-rate-folder": (lambda t: shutil.rmtree(t / "16000"), ("sample-rate folder",)),
    "missing-split-folder": (lambda t: shutil.rmtree(t / "16000" / "valid"), ("16000/valid", "missing")),
    "missing-audio-file": (
        lambda t: sorted((t / "16000" / "test").iterdir())[0].unlink(),
        ("16000/test/", "audio file missing"),
    ),
    "bad-vocabulary": (
        lambda t: (t / "labelvocabulary.csv").write_text("idx,label\n0,a\n0,b\n"),
        ("labelvocabulary.csv", "idx"),
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_METADATA))
def test_inconsistent_task(kind: str, task_copy: Path, tmp_path: Path) -> None:
    damage, needles = BAD_METADATA[kind]
    damage(task_copy)
    with pytest.raises(HearbenchError) as exc:
        load_task(task_copy)
    one_line(exc, *needles)
    cache = tmp_path / "cache"
    cli_fails(["embed", "--embedder", "baseline", "--task", str(task_copy), "--cache", str(cache)], *needles)
    assert_cache_clean(cache)
    assert EmbeddingCache(cache).entries() == []


class FaultyEmbedder(Embedder):
    """An embedder that breaks the contract in the way its ``fault`` option names."""

    sample_rate = SR
    OPTIONS = OptionSet("faulty", (Option("fault", "str", "none", "the contract rule to break"),))

    def __init__(
        self,
        *,
        card: EmbedderCard,
        options: Mapping[str, Any],
        weights: str | None = None,
        pretrained: bool = True,
    ) -> None:
        self.fault = str(options.get("fault", "none"))
        super().__init__(EmbedderConfig(name=card.name, options=dict(options)))

    def layer_info(self) -> tuple[LayerInfo, ...]:
        return (LayerInfo(0, "out", 8, 50.0),)

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, samples = audio.shape
        steps = samples * 1000 // SR // 50 + 1
        stamps = (torch.arange(steps, dtype=torch.float32) * 50.0).expand(n, -1).clone()
        emb = audio[:, : steps * 8].reshape(n, steps, 8).clone()
        if self.fault == "nan":
            emb[:, 1, 0] = math.nan
        elif self.fault == "inf":
            emb[:, 1, 0] = math.inf
        elif self.fault == "width":
            emb = emb[..., :5]
        elif self.fault == "frames":
            stamps = stamps[:, :-1]
        elif self.fault == "uneven":
            stamps[:, 2:] += 7.0
        return emb, stamps

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        emb, _ = self.timestamp_embeddings(audio)
        return emb.mean(dim=1)


FAULTS: dict[str, tuple[str, str]] = {
    "nan": ("scene", "NaN or Inf"),
    "inf": ("event", "NaN or Inf"),
    "width": ("scene", "expected (6, 8)"),
    "frames": ("event", "do not match"),
    "uneven": ("event", "not evenly spaced"),
}


@pytest.fixture(scope="module", autouse=True)
def faulty_cards() -> None:
    for fault in FAULTS:
        register_card(EmbedderCard(f"faulty_{fault}", f"{__name__}:FaultyEmbedder", {"fault": fault}))
    register_card(EmbedderCard("faulty_none", f"{__name__}:FaultyEmbedder", {"fault": "none"}))


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_embedder_breaking_the_contract(
    fault: str, scene_task: Path, event_task: Path, tmp_path: Path
) -> None:
    kind, reason = FAULTS[fault]
    task = scene_task if kind == "scene" else event_task
    cache = tmp_path / "cache"
    cli_fails(
        ["embed", "--embedder", f"faulty_{fault}", "--task", str(task), "--cache", str(cache)],
        f"faulty_{fault}",
        reason,
    )
    assert_cache_clean(cache)
    assert EmbeddingCache(cache).entries() == []


def test_contract_abiding_embedder_passes(scene_task: Path, event_task: Path, tmp_path: Path) -> None:
    for task in (scene_task, event_task):
        result = CliRunner().invoke(
            main, ["embed", "--embedder", "faulty_none", "--task", str(task), "--cache", str(tmp_path)]
        )
        assert result.exit_code == 0, result.output
    assert len(EmbeddingCache(tmp_path).entries()) == 6


def test_checkpoint_with_wrong_keys_lists_them(tmp_path: Path) -> None:
    first = torch.nn.Linear(4, 3)
    model = torch.nn.Sequential(first, torch.nn.ReLU(), torch.nn.Linear(3, 2))
    state = model.state_dict()
    before = {k: v.clone() for k, v in state.items()}
    state["2.scale"] = state.pop("2.bias")
    state["0.weight"] = torch.zeros(3, 5)
    with pytest.raises(HearbenchError) as exc:
        load_strict(model, state, "ckpt.pt")
    one_line(
        exc, "ckpt.pt", "missing keys [2.bias]", "unexpected keys [2.scale]", "0.weight (3, 5) != (3, 4)"
    )
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert torch.count_nonzero(first.weight) > 0

    path = tmp_path / "mn04_wrong.pt"
    torch.save({"features.0.weight": torch.zeros(1)}, path)
    cli_fails(
        ["embed", "--embedder", "mn04_as", "--weights", str(path), "--task", str(tmp_path / "unused")],
        str(path),
        "missing keys",
        "unexpected keys [features.0.weight]",
    )


def test_checksum_mismatch_leaves_no_file(tmp_path: Path) -> None:
    source = tmp_path / "remote" / "model.pt"
    source.parent.mkdir()
    torch.save({"w": torch.ones(3)}, source)
    url = source.as_uri()
    wrong = "0" * 64
    target = tmp_path / "weights" / "model.pt"
    with pytest.raises(HearbenchError) as exc:
        download(url, target, sha256=wrong)
    one_line(exc, url, "sha256 mismatch", wrong)
    assert list(target.parent.iterdir()) == []

    cache = tmp_path / "weights-cache"
    checkpoint = Checkpoint(url, "model.pt", wrong)
    with pytest.raises(HearbenchError) as exc:
        resolve_weights("toy", checkpoint, None, cache_dir=cache)
    one_line(exc, "toy", str(cache / "model.pt"), "sha256 mismatch", "--weights")
    assert list(cache.iterdir()) == []

    shutil.copy(source, cache / "model.pt")
    with pytest.raises(HearbenchError) as exc:
        resolve_weights("toy", checkpoint, None, cache_dir=cache)
    one_line(exc, str(cache / "model.pt"), "sha256 mismatch", "delete it")

    good = Checkpoint(url, "fresh.pt", hashlib.sha256(source.read_bytes()).hexdigest())
    assert resolve_weights("toy", good, None, cache_dir=cache).read_bytes() == source.read_bytes()


class Pickled:
    """A class a weights-only load must refuse to rebuild."""

    def __init__(self) -> None:
        self.tensor = torch.ones(2)


def test_checkpoint_needing_unsafe_unpickling_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "unsafe.pt"
    torch.save({"state_dict": {"w": torch.ones(2)}, "extra": Pickled()}, path)
    with pytest.raises(HearbenchError) as exc:
        load_state_dict(path)
    one_line(exc, str(path), "weights-only", "Unsupported global", "Pickled")

    truncated = tmp_path / "truncated.pt"
    torch.save({"w": torch.ones(1000)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(HearbenchError) as exc:
        load_state_dict(truncated)
    one_line(exc, str(truncated))

    cli_fails(["check", "mn04_as", "--weights", str(path)], str(path), "weights-only")


def test_failing_job_does_not_stop_the_grid(task_copy: Path, scene_task: Path, tmp_path: Path) -> None:
    write_corrupt(sorted((task_copy / "16000" / "test").iterdir())[0])
    _edit_json(task_copy / "task_metadata.json", lambda m: m.update(task_name="digits-broken"))
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hearbench.cli",
            "run",
            "--embedder",
            "baseline",
            "--task",
            str(task_copy),
            "--task",
            str(scene_task),
            "--probe",
            "knn",
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--no-complexity",
        ],
        capture_output=True,
        text=True,
        env=SUBPROCESS_ENV,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[-1] == "1 succeeded, 1 failed"
    [failed] = [line for line in lines if line.startswith("FAIL")]
    assert "task × knn" in failed and "audio changed since the task's manifest was recorded" in failed
    assert [line for line in lines if line.startswith("ok")] == [lines[1]]
    assert (out / "baseline" / "digits" / "knn.json").is_file()
    assert not (out / "baseline" / "digits-broken").exists()
    assert_cache_clean(cache)
    # the damaged task fails its audio manifest before embedding anything: the good task's 3 splits
    assert len(EmbeddingCache(cache).entries()) == 3
