"""Window mode, batched (hearbench) against the per-window loop of the original HEAR wrappers.

The wrappers (``hear21passt``, EfficientAT's ``hear_mn``) reflect-pad the clip by half a window
and run one full frontend + network forward per window position in a Python loop. The loop here
does exactly that with the embedder's own frontend and network, and its outputs are checked
against the embedder's batched ``timestamp_embeddings`` (max relative error ≤ 1e-4).

For PaSST the batched time is also compared with its arithmetic floor: the multiply-accumulates
of the call (:func:`hearbench.complexity.count_macs`) at the measured float32 matrix-multiply
rate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

from hearbench.api import Embedder, HearbenchError
from hearbench.bench.common import (
    Row,
    best_times_in_turns,
    make_embedder,
    max_rel_err,
    noise_clip,
    weights_label,
)
from hearbench.bench.context import BenchContext, Extraction
from hearbench.complexity import count_macs
from hearbench.windowing import n_windows, reflect_pad

log = logging.getLogger(__name__)

MOBILENETS = ("mn04_as", "mn10_as", "dymn04_as")
PASST = "passt_base"
TOLERANCE = 1e-4
LOOP_TARGET = 5.0
FLOOR_TARGET = 1.5
WARMUP_SECONDS = 1.0


def plan(level: str) -> list[tuple[str, float]]:
    """``(embedder, clip seconds)`` measured at ``level``.

    ``quick``: mn04 on 10 s, PaSST on 2 s. ``default``: the three MobileNets on 10 s, PaSST on
    3 s (its per-window loop takes about 3 s per second of audio on two CPU cores). ``full``:
    all four on 10 s and 120 s.
    """
    if level == "quick":
        return [("mn04_as", 10.0), (PASST, 2.0)]
    if level == "default":
        return [*((name, 10.0) for name in MOBILENETS), (PASST, 3.0)]
    return [(name, seconds) for name in (*MOBILENETS, PASST) for seconds in (10.0, 120.0)]


def window_forward(embedder: Embedder) -> tuple[Callable[[torch.Tensor], torch.Tensor], int, int]:
    """The wrappers' per-window forward of ``embedder``, its window and hop in samples.

    MobileNets give the pooled final feature map (``clf1``, ``hear_mn``'s default); PaSST gives
    ``[logits, features]`` (``hear21passt.base``). Other layer selections are not covered.
    """
    from hearbench.embedders.mobilenet import MobileNetEmbedder
    from hearbench.embedders.passt import PasstEmbedder, ms_to_samples

    if isinstance(embedder, MobileNetEmbedder):
        mn = embedder

        def mn_forward(window: torch.Tensor) -> torch.Tensor:
            return mn.net(mn.frontend(window)[:, None])[1]

        return mn_forward, mn.options.samples("window_ms"), mn.options.samples("hop_ms")
    if isinstance(embedder, PasstEmbedder):
        passt = embedder
        settings = passt.settings
        if settings.window_ms is None or settings.hop_ms is None:
            raise HearbenchError("bench: the per-window loop needs PaSST in window mode")

        def passt_forward(window: torch.Tensor) -> torch.Tensor:
            return torch.cat(passt.net(passt.frontend(window)), dim=1)

        return passt_forward, ms_to_samples(settings.window_ms), ms_to_samples(settings.hop_ms)
    raise HearbenchError(f"bench: no per-window loop for {embedder.name}")


def per_window_loop(embedder: Embedder, audio: torch.Tensor) -> torch.Tensor:
    """Timestamp embeddings ``(n, T, D)`` the way the HEAR wrappers compute them.

    The clip is reflect-padded by half a window; window ``i`` starts at ``i * hop`` of the padded
    clip (centred on ``i * hop`` of the original), and each one is a separate forward.
    """
    forward, window, hop = window_forward(embedder)
    padded = reflect_pad(audio, window // 2)
    outputs = [
        forward(padded[:, i * hop : i * hop + window]) for i in range(n_windows(audio.shape[-1], hop))
    ]
    return torch.stack(outputs, dim=1)


def measure(context: BenchContext, name: str, seconds: float) -> None:
    """Time the batched window mode and the loop of ``name`` on a ``seconds`` clip; add rows."""
    settings, device = context.settings, context.device
    embedder = make_embedder(name, settings)
    audio = noise_clip(embedder.sample_rate, seconds, device)
    warm = noise_clip(embedder.sample_rate, min(seconds, WARMUP_SECONDS), device)
    # the batched path is cheap enough to repeat at every length (a single long run is at the
    # mercy of whatever else the machine does); the slow loop is repeated on short clips only
    repeats = settings.timed_runs
    loop_repeats = settings.timed_runs if seconds <= 10 and name != PASST else 1
    embedder.timestamp_embeddings(warm)
    with torch.no_grad():
        per_window_loop(embedder, warm)
    (batched_s, (batched, _)), (loop_s, looped) = best_times_in_turns(
        [lambda: embedder.timestamp_embeddings(audio), lambda: per_window_loop(embedder, audio)],
        [repeats, loop_repeats],
        device,
    )
    error = max_rel_err(batched, looped)
    macs = count_macs(embedder.timestamp_embeddings, audio)
    context.extractions += [
        Extraction(name, "window", seconds, macs, batched_s),
        Extraction(name, "loop", seconds, macs, loop_s),
    ]
    agree = error <= TOLERANCE
    check = f"max rel err {error:.1e} ({'≤' if agree else '>'} {TOLERANCE:g})"
    label = f"{name} {seconds:g} s ({weights_label(settings, name)}, {batched.shape[1]} windows)"
    speedup = loop_s / batched_s
    is_passt = name == PASST
    context.add(
        Row(
            section="windows",
            case=label,
            ours=batched_s,
            reference=loop_s,
            ratio=speedup,
            ratio_label="loop/batched",
            check=check,
            target=None if is_passt else f"≥{LOOP_TARGET:g}×",
            met=None if is_passt else bool(agree and speedup >= LOOP_TARGET),
            details={"max_rel_err": error, "macs": macs, "windows": int(batched.shape[1])},
        )
    )
    if is_passt:
        peak = context.matmul_peak()
        floor_s = 2.0 * macs / (peak * 1e9)
        ratio = batched_s / floor_s
        context.add(
            Row(
                section="windows",
                case=f"{name} {seconds:g} s batched vs arithmetic floor",
                ours=batched_s,
                reference=floor_s,
                ratio=ratio,
                ratio_label="batched/floor",
                check=f"{macs / 1e9:.1f} GMAC at {peak:.0f} GFLOP/s",
                target=f"≤{FLOOR_TARGET:g}×",
                met=bool(agree and ratio <= FLOOR_TARGET),
                details={"macs": macs, "matmul_gflops": peak},
            )
        )
    log.info("windows %s %.0f s: batched %.3f s, loop %.3f s", name, seconds, batched_s, loop_s)


def run(context: BenchContext) -> None:
    """Every (embedder, clip) of the level."""
    for name, seconds in plan(context.settings.level):
        measure(context, name, seconds)
