"""Device impulse response augmentation of training clips (one seeded draw of copies).

The method of "Device-Robust Acoustic Scene Classification via Impulse Response Augmentation"
(Morocutti, Schmid et al., EUSIPCO 2023), on frozen embeddings: in draw ``d`` each training
clip is chosen with probability ``p`` and, when chosen, convolved with one of the *seen* device
impulse responses drawn uniformly. The chosen clips' embeddings are extra training rows beside
the clean ones. Choice and device come from a generator seeded by ``(seed, draw, clip id)``, so
a clip's copy never depends on what else is embedded, and the seen devices are disjoint from the
unseen test devices (:func:`~hearbench.perturb.impulse.split_seen_unseen`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hearbench.api import HearbenchError
from hearbench.perturb.impulse import ImpulseResponse, Level, convolve_clip


def _rng(seed: int, draw: int, clip_id: str) -> np.random.Generator:
    digest = hashlib.sha256(f"dir_augment:{seed}:{draw}:{clip_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@dataclass
class DeviceAugmentation:
    """Draw ``draw`` of the augmentation: which clips get a copy, and through which device.

    Attributes:
        responses: The seen device impulse responses.
        p: Probability that a clip is copied in this draw (0 < p <= 1).
        draw: Index of the draw (0, 1, ...).
        seed: Seed of every choice.
        level: ``rms`` or ``raw`` (:mod:`hearbench.perturb.impulse`).
        clipped: How many copies had to be scaled to peak 1 so far.
    """

    responses: tuple[ImpulseResponse, ...]
    p: float
    draw: int = 0
    seed: int = 0
    level: Level = "rms"
    clipped: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not self.responses:
            raise HearbenchError("dir_augment: no seen device impulse responses to draw from")
        if not 0.0 < self.p <= 1.0:
            raise HearbenchError(f"dir_augment_p: expected 0 < p <= 1, got {self.p}")

    @property
    def name(self) -> str:
        """``dir_augment:p=0.5:draw=0``."""
        return f"dir_augment:p={self.p:g}:draw={self.draw}"

    def identity(self) -> dict[str, Any]:
        """Kind, probability, draw, seed, level and the seen devices' digests (cache key)."""
        return {
            "kind": "dir_augment",
            "p": self.p,
            "draw": self.draw,
            "seed": self.seed,
            "level": self.level,
            "devices": [r.sha256 for r in self.responses],
        }

    def device(self, clip_id: str) -> ImpulseResponse | None:
        """The device clip ``clip_id`` is copied through in this draw, or ``None``."""
        rng = _rng(self.seed, self.draw, clip_id)
        if float(rng.random()) >= self.p:
            return None
        return self.responses[int(rng.integers(len(self.responses)))]

    def chosen(self, clip_ids: Sequence[str]) -> list[str]:
        """The clip ids of ``clip_ids`` that get a copy in this draw, in their order."""
        return [c for c in clip_ids if self.device(c) is not None]

    def apply(self, audio: np.ndarray, sample_rate: int, clip_id: str = "") -> np.ndarray:
        """The clip through its drawn device (unchanged when the clip is not chosen)."""
        response = self.device(clip_id)
        if response is None:
            return audio.astype(np.float32)
        try:
            y, clipped = convolve_clip(audio, response.at(sample_rate), self.level)
        except HearbenchError as exc:
            raise HearbenchError(f"dir:{response.name}: {clip_id or 'clip'}: {exc}") from exc
        self.clipped += int(clipped)
        return y
