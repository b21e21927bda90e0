"""The task checksum covers every audio file: changed audio is never embedded silently."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_identity import tone_task

from hearbench.api import HearbenchError
from hearbench.cache import EmbeddingCache
from hearbench.cli import main
from hearbench.embed import embed_task
from hearbench.registry import create_embedder
from hearbench.tasks.format import load_task
from hearbench.tasks.manifest import MANIFEST, write_manifest
from hearbench.tasks.validate import validate_task


@pytest.fixture(autouse=True)
def _private_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARBENCH_MANIFESTS", str(tmp_path / "manifests"))


def _run(task: Path, out: Path, cache: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["run", "--embedder", "baseline", "--task", str(task), "--probe", "linear",
         "--out", str(out), "--cache", str(cache), "--no-complexity"],
    )
    return result.exit_code, result.output


def test_the_builder_records_every_audio_file(tmp_path: Path) -> None:
    task = tone_task(tmp_path / "tones")
    manifest = json.loads((task / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(
        str(p.relative_to(task)) for p in (task / "16000").rglob("*.wav")
    )
    first = manifest["files"]["16000/test/test_0.wav"]
    assert first["size"] == (task / "16000/test/test_0.wav").stat().st_size
    assert len(first["sha256"]) == 64


def test_a_truncated_wav_after_a_first_run_fails_the_second_and_writes_nothing(tmp_path: Path) -> None:
    task, out, cache = tone_task(tmp_path / "tones"), tmp_path / "results", tmp_path / "cache"
    code, output = _run(task, out, cache)
    assert code == 0, output
    stored = out / "baseline" / "tones" / "linear.json"
    before = stored.read_bytes()
    victim = task / "16000" / "train" / "train_1.wav"
    victim.write_bytes(victim.read_bytes()[:1000])
    code, output = _run(task, out, cache)
    assert code == 1
    [failure] = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert str(victim) in failure and "audio changed since the task's manifest was recorded" in failure
    assert "1000 bytes" in failure
    assert stored.read_bytes() == before
    assert [p.name for p in (out / "baseline").iterdir()] == ["tones"]


def test_same_size_changes_are_found_by_content(tmp_path: Path) -> None:
    task = tone_task(tmp_path / "tones")
    victim = task / "16000" / "valid" / "valid_0.wav"
    data = bytearray(victim.read_bytes())
    data[-10:] = bytes(10)
    victim.write_bytes(bytes(data))
    with pytest.raises(HearbenchError, match=r"valid_0.wav: audio content changed"):
        load_task(task).checksum()


def test_validate_rehashes_what_the_cheap_check_trusts(tmp_path: Path) -> None:
    task = tone_task(tmp_path / "tones")
    load_task(task).checksum()  # records sizes and modification times
    victim = task / "16000" / "test" / "test_2.wav"
    stat = victim.stat()
    data = bytearray(victim.read_bytes())
    data[-4:] = b"\x7f\x7f\x7f\x7f"
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    load_task(task).checksum()  # the cheap check cannot see it
    problems = validate_task(task)
    assert problems == [f"{victim}: audio differs from its manifest record ({task / MANIFEST})"]


def test_a_rebuilt_split_invalidates_exactly_its_own_embeddings(tmp_path: Path) -> None:
    task_dir = tone_task(tmp_path / "tones")
    embedder = create_embedder("baseline")
    cache = EmbeddingCache(tmp_path / "cache")
    task = load_task(task_dir)
    before = task.checksum()
    _, first = embed_task(embedder, task, cache, progress=False)
    assert sorted(first.computed) == ["test", "train", "valid"]
    victim = task_dir / "16000" / "valid" / "valid_1.wav"
    data = bytearray(victim.read_bytes())
    data[-100:] = bytes(100)
    victim.write_bytes(bytes(data))
    rels = [str(p.relative_to(task_dir)) for p in (task_dir / "16000").rglob("*.wav")]
    write_manifest(task_dir, rels)  # what a rebuild with other audio does
    task = load_task(task_dir)
    assert task.checksum() != before
    _, second = embed_task(embedder, task, cache, progress=False)
    assert list(second.computed) == ["valid"]
    assert sorted(second.cached) == ["test", "train"]


def test_a_task_without_manifest_gets_one_computed_on_first_use(tmp_path: Path) -> None:
    task_dir = tone_task(tmp_path / "tones")
    (task_dir / MANIFEST).unlink()
    first = load_task(task_dir).checksum()
    recorded = list((tmp_path / "manifests").iterdir())
    assert len(recorded) == 1 and recorded[0].name.startswith("tones-")
    assert load_task(task_dir).checksum() == first
    victim = task_dir / "16000" / "train" / "train_0.wav"
    victim.write_bytes(victim.read_bytes()[:-2])
    with pytest.raises(HearbenchError, match=rf"^{victim}: audio changed .* rebuild the task or remove {recorded[0]}$"):
        load_task(task_dir).checksum()


def test_tasks_build_uses_an_empty_existing_folder_and_names_the_flag(tmp_path: Path) -> None:
    out = tmp_path / "pitch"
    out.mkdir()
    runner = CliRunner()
    done = runner.invoke(main, ["tasks", "build", "demo-pitch", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert (out / "task_metadata.json").is_file()
    again = runner.invoke(main, ["tasks", "build", "demo-pitch", "--out", str(out)])
    assert again.exit_code == 1
    assert again.stderr.strip() == f"error: {out}: already exists (use --overwrite to replace it)"
    assert len(load_task(out).checksum()) == 64
