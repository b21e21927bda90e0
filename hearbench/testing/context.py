"""The settings of a checking run and the outputs its checks share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from hearbench.api import Embedder
from hearbench.testing.rules import contract_audio, scene_shapes, timestamp_shapes


@dataclass
class CheckContext:
    """Clip lengths and tolerance of a checking run, and the outputs its checks share.

    Outputs are computed once per embedder (under ``torch.inference_mode``) and reused by every
    check that needs them; a context switches to a new embedder by forgetting the old outputs.

    Attributes:
        seconds: Length of the standard clips (a batch of two).
        short_seconds: Length of the very short clip (shorter than any analysis window).
        long_seconds: Length of the long clip (drift and chunking).
        tolerance: Largest relative difference between a clip embedded alone and in a batch.
    """

    seconds: float = 1.0
    short_seconds: float = 0.01
    long_seconds: float = 30.0
    tolerance: float = 1e-4
    _owner: Embedder | None = field(default=None, repr=False)
    _memo: dict[tuple[Any, ...], tuple[bool, Any]] = field(default_factory=dict, repr=False)

    def forget(self) -> None:
        """Drop every stored output."""
        self._owner, self._memo = None, {}

    def fresh(self) -> CheckContext:
        """A context with the same settings and no stored outputs."""
        return CheckContext(self.seconds, self.short_seconds, self.long_seconds, self.tolerance)

    def _run(self, embedder: Embedder, key: tuple[Any, ...], fn: Callable[[], Any]) -> Any:
        if self._owner is not embedder:
            self._owner, self._memo = embedder, {}
        if key not in self._memo:
            try:
                with torch.inference_mode():
                    self._memo[key] = (True, fn())
            except Exception as exc:
                self._memo[key] = (False, exc)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    def audio(self, embedder: Embedder, n: int, seconds: float, offset: int = 0) -> torch.Tensor:
        """Sounds ``offset..offset+n`` of the test audio of ``seconds`` at the embedder's rate."""
        return contract_audio(offset + n, seconds, embedder.sample_rate)[offset:]

    def timestamps(
        self, embedder: Embedder, n: int, seconds: float, *, offset: int = 0, run: int = 0
    ) -> tuple[torch.Tensor, Any, Any]:
        """``(audio, embeddings, timestamps)`` as returned, unchecked (``run`` > 0 recomputes)."""
        audio = self.audio(embedder, n, seconds, offset)
        emb, stamps = self._run(
            embedder, ("timestamps", n, seconds, offset, run), lambda: embedder.timestamp_embeddings(audio)
        )
        return audio, emb, stamps

    def scene(
        self, embedder: Embedder, n: int, seconds: float, *, offset: int = 0
    ) -> tuple[torch.Tensor, Any]:
        """``(audio, scene embeddings)`` as returned, unchecked."""
        audio = self.audio(embedder, n, seconds, offset)
        emb = self._run(embedder, ("scene", n, seconds, offset), lambda: embedder.scene_embeddings(audio))
        return audio, emb

    def well_formed_timestamps(
        self, embedder: Embedder, n: int, seconds: float, *, offset: int = 0, run: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Timestamp outputs whose types and shapes are right (else :class:`ContractError`)."""
        audio, emb, stamps = self.timestamps(embedder, n, seconds, offset=offset, run=run)
        timestamp_shapes(embedder, audio, emb, stamps, clip_label(n, seconds))
        return audio, emb, stamps

    def well_formed_scene(
        self, embedder: Embedder, n: int, seconds: float, *, offset: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Scene outputs whose type and shape are right (else :class:`ContractError`)."""
        audio, emb = self.scene(embedder, n, seconds, offset=offset)
        scene_shapes(embedder, audio, emb, clip_label(n, seconds))
        return audio, emb


def clip_label(n: int, seconds: float) -> str:
    """How messages name a batch of test clips."""
    return f"{n} x {seconds:g} s"
