"""Dataset builders: local tasks from ../shared/data, split rules, leaks, determinism, layouts."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hearbench.api import HearbenchError
from hearbench.tasks.builders import BUILDERS, BuildReport, build_task, get_builder
from hearbench.tasks.format import load_task
from hearbench.tasks.validate import validate_task

LIMIT = 24
LOCAL = {
    "fsdd-digit": "fsdd",
    "fsdd-speaker": "fsdd",
    "mridangam-stroke": "mridangam",
    "mridangam-tonic": "mridangam",
    "urbansound8k": "urbansound8k",
    "esc10": "esc10",
    "events-csv": "events",
}


def tree_digest(root: Path) -> str:
    """SHA-256 over every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _write_tone(path: Path, seconds: float, rate: int = 16000, channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * np.pi * 330.0 * t)
    sf.write(str(path), np.stack([tone] * channels, axis=1), rate, subtype="PCM_16")


@pytest.fixture(scope="module")
def small_builds(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BuildReport]:
    """Every local task built from ../shared/data with at most LIMIT clips per split."""
    out = tmp_path_factory.mktemp("small")
    return {
        name: BUILDERS[name].build(data_dir / folder, out / name, limit=LIMIT, progress=False)
        for name, folder in LOCAL.items()
    }


@pytest.mark.parametrize("name", list(LOCAL))
def test_small_builds_are_valid(small_builds: dict[str, BuildReport], name: str) -> None:
    report = small_builds[name]
    assert validate_task(report.path) == []
    task = load_task(report.path)
    assert task.version.endswith(f"-limit{LIMIT}")
    assert all(0 < stats.clips <= LIMIT for stats in report.splits.values())
    assert report.skipped == ()


@pytest.mark.parametrize("name", list(LOCAL))
def test_builds_are_deterministic(
    small_builds: dict[str, BuildReport], data_dir: Path, tmp_path: Path, name: str
) -> None:
    again = BUILDERS[name].build(
        data_dir / LOCAL[name], tmp_path / name, limit=LIMIT, progress=False
    )
    assert tree_digest(again.path) == tree_digest(small_builds[name].path)


def test_full_fsdd_digit(data_dir: Path, tmp_path: Path) -> None:
    report = build_task("fsdd-digit", data_dir / "fsdd", tmp_path, [16000], progress=False)
    assert report.path == tmp_path / "fsdd-digit"
    assert report.clips == 3000
    assert {s: r.clips for s, r in report.splits.items()} == {
        "train": 2400,
        "valid": 300,
        "test": 300,
    }
    assert validate_task(report.path) == []
    task = load_task(report.path)
    assert task.labels == tuple(str(d) for d in range(10))
    assert task.sample_duration == 1.0


def _metadata(data_dir: Path, folder: str) -> dict[str, dict[str, str]]:
    with (data_dir / folder / "metadata.csv").open(newline="") as handle:
        return {Path(r["file"]).stem + ".wav": r for r in csv.DictReader(handle)}


def test_fsdd_digit_split_rule(data_dir: Path) -> None:
    rows = _metadata(data_dir, "fsdd")
    plan = BUILDERS["fsdd-digit"].plan(data_dir / "fsdd")
    for clip in plan.clips:
        row = rows[clip.filename]
        take = int(row["take"])
        assert clip.split == ("test" if take < 5 else "valid" if take < 10 else "train")
        assert (clip.split == "test") == (row["split"] == "test")
        assert clip.target == [row["label"]]


