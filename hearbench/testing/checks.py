"""One named check per property of the embedder contract.

Each check is ``check_x(embedder, context=None) -> str``: it returns what it saw, or raises
:class:`~hearbench.testing.rules.ContractError` with a one-line reason. A shared
:class:`~hearbench.testing.context.CheckContext` sets the clip lengths and computes each output
once for all checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from hearbench.api import Embedder
from hearbench.testing.context import CheckContext, clip_label
from hearbench.testing.rules import (
    HEAR_SAMPLE_RATES,
    JITTER_MS,
    ContractError,
    duration_ms,
    evenly_spaced,
    finite,
    frame_centres,
    hop_of,
    validate_scene_outputs,
    validate_timestamp_outputs,
    within_clip,
)

Check = Callable[..., str]
"""A contract check: ``check(embedder, context=None) -> description``, raising on failure."""


def _context(context: CheckContext | None) -> CheckContext:
    return CheckContext() if context is None else context


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _relative_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = float(b.abs().max()) or 1.0
    return float((a - b).abs().max()) / scale


def check_sample_rate(embedder: Embedder, context: CheckContext | None = None) -> str:
    """``sample_rate`` is an int attribute among the HEAR 2021 rates."""
    rate = getattr(embedder, "sample_rate", None)
    if not _positive_int(rate) or rate not in HEAR_SAMPLE_RATES:
        allowed = ", ".join(str(r) for r in HEAR_SAMPLE_RATES)
        raise ContractError(f"sample_rate is {rate!r}, expected an int among {allowed}")
    return f"{rate} Hz"


def check_embedding_sizes(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Embedding sizes are positive ints and the timestamp size is what ``layer_info`` announces."""
    for attr in ("timestamp_embedding_size", "scene_embedding_size"):
        value = getattr(embedder, attr)
        if not _positive_int(value):
            raise ContractError(f"{attr} must be a positive int, got {value!r}")
    layers = embedder.selected_layers
    declared = sum(info.width for info in layers)
    if embedder.timestamp_embedding_size != declared:
        raise ContractError(
            f"timestamp_embedding_size {embedder.timestamp_embedding_size} != {declared}, "
            f"the width of layers {', '.join(info.name for info in layers)} in layer_info"
        )
    return f"timestamp {declared}, scene {embedder.scene_embedding_size}"


