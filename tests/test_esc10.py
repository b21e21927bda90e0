"""The ESC-10 builder on the original release files in ../shared/data/esc10."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hearbench.api import HearbenchError
from hearbench.tasks.builders import BUILDERS
from hearbench.tasks.format import load_task


@pytest.fixture(scope="module")
def esc10_task(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("esc10") / "esc10"
    BUILDERS["esc10"].build(data_dir / "esc10", out, [16000, 32000], progress=False)
    return out


def test_esc10_keeps_the_official_folds(esc10_task: Path, data_dir: Path) -> None:
    meta = json.loads((esc10_task / "task_metadata.json").read_text())
    assert (meta["split_mode"], meta["nfolds"]) == ("presplit_kfold", 4)
    assert meta["fold_sources"] == {f"fold{i:02d}": f"fold{i + 1}" for i in range(4)}
    with (data_dir / "esc10" / "metadata.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 320
    for fold in range(4):
        labels = json.loads((esc10_task / f"fold{fold:02d}.json").read_text())
        # every clip's fold is the fold its file name starts with, as the release's CSV says
        assert all(name.split("-")[0] == str(fold + 1) for name in labels)
        assert {row["file"].rsplit("/", 1)[1][:-4] + ".wav" for row in rows if row["fold"] == str(fold + 1)} == set(labels)
        counts: dict[str, int] = {}
        for target in labels.values():
            counts[target[0]] = counts.get(target[0], 0) + 1
        assert len(counts) == 10 and set(counts.values()) == {8}
    task = load_task(esc10_task)
    assert len(task.labels) == 10 and "Dog bark" in task.labels


@pytest.mark.parametrize("rate", [16000, 32000])
def test_esc10_clips_are_5_s_at_every_rate(esc10_task: Path, rate: int) -> None:
    files = sorted((esc10_task / str(rate)).rglob("*.wav"))
    assert len(files) == 320
    for path in files[::16]:
        info = sf.info(str(path))
        assert (info.samplerate, info.frames) == (rate, 5 * rate)


def test_esc10_resamples_from_the_originals(esc10_task: Path, data_dir: Path) -> None:
    import soxr

    source = data_dir / "esc10" / "audio" / "001 - Dog bark" / "1-100032-A.ogg"
    original, rate = sf.read(str(source), dtype="float32")
    assert rate == 44100
    built, _ = sf.read(str(esc10_task / "32000" / "fold00" / "1-100032-A.wav"), dtype="float32")
    expected = soxr.resample(original, 44100, 32000)[: 5 * 32000]
    n = min(expected.shape[0], built.shape[0])
    # the WAV is 16-bit: agreement to one quantisation step
    assert np.abs(built[:n] - expected[:n]).max() < 2e-4


def _copy_class(data_dir: Path, dest: Path, folder: str = "001 - Dog bark") -> Path:
    root = dest / "ESC-10"
    shutil.copytree(data_dir / "esc10" / "audio" / folder, root / folder)
    return root


def test_esc10_release_layout_without_csv(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_class(data_dir, tmp_path)
    plan = BUILDERS["esc10"].plan(root)
    assert len(plan.clips) == 32 and plan.metadata["nfolds"] == 4
    assert {c.target[0] for c in plan.clips} == {"Dog bark"}


def test_esc10_csv_disagreeing_with_file_names_is_refused(data_dir: Path, tmp_path: Path) -> None:
    root = _copy_class(data_dir, tmp_path)
    name = sorted((root / "001 - Dog bark").glob("1-*.ogg"))[0].name
    (root / "metadata.csv").write_text(f"file,fold,label\n001 - Dog bark/{name},2,Dog bark\n")
    with pytest.raises(HearbenchError, match=r"metadata.csv:2: .* fold '2'"):
        BUILDERS["esc10"].plan(root)


def test_esc10_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(HearbenchError, match="source directory not found"):
        BUILDERS["esc10"].plan(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(HearbenchError, match="no ESC-10 class folders"):
        BUILDERS["esc10"].plan(tmp_path / "empty")
    bad = tmp_path / "bad" / "001 - Dog bark"
    bad.mkdir(parents=True)
    (bad / "dog.ogg").write_bytes(b"")
    with pytest.raises(HearbenchError, match=r"dog\.ogg: expected a file name"):
        BUILDERS["esc10"].plan(tmp_path / "bad")
