"""PaSST token mode: one network pass per chunk, frame embeddings from the patch tokens.

The network runs once per chunk of at most ``max_seconds``; frame embeddings are the patch tokens
(mean over frequency patches) at the native patch stride (``tstride`` spectrogram frames, 100 ms
for PaSST-S), or linearly interpolated to a grid every ``hop_ms`` starting at 0 ms. Longer clips
are cut into chunks on the global patch grid that overlap by twice ``chunk_context_ms`` (1 s by
default, so every kept patch sees at least 1 s of context on both sides inside its chunk, and a
long clip costs 1.25 single passes); each patch is taken from the chunk in which it lies most
centrally, so timestamps run on without seams. Token-mode scene embeddings are the time mean of
the frame embeddings at native stride; the clip-level layers ``features`` and ``logits`` (from the
cls and dist tokens) are given to every frame of the chunk that owns it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from hearbench.embedders.passt_layers import PIECE_SECONDS, PasstLayers
from hearbench.embedders.passt_options import SAMPLE_RATE
from hearbench.windowing import window_timestamps_ms


@dataclass(frozen=True)
class _Chunk:
    """One token-mode forward: patches ``start .. start+length`` owning ``lo .. hi``."""

    start: int
    length: int
    lo: int
    hi: int


class TokenMode(PasstLayers):
    """Token-mode embeddings: chunks of the clip through the network, stitched on the patch grid."""

    def _token_timestamps(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames, centres = self._token_frames(audio)
        n_sounds, n_samples = audio.shape
        if self.settings.hop_ms is None:
            stamps = centres.to(torch.float32)
        else:
            stamps64 = window_timestamps_ms(n_samples, self._hop, SAMPLE_RATE).to(torch.float64)
            frames = _interpolate(frames, centres, stamps64)
            stamps = stamps64.to(torch.float32)
        return frames, stamps.unsqueeze(0).expand(n_sounds, -1).clone()

    def _token_frames(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stitched frame embeddings ``(n, P, D)`` at native stride and their centres (ms)."""
        n_sounds, n_samples = audio.shape
        padded = self._pad_short(audio)
        n_patches = self.net.time_patches(self.frontend.n_frames(padded.shape[-1]))
        chunks = _plan_chunks(n_patches, self._chunk_patches(), self._context_patches())
        span = (chunks[0].length - 1) * self.net.tstride + self.net.patch_size
        per_batch = self._batch_size(span * self.settings.stft_hop)
        piece = self.frontend.n_frames(round(PIECE_SECONDS * SAMPLE_RATE))
        piece_chunks = len(_plan_chunks(
            self.net.time_patches(piece), self._chunk_patches(), self._context_patches()
        ))
        per_batch = max(1, min(per_batch, n_sounds * piece_chunks))
        out = torch.empty(n_sounds, n_patches, self.scene_embedding_size)
        for batch in _batched([(i, c) for c in chunks for i in range(n_sounds)], per_batch):
            if len(chunks) == 1:
                spec = self.frontend(padded[[i for i, _ in batch]])
            else:
                spec = torch.cat([self._chunk_spec(padded[i : i + 1], c) for i, c in batch])
            values = self._layer_values(spec, self._scene_layers, frame_level=True).cpu()
            for row, (i, c) in enumerate(batch):
                out[i, c.lo : c.hi] = values[row, c.lo - c.start : c.hi - c.start]
        centre = [self.net.patch_centre_frame(t) for t in range(n_patches)]
        centres = torch.tensor(centre, dtype=torch.float64) * (
            self.settings.stft_hop * 1000.0 / SAMPLE_RATE
        )
        if n_samples < self._min_samples:
            centres = torch.full((1,), n_samples / 2 * 1000.0 / SAMPLE_RATE, dtype=torch.float64)
        return out, centres

    def _context_patches(self) -> int:
        """``chunk_context_ms`` in patches (at least one)."""
        context_ms = self.settings.chunk_context_ms
        assert context_ms is not None, "chunk_context_ms is set in token mode"
        patch_ms = self.net.tstride * self.settings.stft_hop * 1000.0 / SAMPLE_RATE
        return max(1, math.ceil(context_ms / patch_ms - 1e-9))

    def _chunk_patches(self) -> int:
        return self.net.time_patches(self.frontend.n_frames(self._max_samples))

    def _chunk_spec(self, audio: torch.Tensor, chunk: _Chunk) -> torch.Tensor:
        """Frames of the whole-clip spectrogram a chunk needs, from a bounded audio excerpt."""
        hop = self.settings.stft_hop
        first = chunk.start * self.net.tstride
        stop = first + (chunk.length - 1) * self.net.tstride + self.net.patch_size
        margin = -(-(self.frontend.n_fft // 2) // hop)
        lo_frame = max(0, first - margin)
        hi_sample = min(audio.shape[-1], (stop - 1) * hop + self.frontend.n_fft // 2 + 1)
        spec = self.frontend(audio[:, lo_frame * hop : hi_sample])
        return spec[..., first - lo_frame : stop - lo_frame]



def _plan_chunks(n_patches: int, size: int, context: int) -> list[_Chunk]:
    """Chunks of ``size`` patches overlapping by ``2 * context``, the last flush with the clip end.

    The step is at least half a chunk (the overlap at most half); each patch belongs to the
    chunk whose centre it is nearest (cuts at the middle of every overlap).
    """
    if n_patches <= size:
        return [_Chunk(0, n_patches, 0, n_patches)]
    step = max(1, size // 2, size - 2 * context)
    starts = [*range(0, n_patches - size, step), n_patches - size]
    cuts = [0, *((a + b + size - 1) // 2 + 1 for a, b in itertools.pairwise(starts)), n_patches]
    return [_Chunk(s, size, cuts[k], cuts[k + 1]) for k, s in enumerate(starts)]


def _interpolate(frames: torch.Tensor, centres: torch.Tensor, stamps: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of ``frames (n, P, D)`` at times ``centres`` to ``stamps``."""
    count = frames.shape[1]
    if count == 1:
        return frames.expand(-1, stamps.shape[0], -1).clone()
    position = ((stamps - centres[0]) / (centres[1] - centres[0])).clamp(0, count - 1)
    lo = position.floor().long().clamp(max=count - 2)
    weight = (position - lo).to(frames.dtype)[None, :, None]
    return frames[:, lo] * (1 - weight) + frames[:, lo + 1] * weight



def _batched(items: list[tuple[int, _Chunk]], size: int) -> Iterator[list[tuple[int, _Chunk]]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]