def check_timestamp_embeddings(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Timestamp outputs are tensors: float32 embeddings ``(n, T, D)``, timestamps ``(n, T)``."""
    ctx = _context(context)
    _, emb, _ = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    return f"shape {tuple(emb.shape)}"


def check_scene_embeddings(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Scene outputs are a float32 tensor ``(n, scene_embedding_size)``."""
    ctx = _context(context)
    _, emb = ctx.well_formed_scene(embedder, 2, ctx.seconds)
    return f"shape {tuple(emb.shape)}"


def check_finite(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Timestamp and scene embeddings hold no NaN or Inf."""
    ctx = _context(context)
    _, emb, _ = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    finite(emb, "embeddings", clip_label(2, ctx.seconds))
    _, scene = ctx.well_formed_scene(embedder, 2, ctx.seconds)
    finite(scene, "scene embeddings", clip_label(2, ctx.seconds))
    return "all values finite"


def check_timestamps_within_clip(embedder: Embedder, context: CheckContext | None = None) -> str:
    """No timestamp lies before 0 ms or beyond the end of the clip."""
    ctx = _context(context)
    audio, _, stamps = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    within_clip(stamps, duration_ms(embedder, audio), clip_label(2, ctx.seconds))
    return f"{float(stamps.min()):.3f}..{float(stamps.max()):.3f} ms of {duration_ms(embedder, audio):g} ms"


def check_timestamps_evenly_spaced(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Timestamps increase with an even spacing (jitter under 1 ms)."""
    ctx = _context(context)
    _, _, stamps = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    evenly_spaced(stamps, clip_label(2, ctx.seconds))
    row = stamps[0].double().cpu().numpy()
    if row.size < 2:
        return "1 frame"
    return f"{row.size} frames, hop {hop_of(row):.3f} ms"


def check_timestamps_at_frame_centres(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Timestamps are in milliseconds at frame centres (equal margins at both ends, up to one hop)."""
    ctx = _context(context)
    audio, _, stamps = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    length_ms = duration_ms(embedder, audio)
    frame_centres(stamps, length_ms, clip_label(2, ctx.seconds))
    row = stamps[0].double().cpu().numpy()
    return f"first {row[0]:.3f} ms, last {row[-1]:.3f} ms of {length_ms:g} ms"


def check_batch_independence(embedder: Embedder, context: CheckContext | None = None) -> str:
    """A clip embeds the same alone as in a batch (timestamp and scene outputs)."""
    ctx = _context(context)
    _, batch, batch_stamps = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    _, alone, alone_stamps = ctx.well_formed_timestamps(embedder, 1, ctx.seconds, offset=1)
    if alone.shape != batch[1:].shape or not torch.equal(alone_stamps, batch_stamps[1:]):
        raise ContractError(
            f"a clip alone gives {tuple(alone.shape)} and other timestamps than in a batch "
            f"({tuple(batch[1:].shape)})"
        )
    gap = _relative_gap(batch[1:], alone)
    if not gap <= ctx.tolerance:
        raise ContractError(f"a clip embeds differently alone and in a batch (relative gap {gap:.2e})")
    scene_batch = ctx.well_formed_scene(embedder, 2, ctx.seconds)[1]
    scene_alone = ctx.well_formed_scene(embedder, 1, ctx.seconds, offset=1)[1]
    scene_gap = _relative_gap(scene_batch[1:], scene_alone)
    if not scene_gap <= ctx.tolerance:
        raise ContractError(f"scene embedding depends on the batch (relative gap {scene_gap:.2e})")
    return f"relative gap {max(gap, scene_gap):.1e}"


def check_determinism(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Two runs on the same audio give identical timestamp outputs."""
    ctx = _context(context)
    _, a, sa = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    _, b, sb = ctx.well_formed_timestamps(embedder, 2, ctx.seconds, run=1)
    if not (a.shape == b.shape and torch.equal(a, b) and torch.equal(sa, sb)):
        gap = _relative_gap(a, b) if a.shape == b.shape else float("inf")
        raise ContractError(f"two runs on the same audio differ (relative gap {gap:.2e})")
    return "identical"


def _valid_outputs_at(embedder: Embedder, ctx: CheckContext, seconds: float, where: str) -> int:
    """Validate the timestamp and scene outputs of one ``seconds``-long clip; its frame count."""
    audio, emb, stamps = ctx.timestamps(embedder, 1, seconds)
    validate_timestamp_outputs(embedder, audio, emb, stamps, where)
    audio, scene = ctx.scene(embedder, 1, seconds)
    validate_scene_outputs(embedder, audio, scene, where)
    return int(emb.shape[1])


def check_short_clip(embedder: Embedder, context: CheckContext | None = None) -> str:
    """A clip shorter than one analysis window gives valid timestamp and scene outputs."""
    ctx = _context(context)
    frames = _valid_outputs_at(embedder, ctx, ctx.short_seconds, f"{ctx.short_seconds * 1000:g} ms clip")
    return f"{ctx.short_seconds * 1000:g} ms: {frames} frame(s)"


def check_long_clip(embedder: Embedder, context: CheckContext | None = None) -> str:
    """A long clip gives valid timestamp and scene outputs."""
    ctx = _context(context)
    frames = _valid_outputs_at(embedder, ctx, ctx.long_seconds, f"{ctx.long_seconds:g} s clip")
    return f"{ctx.long_seconds:g} s: {frames} frames"


def check_no_timestamp_drift(embedder: Embedder, context: CheckContext | None = None) -> str:
    """Over the long clip, every timestamp is within 1 ms of the standard clip's hop grid."""
    ctx = _context(context)
    _, _, short = ctx.well_formed_timestamps(embedder, 2, ctx.seconds)
    audio, _, long = ctx.well_formed_timestamps(embedder, 1, ctx.long_seconds)
    ref = short[0].double().cpu().numpy()
    row = long[0].double().cpu().numpy()
    if ref.size < 2 or row.size < 2:
        raise ContractError(f"cannot measure drift: {ref.size} and {row.size} frames in the clips")
    hop = hop_of(ref)
    grid = row[0] + hop * np.arange(row.size)
    k = int(np.abs(row - grid).argmax())
    drift = float(abs(row[k] - grid[k]))
    where = f"{ctx.long_seconds:g} s clip"
    if not drift < JITTER_MS:
        raise ContractError(
            f"{where}: timestamps drift by {drift:.3f} ms from a {hop:.3f} ms hop "
            f"(frame {k} at {row[k]:.3f} ms, expected {grid[k]:.3f} ms)"
        )
    frame_centres(long, duration_ms(embedder, audio), where)
    return f"{row.size} frames over {ctx.long_seconds:g} s, drift {drift:.3f} ms"


ALL_CHECKS: tuple[Check, ...] = (
    check_sample_rate,
    check_embedding_sizes,
    check_timestamp_embeddings,
    check_scene_embeddings,
    check_finite,
    check_timestamps_within_clip,
    check_timestamps_evenly_spaced,
    check_timestamps_at_frame_centres,
    check_batch_independence,
    check_determinism,
    check_short_clip,
    check_long_clip,
    check_no_timestamp_drift,
)
"""Every check, in the order :func:`check_embedder` runs them."""

CHECKS: dict[str, Check] = {fn.__name__: fn for fn in ALL_CHECKS}
"""Every check by name."""
