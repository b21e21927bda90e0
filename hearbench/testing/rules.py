"""The output properties of the embedder contract, as rules that raise :class:`ContractError`.

:func:`validate_timestamp_outputs` and :func:`validate_scene_outputs` apply every rule to outputs
computed elsewhere (embedding a task checks each batch with them); the ``check_*`` functions of
:mod:`hearbench.testing.checks` apply one rule each to outputs of test audio.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hearbench.api import Embedder, HearbenchError

HEAR_SAMPLE_RATES = (16000, 22050, 32000, 44100, 48000)
"""Sample rates the final HEAR 2021 rules allow."""

JITTER_MS = 1.0
"""Largest allowed spread of timestamp spacings, and largest allowed drift, in milliseconds."""


class ContractError(HearbenchError):
    """An embedder breaks a property of the contract; the message says which, in one line."""


def contract_audio(n_sounds: int, seconds: float, sample_rate: int, seed: int = 0) -> torch.Tensor:
    """Deterministic test audio in [-1, 1]: tones over noise, different per sound."""
    rng = np.random.default_rng(seed)
    n = max(1, round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    sounds = []
    for i in range(n_sounds):
        x = 0.3 * np.sin(2 * np.pi * 220.0 * (i + 1) * t) + 0.05 * rng.standard_normal(n)
        sounds.append(np.clip(x, -1, 1))
    return torch.tensor(np.stack(sounds), dtype=torch.float32)


def _fail(where: str, reason: str) -> ContractError:
    return ContractError(f"{where}: {reason}" if where else reason)


def duration_ms(embedder: Embedder, audio: torch.Tensor) -> float:
    """Length of ``audio`` ``(n, samples)`` in milliseconds at the embedder's rate."""
    return audio.shape[1] / embedder.sample_rate * 1000.0


def timestamp_shapes(embedder: Embedder, audio: torch.Tensor, emb: Any, stamps: Any, where: str) -> None:
    """Timestamp outputs are tensors: float32 embeddings ``(n, T >= 1, D)``, float timestamps ``(n, T)``."""
    n, d = audio.shape[0], embedder.timestamp_embedding_size
    if not isinstance(emb, torch.Tensor) or not isinstance(stamps, torch.Tensor):
        raise _fail(where, f"outputs must be tensors, got {type(emb).__name__}, {type(stamps).__name__}")
    if emb.dtype != torch.float32:
        raise _fail(where, f"embeddings dtype {emb.dtype}, expected torch.float32")
    if emb.ndim != 3 or emb.shape[0] != n or emb.shape[2] != d or emb.shape[1] < 1:
        raise _fail(where, f"embeddings {tuple(emb.shape)}, expected ({n}, T >= 1, {d})")
    if tuple(stamps.shape) != tuple(emb.shape[:2]) or not stamps.is_floating_point():
        raise _fail(
            where,
            f"timestamps {stamps.dtype} {tuple(stamps.shape)} do not match embeddings {tuple(emb.shape[:2])}",
        )


def finite(emb: torch.Tensor, what: str, where: str) -> None:
    """No NaN or Inf in ``emb``."""
    if not torch.isfinite(emb).all():
        bad = int((~torch.isfinite(emb)).sum())
        raise _fail(where, f"{what} hold NaN or Inf ({bad} of {emb.numel()} values)")


def within_clip(stamps: torch.Tensor, length_ms: float, where: str) -> None:
    """Every timestamp is finite and within ``0..length_ms``."""
    s = stamps.double()
    if not torch.isfinite(s).all():
        raise _fail(where, "timestamps hold NaN or Inf")
    low, high = float(s.min()), float(s.max())
    if low < 0 or high > length_ms + 1e-3:
        raise _fail(
            where, f"timestamps span {low:.3f}..{high:.3f} ms, beyond the clip (0..{length_ms:.3f} ms)"
        )


def hop_of(row: np.ndarray) -> float:
    """Mean spacing of a row of at least two timestamps."""
    return float((row[-1] - row[0]) / (row.size - 1))


def evenly_spaced(stamps: torch.Tensor, where: str) -> None:
    """Timestamps of each sound increase with spacings that differ by less than :data:`JITTER_MS`."""
    for row in stamps.double().cpu().numpy():
        if row.size < 2:
            continue
        diffs = np.diff(row)
        if not (diffs > 0).all():
            raise _fail(where, "timestamps are not evenly spaced: they do not increase")
        jitter = float(diffs.max() - diffs.min())
        if not jitter < JITTER_MS:
            raise _fail(where, f"timestamps are not evenly spaced (jitter {jitter:.3f} ms, limit {JITTER_MS:g} ms)")


def frame_centres(stamps: torch.Tensor, length_ms: float, where: str) -> None:
    """Centred frames leave the same margin before the first and after the last, up to one hop.

    Frame starts or ends (margin of a window on one side), seconds instead of milliseconds and
    audio left out at the end all break this.
    """
    for row in stamps.double().cpu().numpy():
        if row.size < 2:
            continue
        hop, head, tail = hop_of(row), float(row[0]), length_ms - float(row[-1])
        if abs(head - tail) > hop + JITTER_MS:
            raise _fail(
                where,
                f"timestamps are not in ms at frame centres: {head:.3f} ms before the first and "
                f"{tail:.3f} ms after the last of a {length_ms:.3f} ms clip differ by more than "
                f"one hop ({hop:.3f} ms)",
            )


def scene_shapes(embedder: Embedder, audio: torch.Tensor, emb: Any, where: str) -> None:
    """Scene outputs are a float32 tensor ``(n, scene_embedding_size)``."""
    n, d = audio.shape[0], embedder.scene_embedding_size
    if not isinstance(emb, torch.Tensor):
        raise _fail(where, f"scene embeddings must be a tensor, got {type(emb).__name__}")
    if emb.dtype != torch.float32:
        raise _fail(where, f"scene embeddings dtype {emb.dtype}, expected torch.float32")
    if tuple(emb.shape) != (n, d):
        raise _fail(where, f"scene embeddings {tuple(emb.shape)}, expected ({n}, {d})")


def validate_timestamp_outputs(
    embedder: Embedder, audio: torch.Tensor, emb: Any, stamps: Any, where: str = ""
) -> None:
    """Apply every output property to the timestamp outputs of ``audio`` ``(n, samples)``.

    The properties are those of :func:`check_timestamp_embeddings`, :func:`check_finite`,
    :func:`check_timestamps_evenly_spaced`, :func:`check_timestamps_within_clip` and
    :func:`check_timestamps_at_frame_centres`.

    Raises:
        ContractError: naming the first property broken, prefixed with ``where``.
    """
    timestamp_shapes(embedder, audio, emb, stamps, where)
    finite(emb, "embeddings", where)
    evenly_spaced(stamps, where)
    length_ms = duration_ms(embedder, audio)
    within_clip(stamps, length_ms, where)
    frame_centres(stamps, length_ms, where)


def validate_scene_outputs(embedder: Embedder, audio: torch.Tensor, emb: Any, where: str = "") -> None:
    """Apply every output property to the scene outputs of ``audio``: float32 ``(n, D)``, finite.

    Raises:
        ContractError: naming the first property broken, prefixed with ``where``.
    """
    scene_shapes(embedder, audio, emb, where)
    finite(emb, "scene embeddings", where)