def test_fsdd_speaker_has_no_take_leak(
    data_dir: Path, small_builds: dict[str, BuildReport]
) -> None:
    rows = _metadata(data_dir, "fsdd")
    plan = BUILDERS["fsdd-speaker"].plan(data_dir / "fsdd")
    folds_of_take: dict[str, set[str]] = defaultdict(set)
    for clip in plan.clips:
        folds_of_take[rows[clip.filename]["take"]].add(clip.split)
    assert len(folds_of_take) == 50 and all(len(f) == 1 for f in folds_of_take.values())
    per_fold: dict[str, set[str]] = defaultdict(set)
    for clip in plan.clips:
        per_fold[clip.split].add(clip.target[0])
    assert all(len(speakers) == 6 for speakers in per_fold.values())
    task = load_task(small_builds["fsdd-speaker"].path)
    assert task.split_names == tuple(f"fold{i:02d}" for i in range(5))
    for fold in task.split_names:
        takes = {int(rows[f]["take"]) // 10 for f in task.files(fold)}
        assert takes == {int(fold[-2:])}


def test_mridangam_folds(data_dir: Path) -> None:
    stroke = BUILDERS["mridangam-stroke"].plan(data_dir / "mridangam")
    tonic = BUILDERS["mridangam-tonic"].plan(data_dir / "mridangam")
    assert len(stroke.clips) == 2879
    assert {c.filename: c.split for c in stroke.clips} == {c.filename: c.split for c in tonic.clips}
    sizes: dict[str, int] = defaultdict(int)
    strokes: dict[str, set[str]] = defaultdict(set)
    for clip in stroke.clips:
        sizes[clip.split] += 1
        strokes[clip.split].add(clip.target[0])
    assert sorted(sizes) == [f"fold{i:02d}" for i in range(5)]
    assert max(sizes.values()) - min(sizes.values()) < 0.1 * len(stroke.clips) / 5
    assert all(len(s) == 9 for s in strokes.values())
    assert {t for c in tonic.clips for t in c.target} == {"B", "C", "C#", "D", "D#", "E"}


def test_urbansound8k_keeps_folds_without_recording_leak(
    data_dir: Path, small_builds: dict[str, BuildReport]
) -> None:
    rows = _metadata(data_dir, "urbansound8k")
    plan = BUILDERS["urbansound8k"].plan(data_dir / "urbansound8k")
    assert plan.metadata["split_mode"] == "trainvaltest"
    recordings: dict[str, set[str]] = defaultdict(set)
    for clip in plan.clips:
        row = rows[clip.filename]
        assert (clip.split == "test") == (row["fold"] == "fold2")
        recordings[row["fsID"]].add(clip.split)
    assert all(len(splits) == 1 for splits in recordings.values())
    valid = [c for c in plan.clips if c.split == "valid"]
    assert 0.15 * 300 <= len(valid) <= 0.3 * 300
    assert {c.target[0] for c in valid} == {r["label"] for r in rows.values()}
    task = load_task(small_builds["urbansound8k"].path)
    assert task.sample_duration == 4.0


def test_events_are_in_ms(data_dir: Path, small_builds: dict[str, BuildReport]) -> None:
    task = load_task(small_builds["events-csv"].path)
    assert task.name == "events" and task.embedding_type == "event"
    assert task.evaluation == ("event_onset_200ms_fms", "segment_1s_er")
    assert task.sample_duration == 10.0
    with (data_dir / "events" / "annotations.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    split = "train"
    events = task.targets[split][Path(first["file"]).stem + ".wav"]
    assert events[0] == {
        "label": first["label"],
        "start": float(first["onset_s"]) * 1000,
        "end": float(first["offset_s"]) * 1000,
    }


def _make_esc50(root: Path) -> Path:
    rows = []
    for fold in range(1, 6):
        for target, category in enumerate(["dog", "rain"]):
            for take in "AB":
                name = f"{fold}-{100 + target}-{take}-{target}.wav"
                _write_tone(root / "audio" / name, 0.25 + 0.05 * fold, rate=44100)
                rows.append([name, fold, target, category, "False", 100 + target, take])
    (root / "meta").mkdir()
    with (root / "meta" / "esc50.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
        writer.writerows(rows)
    return root


def test_esc50_official_folds(tmp_path: Path) -> None:
    source = _make_esc50(tmp_path / "ESC-50-master")
    report = build_task("esc50", tmp_path, tmp_path / "tasks", [16000, 22050], progress=False)
    assert validate_task(report.path) == []
    task = load_task(report.path)
    assert (task.split_mode, task.nfolds, task.sample_duration) == ("presplit_kfold", 5, 5.0)
    assert task.labels == ("dog", "rain")
    for fold in range(1, 6):
        assert task.files(f"fold{fold - 1:02d}") == sorted(
            p.name for p in (source / "audio").glob(f"{fold}-*.wav")
        )
    info = sf.info(str(task.audio_path("fold00", task.files("fold00")[0], 22050)))
    assert (info.samplerate, info.frames) == (22050, 5 * 22050)


def test_original_fsdd_layout_reports_skips(tmp_path: Path) -> None:
    for take in range(12):
        _write_tone(tmp_path / "recordings" / f"{take % 3}_alice_{take}.wav", 0.2, rate=8000)
    (tmp_path / "recordings" / "notes.wav").write_bytes(b"not audio")
    (tmp_path / "recordings" / "7_bob_11.wav").write_bytes(b"RIFF broken")
    report = BUILDERS["fsdd-digit"].build(tmp_path, tmp_path / "out", progress=False)
    assert {s: r.clips for s, r in report.splits.items()} == {"train": 2, "valid": 5, "test": 5}
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"notes.wav", "7_bob_11.wav"}
    assert "name" in reasons["notes.wav"] and "audio" in reasons["7_bob_11.wav"]
    assert validate_task(report.path) == []


def test_original_mridangam_layout(tmp_path: Path) -> None:
    root = tmp_path / "mridangam_stroke_1.5"
    n = 0
    for folder, code in (("B", "b"), ("C#", "csh")):
        for stroke in ("cha", "thom"):
            for i in range(1, 6):
                n += 1
                _write_tone(
                    root / folder / f"{1000 + n}__akshaylaya__{stroke}-{code}-{i:03d}.wav", 0.3
                )
    report = BUILDERS["mridangam-tonic"].build(tmp_path, tmp_path / "out", progress=False)
    task = load_task(report.path)
    assert task.labels == ("B", "C#")
    assert all(len(task.files(f)) == 4 for f in task.split_names)
    assert validate_task(report.path) == []


def test_original_urbansound_layout_with_three_folds(tmp_path: Path) -> None:
    rows = []
    for fold in (1, 2, 3):
        for cls, name in enumerate(["dog_bark", "siren"]):
            for occurrence in range(2):
                fname = f"{fold}{cls}{occurrence}-{cls}-{occurrence}-0.wav"
                _write_tone(tmp_path / "audio" / f"fold{fold}" / fname, 1.0, 22050, channels=2)
                rows.append([fname, f"{fold}{cls}{occurrence}", 0, 1, 1, fold, cls, name])
    (tmp_path / "metadata").mkdir()
    with (tmp_path / "metadata" / "UrbanSound8K.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]
        )
        writer.writerows(rows)
    report = BUILDERS["urbansound8k"].build(tmp_path, tmp_path / "out", progress=False)
    task = load_task(report.path)
    assert (task.split_mode, task.nfolds) == ("presplit_kfold", 3)
    assert task.metadata["fold_sources"] == {
        "fold00": "fold1",
        "fold01": "fold2",
        "fold02": "fold3",
    }
    assert task.files("fold01") == sorted(str(r[0]) for r in rows if r[5] == 2)
    assert validate_task(report.path) == []


def test_urbansound_needs_two_folds(tmp_path: Path) -> None:
    _write_tone(tmp_path / "audio" / "fold1" / "1-0-0-0.wav", 0.5)
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "UrbanSound8K.csv").write_text(
        "slice_file_name,fsID,start,end,salience,fold,classID,class\n1-0-0-0.wav,1,0,1,1,1,0,a\n"
    )
    with pytest.raises(HearbenchError, match="at least 2 official folds"):
        BUILDERS["urbansound8k"].build(tmp_path, tmp_path / "out", progress=False)


def test_multiple_sample_rates_and_metadata(data_dir: Path, tmp_path: Path) -> None:
    report = BUILDERS["mridangam-stroke"].build(
        data_dir / "mridangam", tmp_path / "m", [22050, 16000], limit=3, progress=False
    )
    assert report.sample_rates == (16000, 22050)
    assert validate_task(report.path) == []
    meta = json.loads((report.path / "task_metadata.json").read_text())
    assert meta["split_mode"] == "new_split_kfold" and meta["nfolds"] == 5
    assert meta["sample_duration"] == 0.81 and "split_rule" in meta


def test_events_builder_accepts_plain_column_names(tmp_path: Path) -> None:
    source = tmp_path / "office"
    for i in range(3):
        _write_tone(source / "audio" / f"c{i}.wav", 2.0 + i)
    (source / "clips.csv").write_text(
        "file,split\noffice/audio/c0.wav,train\naudio/c1.wav,validation\naudio/c2.wav,test\n"
    )
    (source / "annotations.csv").write_text(
        "file,label,onset,offset\noffice/audio/c1.wav,door,0.5,1.25\naudio/c2.wav,door,1,9\n"
        "audio/c9.wav,door,0,1\n"
    )
    report = BUILDERS["events-csv"].build(source, tmp_path / "out", progress=False)
    task = load_task(report.path)
    assert task.name == "office" and task.sample_duration == 4.0
    assert task.targets["valid"]["c1.wav"] == [{"label": "door", "start": 500.0, "end": 1250.0}]
    assert task.targets["test"]["c2.wav"] == [] and task.targets["train"]["c0.wav"] == []
    assert len(report.skipped) == 2
    assert validate_task(report.path) == []


def test_unknown_builder_and_missing_source(tmp_path: Path) -> None:
    with pytest.raises(HearbenchError, match="unknown task builder"):
        get_builder("nope")
    with pytest.raises(HearbenchError, match="not found"):
        BUILDERS["esc50"].build(tmp_path / "absent", tmp_path / "out")


# --- validate_task ---------------------------------------------------------------------------


def _tiny_task(root: Path, embedding_type: str = "scene") -> Path:
    from hearbench.tasks.format import TaskItem, write_task

    event = embedding_type == "event"
    meta = {
        "task_name": "tiny",
        "version": "1",
        "embedding_type": embedding_type,
        "prediction_type": "multilabel" if event else "multiclass",
        "split_mode": "trainvaltest",
        "sample_duration": 0.5,
        "evaluation": ["event_onset_200ms_fms"] if event else ["top1_acc"],
    }
    target = [{"label": "a", "start": 10.0, "end": 400.0}] if event else ["a"]
    tone = np.zeros(8000, dtype=np.float32)
    items = [TaskItem(s, f"{s}.wav", tone, 16000, target) for s in ("train", "valid", "test")]
    return write_task(root, meta, ["a"], items, [16000, 22050])


def test_validate_finds_problems(tmp_path: Path) -> None:
    task = _tiny_task(tmp_path / "t")
    assert validate_task(task) == []
    (task / "16000" / "train" / "train.wav").unlink()
    sf.write(str(task / "22050" / "valid" / "valid.wav"), np.zeros(100), 22050)
    sf.write(str(task / "22050" / "test" / "test.wav"), np.zeros(11025), 16000)
    sf.write(str(task / "22050" / "test" / "stray.wav"), np.zeros(11025), 22050)
    (task / "valid.json").write_text(json.dumps({"valid.wav": ["a"], "test.wav": ["a"]}))
    problems = validate_task(task)
    expected = [
        "train.wav: audio file missing",
        "valid.wav: 100 samples, expected 11025",
        "test.wav: sample rate 16000 in a 22050 folder",
        "stray.wav: not listed in test.json",
        "test.wav: listed in both valid.json and test.json",
        "test.wav: audio file missing",
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)


def test_validate_events_and_load_errors(tmp_path: Path) -> None:
    task = _tiny_task(tmp_path / "e", "event")
    assert validate_task(task) == []
    (task / "test.json").write_text(
        json.dumps({"test.wav": [{"label": "a", "start": 100.0, "end": 900.0}]})
    )
    assert any("outside the clip" in p for p in validate_task(task))
    (task / "train.json").write_text(
        json.dumps({"train.wav": [{"label": "z", "start": 0, "end": 1}]})
    )
    problems = validate_task(task)
    assert len(problems) == 1 and "not in the vocabulary" in problems[0]


# --- task cards and suites --------------------------------------------------------------------


def test_hear2021_suite_matches_leaderboard(data_dir: Path) -> None:
    from hearbench.tasks.cards import get_suite, get_task_card

    with (data_dir / "hear2021" / "leaderboard.csv").open(newline="") as handle:
        columns = next(csv.reader(handle))[3:]
    suite = get_suite("hear2021")
    cards = [get_task_card(name) for name in suite.tasks]
    assert len(cards) == 19
    assert sorted(c.leaderboard_column or "" for c in cards) == sorted(columns)
    for card in cards:
        assert card.name == f"{card.task_name}-{card.version}-{card.mode}"
        assert card.archive is not None and card.archive.url.endswith(f"{card.name}-48000.tar.gz")
    assert get_task_card("dcase2016_task2-hear2021-full").primary_metric == "event_onset_200ms_fms"
    assert get_task_card("nsynth_pitch-v2.2.3-5h").evaluation == ("pitch_acc", "chroma_acc")


def test_local_cards_agree_with_builders(data_dir: Path) -> None:
    from hearbench.tasks.cards import get_suite, get_task_card

    for name in get_suite("local").tasks:
        card = get_task_card(name)
        assert card.builder is not None
        builder = get_builder(card.builder)
        source = data_dir / LOCAL[card.builder]
        meta = builder.plan(source).metadata
        assert builder.task_name(source) == card.task_name == meta["task_name"]
        assert card.matches(meta)
        assert (card.embedding_type, card.prediction_type) == (
            meta["embedding_type"],
            meta["prediction_type"],
        )
        assert (card.split_mode, card.nfolds) == (meta["split_mode"], meta.get("nfolds"))
        assert card.sample_duration == meta["sample_duration"]
        assert list(card.evaluation) == meta["evaluation"]


def test_find_suite_tasks_by_metadata(tmp_path: Path) -> None:
    from hearbench.tasks.cards import find_suite_tasks, get_suite

    def fake(folder: str, **meta: object) -> Path:
        path = tmp_path / folder
        path.mkdir(parents=True)
        (path / "task_metadata.json").write_text(json.dumps(meta))
        return path

    five = fake("a/tasks/x1", task_name="nsynth_pitch", version="v2.2.3", mode="5h")
    fifty = fake("b", task_name="nsynth_pitch", version="v2.2.3", mode="50h")
    esc = fake("esc", task_name="esc50", version="v2.0.0")
    fake("other_esc", task_name="esc50", version="1.0.0")
    fake(".extract-1/tasks/hidden", task_name="fsd50k", version="v1.0", mode="full")
    found, missing = find_suite_tasks("hear2021", tmp_path)
    assert found == {
        "nsynth_pitch-v2.2.3-5h": five,
        "nsynth_pitch-v2.2.3-50h": fifty,
        "esc50-v2.0.0-full": esc,
    }
    assert len(missing) == 16 and "fsd50k-v1.0-full" in missing
    assert missing == [n for n in get_suite("hear2021").tasks if n not in found]
