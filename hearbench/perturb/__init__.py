"""Perturbations of test audio: named, deterministic transforms of a clip.

A perturbation sits between a task's audio and the embedder. Each one has a ``name``
(``dir:Altec_639``, ``room:hall``, ``noise:10dB``), an ``identity()`` holding everything that
changes the numbers (the impulse response's or noise files' digests, level, SNR, seed), which
goes into the embedding cache key and the result, and ``apply(audio, sample_rate, clip_id)``.

* :mod:`hearbench.perturb.impulse`: convolution with a measured impulse response, for recording
  devices (``dir``, the MicIRP set) and rooms (``room``), with the fixed seen/unseen device split.
* :mod:`hearbench.perturb.noise`: additive noise at an SNR, seeded per clip.
* :mod:`hearbench.perturb.augment`: seeded draws of training clips through seen devices (DIR
  augmentation of a probe).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from hearbench.perturb.augment import DeviceAugmentation
from hearbench.perturb.impulse import (
    ImpulsePerturbation,
    ImpulseResponse,
    convolve_clip,
    load_impulse_responses,
    split_seen_unseen,
)
from hearbench.perturb.noise import NoisePerturbation, load_noise, parse_snr


class Perturbation(Protocol):
    """What the embedding step needs of a perturbation."""

    @property
    def name(self) -> str:
        """Short display name."""
        ...

    def identity(self) -> dict[str, Any]:
        """Everything that changes the perturbed audio (part of the cache key)."""
        ...

    def apply(self, audio: np.ndarray, sample_rate: int, clip_id: str = "") -> np.ndarray:
        """The perturbed clip, same length, float32."""
        ...


__all__ = [
    "DeviceAugmentation",
    "ImpulsePerturbation",
    "ImpulseResponse",
    "NoisePerturbation",
    "Perturbation",
    "convolve_clip",
    "load_impulse_responses",
    "load_noise",
    "parse_snr",
    "split_seen_unseen",
]
