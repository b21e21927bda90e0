"""The robustness protocol on a small real task: three ESC-10 classes and the MicIRP devices."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from hearbench.api import HearbenchError
from hearbench.cache import EmbeddingCache
from hearbench.cli import main
from hearbench.embed import cache_key
from hearbench.perturb import (
    ImpulsePerturbation,
    NoisePerturbation,
    load_impulse_responses,
    load_noise,
    split_seen_unseen,
)
from hearbench.registry import create_embedder
from hearbench.results import probe_run_name, read_result
from hearbench.robustness import (
    AugmentSpec,
    RobustnessSpec,
    cap_conditions,
    evaluate_robustness,
    prepare_run,
)
from hearbench.runner import evaluate
from hearbench.tasks.builders import BUILDERS
from hearbench.tasks.format import Task, load_task

CLASSES = ("001 - Dog bark", "002 - Rain", "003 - Sea waves")
FAST = {"l2": 0.001}


@pytest.fixture(scope="module")
def micirp(data_dir: Path) -> Path:
    return data_dir / "dirs" / "micirp"


@pytest.fixture(scope="module")
def small_task(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Task:
    """Three ESC-10 classes (96 real clips, 4 official folds) built at 16 kHz."""
    source = tmp_path_factory.mktemp("esc10-source") / "ESC-10"
    for folder in CLASSES:
        shutil.copytree(data_dir / "esc10" / "audio" / folder, source / folder)
    out = tmp_path_factory.mktemp("esc10-small") / "esc10"
    BUILDERS["esc10"].build(source, out, [16000], progress=False)
    return load_task(out)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_cache_key_of_a_perturbed_clip_differs(small_task: Task, micirp: Path) -> None:
    embedder = create_embedder("baseline")
    irs = {r.name: r for r in load_impulse_responses(micirp)}
    clean = cache_key(embedder, small_task, "fold00")
    a = cache_key(embedder, small_task, "fold00", ImpulsePerturbation("dir", irs["Altec_639"]))
    b = cache_key(embedder, small_task, "fold00", ImpulsePerturbation("dir", irs["Reslo_VMC2"]))
    raw = cache_key(embedder, small_task, "fold00", ImpulsePerturbation("dir", irs["Altec_639"], "raw"))
    again = cache_key(embedder, small_task, "fold00", ImpulsePerturbation("dir", irs["Altec_639"]))
    assert a == again
    assert len({json.dumps(k, sort_keys=True) for k in (clean, a, b, raw)}) == 4
    assert a["perturbation"]["sha256"] == irs["Altec_639"].sha256
    # each key has its own cache entry, beside the clean one
    cache = EmbeddingCache("/nonexistent")
    dirs = {cache.entry_dir(k) for k in (clean, a, b, raw)}
    assert len(dirs) == 4 and cache.entry_dir(clean).name == "fold00-16000"
    # noise: the SNR and the seed are part of the key
    recordings = load_noise(micirp)
    n10 = cache_key(embedder, small_task, "fold00", NoisePerturbation(recordings, 10.0, seed=0))
    n0 = cache_key(embedder, small_task, "fold00", NoisePerturbation(recordings, 0.0, seed=0))
    n10b = cache_key(embedder, small_task, "fold00", NoisePerturbation(recordings, 10.0, seed=1))
    assert len({n10["variant"], n0["variant"], n10b["variant"]}) == 3


def test_cap_conditions_is_deterministic_and_spread() -> None:
    names = [f"d{i:02d}" for i in range(22)]
    assert cap_conditions(names, 4) == ["d00", "d05", "d11", "d16"]
    assert cap_conditions(list(reversed(names)), 4) == ["d00", "d05", "d11", "d16"]
    assert cap_conditions(names, None) == names and cap_conditions(names, 30) == names


def test_robustness_run_scores_conditions_with_the_clean_probe(
    small_task: Task, micirp: Path, cache_dir: Path, tmp_path: Path
) -> None:
    embedder = create_embedder("baseline")
    cache = EmbeddingCache(cache_dir)
    plain = evaluate(embedder, small_task, "linear", cache=cache, probe_options=FAST, progress=False)
    spec = RobustnessSpec("dir", micirp, max_conditions=3)
    out = tmp_path / "results"
    result = evaluate_robustness(
        embedder, small_task, "linear", robustness=spec, cache=cache, out_dir=out,
        probe_options=FAST, progress=False,
    )
    summary = result.robustness
    assert summary is not None
    # the probe is the clean task's: same clean score, fold by fold
    assert result.primary.folds == plain.primary.folds
    assert summary.clean == plain.primary.mean
    _, unseen = split_seen_unseen([r.name for r in load_impulse_responses(micirp)])
    expected = [f"dir:{n}" for n in cap_conditions(unseen, 3)]
    assert list(summary.unseen) == expected == sorted(summary.conditions)
    assert result.timing["conditions_computed"] == expected
    # each condition's score is its folds' mean; the devices change the scores
    assert result.perturbation is not None
    for name, folds in result.perturbation["condition_folds"].items():
        assert len(folds) == 4
        assert summary.conditions[name] == pytest.approx(float(np.mean(folds)))
    scores = list(summary.conditions.values())
    assert any(s != summary.clean for s in scores)
    assert summary.drop == pytest.approx(summary.clean - np.mean(scores))
    assert summary.dg == pytest.approx(float(np.std(scores)))
    # stored under its own id, never over the clean result
    assert result.variant.startswith("@dir-")
    path = out / "baseline" / "esc10" / f"{result.run_name}.json"
    assert result.run_name.endswith(result.variant)
    stored = read_result(path)
    assert stored.robustness == summary and stored.perturbation == result.perturbation
    assert not (out / "baseline" / "esc10" / "linear.json").exists()
    identity = result.perturbation["conditions"][expected[0]]
    assert identity["level"] == "rms" and len(identity["sha256"]) == 64

    entries = len(cache.entries())
    rerun = evaluate_robustness(
        embedder, small_task, "linear", robustness=spec, cache=cache, probe_options=FAST,
        progress=False,
    )
    assert rerun.timing["conditions_cached"] == expected
    assert rerun.timing["conditions_computed"] == []
    assert rerun.timing["embeddings_computed"] == []
    assert len(cache.entries()) == entries
    assert rerun.robustness == summary
    # another level is another condition set: another id, new entries
    raw = RobustnessSpec("dir", micirp, level="raw", max_conditions=3).prepare()
    assert raw.variant != spec.prepare().variant


def test_dir_augmentation_uses_seen_devices_only(
    small_task: Task, micirp: Path, cache_dir: Path
) -> None:
    embedder = create_embedder("baseline")
    cache = EmbeddingCache(cache_dir)
    augment = AugmentSpec(micirp, p=0.5, draws=2, seed=42).prepare()
    seen, unseen = split_seen_unseen([r.name for r in load_impulse_responses(micirp)])
    assert {r.name for r in augment.draws[0].responses} == set(seen)
    train_splits = sorted({s for f in small_task.fold_splits() for s in f.train})
    clip_ids = [f"{s}/{f}" for s in train_splits for f in small_task.files(s)]
    drawn = [d.device(c) for d in augment.draws for c in clip_ids]
    picked = [r.name for r in drawn if r is not None]
    assert not set(picked) & set(unseen)
    assert 0.35 < len(picked) / len(drawn) < 0.65  # p = 0.5 over 2 x 96 draws
    result = evaluate_robustness(
        embedder, small_task, "linear", augment=augment, cache=cache, probe_options=FAST,
        seed=42, progress=False,
    )
    assert result.robustness is None and result.variant.startswith("+dir_augment-")
    record = result.probe["augment"]
    assert (record["dir_augment_p"], record["dir_augment_draws"]) == (0.5, 2)
    assert record["copies"] == len(picked)
    assert sorted(record["devices"]) == sorted(seen)
    again = evaluate_robustness(
        embedder, small_task, "linear", augment=augment, cache=cache, probe_options=FAST,
        seed=42, progress=False,
    )
    assert again.timing["augment_entries_computed"] == 0
    assert again.primary.folds == result.primary.folds


def _cli(args: list[str]) -> tuple[int, str]:
    outcome = CliRunner().invoke(main, args)
    return outcome.exit_code, outcome.output


def test_cli_robustness_run_and_resume(small_task: Task, micirp: Path, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    args = [
        "run", "--embedder", "baseline", "--task", str(small_task.path), "--out", str(out),
        "--cache", str(cache_dir), "--no-complexity", "--probe-option", "l2=0.001",
        "--robustness", "dir", "--dirs", str(micirp), "--max-conditions", "3",
    ]
    code, text = _cli(args)
    assert code == 0, text
    files = sorted(p.name for p in (out / "baseline" / "esc10").glob("*.json"))
    run = probe_run_name("linear", {"l2": 0.001})
    assert len(files) == 2 and files[0].startswith(f"{run}@dir-")
    result = read_result(out / "baseline" / "esc10" / files[0])
    assert result.robustness is not None and len(result.robustness.conditions) == 3
    stamp = (out / "baseline" / "esc10" / files[0]).stat().st_mtime_ns
    code, text = _cli(args)
    assert code == 0 and "1 succeeded" in text
    # resume: the stored robustness result answers the same run and is not rewritten
    assert (out / "baseline" / "esc10" / files[0]).stat().st_mtime_ns == stamp
    # the clean run beside it gets its own file
    code, text = _cli(args[: args.index("--robustness")])
    assert code == 0, text
    plain = read_result(out / "baseline" / "esc10" / f"{run}.json")
    assert plain.robustness is None and plain.primary.folds == result.primary.folds
    assert read_result(out / "baseline" / "esc10" / files[0]).robustness == result.robustness


def _write_ir(path: Path, seconds: float, data_dir: Path) -> None:
    h, rate = sf.read(str(data_dir / "dirs" / "micirp" / "Altec_639.wav"))
    padded = np.zeros(int(seconds * rate))
    padded[: h.shape[0]] = h
    sf.write(str(path), padded, rate)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("empty", "no impulse responses"),
        ("not-audio", "notes.json: not an impulse response file"),
        ("broken", "broken.wav: not a readable impulse response"),
        ("too-long", "Aaa_long.wav: impulse response of 6.000 s is longer than the clips of esc10 (5 s)"),
        ("bad-snr", "snr_db: expected a number of dB, got 'loud'"),
        ("bad-kind", "--robustness 'device': unknown kind; choose from dir, room, noise"),
        ("bad-cap", "--max-conditions 'all': expected an int >= 1"),
        ("bad-p", "option 'dir_augment_p' expects a number in (0, 1], got 1.5"),
        ("bad-augment", "unknown option 'dir_augment_q'"),
        ("no-unseen", "2 device(s) leave none unseen"),
    ],
)
def test_cli_bad_input_one_line_nothing_written(
    case: str, expected: str, small_task: Task, data_dir: Path, tmp_path: Path
) -> None:
    irs = tmp_path / "irs"
    irs.mkdir()
    extra: list[str] = ["--robustness", "dir", "--dirs", str(irs)]
    if case in ("not-audio", "broken", "too-long", "bad-kind", "bad-cap", "bad-p", "bad-augment", "no-unseen"):
        for name in ("Altec_639", "Altec_670B", "BBCmarconi_B")[: 2 if case == "no-unseen" else 3]:
            shutil.copy(data_dir / "dirs" / "micirp" / f"{name}.wav", irs / f"{name}.wav")
    if case == "not-audio":
        (irs / "notes.json").write_text("{}")
    if case == "broken":
        (irs / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    if case == "too-long":
        _write_ir(irs / "Aaa_long.wav", 6.0, data_dir)
    if case == "bad-snr":
        extra = ["--robustness", "noise", "--noise", str(irs), "--snr", "loud"]
    if case == "bad-kind":
        extra[1] = "device"
    if case == "bad-cap":
        extra += ["--max-conditions", "all"]
    if case == "bad-p":
        extra += ["--probe-option", "dir_augment_p=1.5"]
    if case == "bad-augment":
        extra += ["--probe-option", "dir_augment_q=1"]
    out = tmp_path / "res"
    cache = tmp_path / "cache"
    code, text = _cli(
        ["run", "--embedder", "baseline", "--task", str(small_task.path), "--out", str(out),
         "--cache", str(cache), "--no-complexity", *extra]
    )
    assert code == 1
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], text
    assert not out.exists() and not cache.exists()


def test_prepare_run_needs_the_folders(micirp: Path) -> None:
    with pytest.raises(HearbenchError, match="--robustness dir needs --dirs PATH"):
        prepare_run("dir", None, None, (), "rms", None, {}, 0)
    with pytest.raises(HearbenchError, match="dir_augment: needs --dirs PATH"):
        prepare_run(None, None, None, (), "rms", None, {"dir_augment_p": 0.5}, 0)
    with pytest.raises(HearbenchError, match="--level 'loud'"):
        prepare_run("dir", str(micirp), None, (), "loud", None, {}, 0)
    conditions, augment = prepare_run("dir", str(micirp), None, (), "rms", None, {"dir_augment_p": 0.5}, 0)
    assert conditions is not None and augment is not None
    assert len(conditions.perturbations) == 22 and len(augment.draws[0].responses) == 44


def test_room_and_noise_conditions(small_task: Task, data_dir: Path, cache_dir: Path, tmp_path: Path) -> None:
    embedder = create_embedder("baseline")
    cache = EmbeddingCache(cache_dir)
    rooms = tmp_path / "rooms"
    rooms.mkdir()
    for name in ("Altec_639", "Reslo_VMC2"):
        shutil.copy(data_dir / "dirs" / "micirp" / f"{name}.wav", rooms / f"{name}.wav")
    room = evaluate_robustness(
        embedder, small_task, "linear", robustness=RobustnessSpec("room", rooms), cache=cache,
        probe_options=FAST, progress=False,
    )
    assert room.robustness is not None and room.variant.startswith("@room-")
    assert list(room.robustness.unseen) == ["room:Altec_639", "room:Reslo_VMC2"]
    noise_dir = tmp_path / "noise"
    noise_dir.mkdir()
    for path in sorted((data_dir / "urbansound8k" / "audio" / "fold1").glob("*.flac"))[:3]:
        shutil.copy(path, noise_dir / path.name)
    noisy = evaluate_robustness(
        embedder, small_task, "linear", robustness=RobustnessSpec("noise", noise_dir, snrs=(20.0, -5.0)),
        cache=cache, probe_options=FAST, progress=False,
    )
    summary = noisy.robustness
    assert summary is not None and sorted(summary.conditions) == ["noise:-5dB", "noise:20dB"]
    assert summary.clean == room.primary.mean
    # noise at -5 dB SNR hurts more than at 20 dB
    assert summary.conditions["noise:-5dB"] < summary.conditions["noise:20dB"]
    assert noisy.perturbation is not None and noisy.perturbation["seed"] == 0


def test_copies_keep_event_frame_offsets() -> None:
    from hearbench.probes.base import ProbeData
    from hearbench.protocol import SplitData, concat_parts

    def part(name: str, sizes: list[int]) -> SplitData:
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        rows = int(offsets[-1])
        X = np.full((rows, 2), float(len(name)), dtype=np.float32)
        Y = np.zeros((rows, 3), dtype=np.float32)
        files = tuple(f"{name}{i}" for i in range(len(sizes)))
        stamps = np.arange(rows, dtype=np.float32)
        return SplitData(ProbeData(X, Y, offsets), files, stamps, {f: [] for f in files})

    joined = concat_parts([part("a", [3, 2]), part("bb", [4])])
    assert joined.data.offsets is not None
    assert joined.data.offsets.tolist() == [0, 3, 5, 9]
    assert joined.files == ("a0", "a1", "bb0")
    assert joined.data.X.shape == (9, 2) and joined.timestamps is not None and joined.timestamps.shape == (9,)
