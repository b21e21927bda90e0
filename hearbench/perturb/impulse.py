"""Impulse-response perturbations: recording devices (``dir``) and rooms (``room``).

A test clip ``x`` is convolved with an impulse response ``h`` resampled to the clip's rate, as
in "Device-Robust Acoustic Scene Classification via Impulse Response Augmentation" (Morocutti,
Schmid et al., EUSIPCO 2023): ``y = convolve(x, h, "full")[:len(x)]``. The level after the
convolution is a choice:

* ``level="raw"``: the paper's convolution, unchanged. Measured device IRs are peak-normalised
  and their L2 norms add a broadband gain (+5 to +7 dB for most MicIRP devices), so a log-mel
  frontend sees a level shift as well as the device.
* ``level="rms"`` (the default): ``y`` rescaled to the clean clip's RMS, so that only the
  colouration differs.

A result that would clip (``|y| > 1``) is scaled to peak 1, and the number of such clips is
counted (:attr:`ImpulsePerturbation.clipped`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import fftconvolve

from hearbench.api import HearbenchError

Level = Literal["raw", "rms"]
LEVELS: tuple[str, ...] = ("raw", "rms")
IR_SUFFIXES = (".wav", ".flac")
UNSEEN_EVERY = 3


@dataclass(frozen=True)
class ImpulseResponse:
    """One measured impulse response as stored: name, samples and their rate."""

    name: str
    samples: np.ndarray
    sample_rate: int
    sha256: str

    def at(self, sample_rate: int) -> np.ndarray:
        """The response resampled to ``sample_rate`` with soxr (float64)."""
        h = self.samples.astype(np.float64)
        if sample_rate == self.sample_rate:
            return h
        return np.asarray(soxr.resample(h, self.sample_rate, sample_rate), dtype=np.float64)


def _read_ir(path: Path) -> ImpulseResponse:
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise HearbenchError(f"{path}: not a readable impulse response ({exc})") from exc
    if data.shape[0] == 0:
        raise HearbenchError(f"{path}: impulse response has zero length")
    mono = data.mean(axis=1)
    if not np.isfinite(mono).all() or not np.any(mono):
        raise HearbenchError(f"{path}: impulse response is silent or holds NaN/Inf")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ImpulseResponse(path.stem, mono, int(rate), digest)


def load_impulse_responses(folder: str | Path) -> tuple[ImpulseResponse, ...]:
    """Every WAV/FLAC impulse response in ``folder``, sorted by name.

    Raises:
        HearbenchError: naming the folder when it holds no audio file, or the file that cannot
            be read as audio (any other file than ``.wav``/``.flac``/``.csv``/``.md``/``.txt``
            counts as a mistake).
    """
    root = Path(folder)
    if not root.is_dir():
        raise HearbenchError(f"{root}: impulse response folder not found")
    irs = []
    for path in sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")):
        suffix = path.suffix.lower()
        if suffix in (".csv", ".md", ".txt"):
            continue
        if suffix not in IR_SUFFIXES:
            raise HearbenchError(f"{path}: not an impulse response file (.wav or .flac expected)")
        irs.append(_read_ir(path))
    if not irs:
        raise HearbenchError(f"{root}: no impulse responses (.wav or .flac files) found")
    return tuple(irs)


def split_seen_unseen(
    names: Sequence[str], every: int = UNSEEN_EVERY
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A fixed split of devices into seen (training augmentation) and unseen (test) ones.

    Names are sorted; every ``every``-th one (positions ``every-1, 2*every-1, ...``) is unseen,
    the rest are seen. Deterministic and disjoint; for the 66 MicIRP devices: 44 seen, 22 unseen.
    """
    if every < 2:
        raise HearbenchError(f"every: a split needs every >= 2, got {every}")
    ordered = sorted(set(names))
    unseen = tuple(n for i, n in enumerate(ordered) if i % every == every - 1)
    seen = tuple(n for n in ordered if n not in unseen)
    return seen, unseen


def convolve_clip(x: np.ndarray, h: np.ndarray, level: Level = "rms") -> tuple[np.ndarray, bool]:
    """``convolve(x, h, "full")[:len(x)]`` at the chosen level; returns (y, clipped).

    Raises:
        HearbenchError: when the response is longer than the clip.
    """
    if level not in LEVELS:
        raise HearbenchError(f"level: expected one of {', '.join(LEVELS)}, got {level!r}")
    if h.shape[0] > x.shape[0]:
        raise HearbenchError(
            f"impulse response of {h.shape[0]} samples is longer than the clip ({x.shape[0]})"
        )
    y = fftconvolve(x.astype(np.float64), h)[: x.shape[0]]
    if level == "rms":
        clean = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
        wet = float(np.sqrt(np.mean(np.square(y))))
        if wet > 0.0:
            y = y * (clean / wet)
    peak = float(np.abs(y).max()) if y.size else 0.0
    clipped = peak > 1.0
    if clipped:
        y = y / peak
    return y.astype(np.float32), clipped


@dataclass
class ImpulsePerturbation:
    """Convolution of every clip with one impulse response (one device or one room).

    Attributes:
        kind: ``dir`` (recording device) or ``room``.
        response: The impulse response.
        level: ``rms`` or ``raw`` (module docstring).
        clipped: How many clips had to be scaled to peak 1 so far.
    """

    kind: str
    response: ImpulseResponse
    level: Level = "rms"
    clipped: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        """``dir:Altec_639``."""
        return f"{self.kind}:{self.response.name}"

    def identity(self) -> dict[str, Any]:
        """What makes the numbers: kind, device name, file digest and level (cache key)."""
        return {
            "kind": self.kind,
            "device": self.response.name,
            "sha256": self.response.sha256,
            "level": self.level,
        }

    def apply(self, audio: np.ndarray, sample_rate: int, clip_id: str = "") -> np.ndarray:
        """The perturbed clip (same length, float32)."""
        try:
            y, clipped = convolve_clip(audio, self.response.at(sample_rate), self.level)
        except HearbenchError as exc:
            raise HearbenchError(f"{self.name}: {clip_id or 'clip'}: {exc}") from exc
        self.clipped += int(clipped)
        return y

