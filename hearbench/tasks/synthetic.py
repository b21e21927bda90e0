"""Built-in synthetic tasks, generated deterministically (the ``demo`` suite).

* ``demo-pitch``: harmonic tones of 24 MIDI pitches (48–71) with random timbre; multiclass
  scene, ``trainvaltest``; metrics pitch_acc, chroma_acc.
* ``demo-texture``: six noise textures (white, pink, brown, band-pass, crackle, hum);
  multiclass scene, 5-fold ``new_split_kfold``; metrics top1_acc, mAP, aucroc, d_prime.
* ``demo-events``: 4 s clips of quiet noise with short beeps, chirps, clicks and noise bursts
  at exact onsets; multilabel event, ``trainvaltest``; event metrics.

Every clip is a pure function of the task seed and the clip index, so the same call writes
byte-identical task directories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hearbench.tasks.format import TaskItem, write_task

SR = 16000
DEMO_TASKS = ("demo-pitch", "demo-texture", "demo-events")


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def _normalise(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    return (x * (peak / (np.abs(x).max() + 1e-9))).astype(np.float32)


def harmonic_tone(midi: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone at ``midi`` with random harmonic weights, decay and a little noise."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69 + rng.uniform(-0.3, 0.3)) / 12)
    x = np.zeros_like(t)
    for k in range(1, 9):
        if k * f0 < SR / 2:
            x += (
                rng.uniform(0.1, 1.0)
                / k
                * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
            )
    x *= np.exp(-t * rng.uniform(0.5, 3.0))
    x = x / (np.abs(x).max() + 1e-9)
    x += rng.uniform(0.3, 1.0) * _coloured(t.shape[0], rng.uniform(0.0, 2.0), rng) / 3.0
    return _normalise(x, rng.uniform(0.3, 0.8))


def _coloured(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    spectrum[1:] /= freqs[1:] ** (exponent / 2)
    spectrum[0] = 0
    return np.fft.irfft(spectrum, n)


def texture(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A noise texture of one of :data:`TEXTURES`."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = _coloured(n, 1.0, rng)
    elif kind == "brown":
        x = _coloured(n, 2.0, rng)
    elif kind == "bandpass":
        centre = rng.uniform(1000, 3000)
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1 / SR)
        spectrum *= np.exp(-0.5 * ((freqs - centre) / 200.0) ** 2)
        x = np.fft.irfft(spectrum, n)
    elif kind == "crackle":
        x = np.zeros(n)
        hits = rng.integers(0, n, size=int(rng.uniform(20, 60) * seconds))
        x[hits] = rng.uniform(-1, 1, size=hits.shape)
        x += 0.02 * rng.standard_normal(n)
    elif kind == "hum":
        base = rng.choice([50.0, 60.0])
        x = sum(
            np.sin(2 * np.pi * base * k * t) / k for k in range(1, 6)
        ) + 0.05 * rng.standard_normal(n)
    else:
        raise ValueError(kind)
    x = np.asarray(x) / (np.abs(x).max() + 1e-9)
    x += (
        rng.uniform(0.2, 0.8)
        * rng.standard_normal(n)
        * np.abs(np.sin(2 * np.pi * rng.uniform(0.2, 2) * t))
    )
    return _normalise(x, rng.uniform(0.2, 0.7))


TEXTURES = ("white", "pink", "brown", "bandpass", "crackle", "hum")
EVENT_LABELS = ("beep", "chirp", "clicks", "burst")


def event_sound(label: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """One foreground event of ``label`` lasting ``seconds``, with 5 ms fades."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    if label == "beep":
        x = np.sin(2 * np.pi * rng.uniform(800, 1200) * t)
    elif label == "chirp":
        f0, f1 = rng.uniform(300, 600), rng.uniform(2000, 4000)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds)))
    elif label == "clicks":
        x = np.zeros(n)
        x[:: int(SR / rng.uniform(15, 30))] = 1.0
        x = np.convolve(x, np.hanning(32), mode="same")
    elif label == "burst":
        x = rng.standard_normal(n)
    else:
        raise ValueError(label)
    fade = min(n // 2, int(0.005 * SR))
    ramp = np.linspace(0, 1, fade) if fade else np.zeros(0)
    x[:fade] *= ramp
    x[n - fade :] *= ramp[::-1]
    return _normalise(x, 1.0)


def event_clip(
    seed: int, index: int, seconds: float = 4.0
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """A clip with 3–8 short non-overlapping events over noise, and its events in ms.

    Events last 60–250 ms and follow each other after 40–400 ms, so that locating onsets
    within 50 ms takes embeddings whose hop and receptive field are short.
    """
    rng = _rng(seed, index)
    n = int(seconds * SR)
    x = rng.uniform(0.02, 0.08) * _coloured(n, 1.0, rng) / 3.0
    events: list[dict[str, Any]] = []
    cursor = rng.uniform(0.05, 0.4)
    for _ in range(int(rng.integers(3, 9))):
        length = rng.uniform(0.06, 0.25)
        if cursor + length > seconds - 0.1:
            break
        label = str(rng.choice(EVENT_LABELS))
        start = round(cursor * SR)
        sound = event_sound(label, length, rng) * rng.uniform(0.03, 0.3)
        x[start : start + sound.shape[0]] += sound
        events.append(
            {
                "label": label,
                "start": round(start * 1000 / SR, 3),
                "end": round((start + sound.shape[0]) * 1000 / SR, 3),
            }
        )
        cursor += length + rng.uniform(0.04, 0.4)
    return np.clip(x, -1, 1).astype(np.float32), events


def _pitch_items(seed: int) -> Iterator[TaskItem]:
    counts = {"train": 6, "valid": 2, "test": 3}
    index = 0
    for split, count in counts.items():
        for midi in range(48, 72):
            for take in range(count):
                audio = harmonic_tone(midi, 1.0, _rng(seed, index))
                index += 1
                yield TaskItem(split, f"{midi}_{split}_{take}.wav", audio, SR, [str(midi)])


def _texture_items(seed: int) -> Iterator[TaskItem]:
    index = 0
    for fold in range(5):
        for kind in TEXTURES:
            for take in range(6):
                audio = texture(kind, 2.0, _rng(seed, index))
                index += 1
                yield TaskItem(f"fold{fold:02d}", f"{kind}_{fold}_{take}.wav", audio, SR, [kind])


def _event_items(seed: int) -> Iterator[TaskItem]:
    counts = {"train": 48, "valid": 16, "test": 16}
    index = 0
    for split, count in counts.items():
        for i in range(count):
            audio, events = event_clip(seed, index)
            index += 1
            yield TaskItem(split, f"{split}_{i:03d}.wav", audio, SR, events)


def _meta(
    name: str,
    embedding_type: str,
    prediction_type: str,
    split_mode: str,
    evaluation: Sequence[str],
    duration: float,
    nfolds: int | None = None,
    version: str = "1.0.0",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "task_name": name,
        "version": version,
        "embedding_type": embedding_type,
        "prediction_type": prediction_type,
        "split_mode": split_mode,
        "sample_duration": duration,
        "evaluation": list(evaluation),
        "source": "hearbench synthetic generator",
    }
    if nfolds is not None:
        meta["nfolds"] = nfolds
        meta["splits"] = [f"fold{i:02d}" for i in range(nfolds)]
    else:
        meta["splits"] = ["train", "valid", "test"]
    return meta


BUILDERS: dict[
    str, tuple[Callable[[], dict[str, Any]], Sequence[str], Callable[[int], Iterator[TaskItem]]]
] = {
    "demo-pitch": (
        lambda: _meta(
            "demo-pitch", "scene", "multiclass", "trainvaltest", ["pitch_acc", "chroma_acc"], 1.0
        ),
        [str(m) for m in range(48, 72)],
        _pitch_items,
    ),
    "demo-texture": (
        lambda: _meta(
            "demo-texture",
            "scene",
            "multiclass",
            "new_split_kfold",
            ["top1_acc", "mAP", "aucroc", "d_prime"],
            2.0,
            5,
        ),
        list(TEXTURES),
        _texture_items,
    ),
    "demo-events": (
        lambda: _meta(
            "demo-events",
            "event",
            "multilabel",
            "trainvaltest",
            [
                "event_onset_50ms_fms",
                "event_onset_200ms_fms",
                "segment_1s_er",
                "event_onset_offset_50ms_20perc_fms",
            ],
            4.0,
            version="2.0.0",
        ),
        list(EVENT_LABELS),
        _event_items,
    ),
}


def build_synthetic_task(
    name: str,
    out: str | Path,
    seed: int = 0,
    sample_rates: Sequence[int] = (SR,),
    overwrite: bool = False,
) -> Path:
    """Write the synthetic task ``name`` to ``out`` in the HEAR format."""
    if name not in BUILDERS:
        raise ValueError(f"unknown synthetic task {name!r}; choose from {', '.join(BUILDERS)}")
    meta, labels, items = BUILDERS[name]
    return write_task(out, meta(), labels, items(seed), sample_rates, overwrite=overwrite)


def build_demo_suite(
    out_dir: str | Path, seed: int = 0, on_task: Callable[[str], None] | None = None
) -> dict[str, Path]:
    """Write every demo task under ``out_dir`` (existing complete tasks are kept).

    ``on_task`` is called with each task's name once that task is in place.
    """
    root = Path(out_dir)
    paths = {}
    for name in DEMO_TASKS:
        target = root / name
        if not (target / "task_metadata.json").is_file():
            build_synthetic_task(name, target, seed=seed, overwrite=target.exists())
        paths[name] = target
        if on_task is not None:
            on_task(name)
    return paths
