"""Additive noise at a given signal-to-noise ratio, from a folder of noise recordings.

Each clip draws its noise recording and offset from a generator seeded by the perturbation's
seed and the clip's id, so a clip is always perturbed the same way, whatever else is embedded
with it. The noise is resampled to the clip's rate, looped when shorter than the clip, and
scaled so that ``10 log10(P_clip / P_noise)`` equals ``snr_db``; a silent clip gets no noise.
A result that would clip is scaled to peak 1 and counted.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from hearbench.api import HearbenchError

NOISE_SUFFIXES = (".wav", ".flac", ".ogg")


def parse_snr(value: Any) -> float:
    """An SNR in dB from the command line or the API.

    Raises:
        HearbenchError: naming the option when the value is not a finite number.
    """
    try:
        snr = float(value)
    except (TypeError, ValueError):
        raise HearbenchError(f"snr_db: expected a number of dB, got {value!r}") from None
    if not math.isfinite(snr):
        raise HearbenchError(f"snr_db: expected a finite number of dB, got {value!r}")
    return snr


@dataclass(frozen=True)
class NoiseRecording:
    """One noise file: name, mono samples, rate and content digest."""

    name: str
    samples: np.ndarray
    sample_rate: int
    sha256: str


def load_noise(folder: str | Path) -> tuple[NoiseRecording, ...]:
    """Every noise recording in ``folder``, sorted by name (one-line errors name the file)."""
    root = Path(folder)
    if not root.is_dir():
        raise HearbenchError(f"{root}: noise folder not found")
    found = []
    for path in sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.suffix.lower() not in NOISE_SUFFIXES:
            continue
        try:
            data, rate = sf.read(str(path), dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise HearbenchError(f"{path}: cannot decode noise recording ({exc})") from exc
        mono = data.mean(axis=1)
        if mono.size == 0 or not np.isfinite(mono).all() or not np.any(mono):
            raise HearbenchError(f"{path}: noise recording is empty, silent or holds NaN/Inf")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found.append(NoiseRecording(path.stem, mono, int(rate), digest))
    if not found:
        raise HearbenchError(f"{root}: no noise recordings (.wav, .flac or .ogg) found")
    return tuple(found)


def _clip_seed(seed: int, clip_id: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{clip_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass
class NoisePerturbation:
    """Additive noise from ``recordings`` at ``snr_db``, seeded per clip."""

    recordings: tuple[NoiseRecording, ...]
    snr_db: float
    seed: int = 0
    clipped: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        self.snr_db = parse_snr(self.snr_db)

    @property
    def name(self) -> str:
        """``noise:10dB``."""
        return f"noise:{self.snr_db:g}dB"

    def identity(self) -> dict[str, Any]:
        """Kind, SNR, seed and the recordings' digests (cache key)."""
        return {
            "kind": "noise",
            "snr_db": self.snr_db,
            "seed": self.seed,
            "recordings": [r.sha256 for r in self.recordings],
        }

    def apply(self, audio: np.ndarray, sample_rate: int, clip_id: str = "") -> np.ndarray:
        """The clip plus noise at the SNR (same length, float32)."""
        rng = _clip_seed(self.seed, clip_id)
        recording = self.recordings[int(rng.integers(len(self.recordings)))]
        noise = recording.samples
        if recording.sample_rate != sample_rate:
            noise = np.asarray(soxr.resample(noise, recording.sample_rate, sample_rate))
        n = audio.shape[0]
        if noise.shape[0] < n:
            noise = np.tile(noise, math.ceil(n / noise.shape[0]) + 1)
        start = int(rng.integers(noise.shape[0] - n + 1))
        segment = noise[start : start + n]
        x = audio.astype(np.float64)
        p_clip = float(np.mean(np.square(x)))
        p_noise = float(np.mean(np.square(segment)))
        if p_clip == 0.0 or p_noise == 0.0:
            return audio.astype(np.float32)
        y = x + segment * math.sqrt(p_clip / (p_noise * 10 ** (self.snr_db / 10)))
        peak = float(np.abs(y).max())
        if peak > 1.0:
            y /= peak
            self.clipped += 1
        return y.astype(np.float32)
