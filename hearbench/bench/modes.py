"""One-pass frame modes against window mode: speed per second of audio, and scores.

MobileNets' ``mode=frames`` and PaSST's ``mode=tokens`` run the network once per clip (chunk)
instead of once per window. Their time per second of audio is compared with the batched window
mode, and PaSST's token mode also with the wrappers' per-window loop. With ``scores_dir`` both
modes are evaluated with the linear probe on every task found there, so the score change that
buys the speed is on the same table. MobileNets compute scene embeddings the same way in both
modes, so only event tasks are scored for them.
"""

from __future__ import annotations

import logging

from hearbench.bench.common import Row, best_time, make_embedder, noise_clip, weights_label
from hearbench.bench.context import BenchContext, Extraction
from hearbench.bench.windows import MOBILENETS, PASST, per_window_loop
from hearbench.complexity import count_macs

log = logging.getLogger(__name__)

TOKENS_TARGET = 5.0
SCORE_EMBEDDERS = ("mn04_as", PASST)
"""Embedders scored in both modes with ``scores_dir`` (PaSST only at level ``full``)."""


def frame_mode(name: str) -> str:
    """The one-pass mode of ``name``'s family."""
    return "tokens" if name.startswith("passt") else "frames"


def plan(level: str) -> list[tuple[str, float]]:
    """``(embedder, clip seconds)``: the clips of the window benchmark, where the loop was timed."""
    from hearbench.bench.windows import plan as window_plan

    if level == "quick":
        return [("mn04_as", 10.0), (PASST, 2.0)]
    if level == "default":
        return [*((name, 10.0) for name in MOBILENETS), (PASST, 3.0), (PASST, 10.0)]
    return window_plan(level)


def _time_mode(context: BenchContext, name: str, mode: str, seconds: float) -> Extraction:
    known = context.extraction(name, mode, seconds)
    if known is not None:
        return known
    settings, device = context.settings, context.device
    options = {} if mode in ("window", "loop") else {"mode": mode}
    embedder = make_embedder(name, settings, **options)
    audio = noise_clip(embedder.sample_rate, seconds, device)
    repeats = settings.timed_runs if seconds <= 10 else 1
    if mode == "loop":
        macs = _time_mode(context, name, "window", seconds).macs
        time_s, _ = best_time(lambda: per_window_loop(embedder, audio), 1, device)
    else:
        time_s, _ = best_time(lambda: embedder.timestamp_embeddings(audio), repeats, device)
        macs = count_macs(embedder.timestamp_embeddings, audio)
    item = Extraction(name, mode, seconds, macs, time_s)
    context.extractions.append(item)
    return item


def measure(context: BenchContext, name: str, seconds: float) -> None:
    """Window vs one-pass mode of ``name`` on a ``seconds`` clip (and PaSST tokens vs the loop)."""
    mode = frame_mode(name)
    window = _time_mode(context, name, "window", seconds)
    frames = _time_mode(context, name, mode, seconds)
    per_window = window.time_s / seconds
    per_frame = frames.time_s / seconds
    label = weights_label(context.settings, name)
    context.add(
        Row(
            section="modes",
            case=f"{name} {seconds:g} s, {mode} vs window ({label})",
            ours=per_frame,
            reference=per_window,
            ratio=per_window / per_frame,
            ratio_label=f"window/{mode}",
            unit="s per s of audio",
            check=f"MACs per s of audio {frames.macs / seconds / 1e9:.2f} G vs "
            f"{window.macs / seconds / 1e9:.2f} G",
            details={"macs_frames": frames.macs, "macs_window": window.macs},
        )
    )
    if mode == "tokens" and (seconds <= 10 or context.settings.level == "full"):
        loop = _time_mode(context, name, "loop", seconds)
        per_loop = loop.time_s / seconds
        ratio = per_loop / per_frame
        context.add(
            Row(
                section="modes",
                case=f"{name} {seconds:g} s, tokens vs per-window loop",
                ours=per_frame,
                reference=per_loop,
                ratio=ratio,
                ratio_label="loop/tokens",
                unit="s per s of audio",
                target=f"≥{TOKENS_TARGET:g}×",
                met=bool(ratio >= TOKENS_TARGET),
            )
        )
    log.info("modes %s %.0f s: window %.3f s, %s %.3f s", name, seconds, window.time_s, mode, frames.time_s)


def scores(context: BenchContext) -> None:
    """Linear-probe scores of window and one-pass modes on every task under ``scores_dir``."""
    from hearbench.cache import EmbeddingCache
    from hearbench.runner import evaluate
    from hearbench.task_kinds import task_kind
    from hearbench.tasks.cards import scan_tasks
    from hearbench.tasks.format import load_task

    settings = context.settings
    if settings.scores_dir is None:
        return
    names = SCORE_EMBEDDERS if settings.level == "full" else SCORE_EMBEDDERS[:1]
    cache = EmbeddingCache(context.scratch / "scores-cache")
    for path in sorted(scan_tasks(settings.scores_dir)):
        task = load_task(path)
        for name in names:
            if not task_kind(task).per_frame and frame_mode(name) == "frames":
                log.info("scores: %s on %s skipped (same scene embeddings in both modes)", name, task.name)
                continue
            results = {}
            for mode in ("window", frame_mode(name)):
                options = {} if mode == "window" else {"mode": mode}
                embedder = make_embedder(name, settings, **options)
                result = evaluate(embedder, task, "linear", cache=cache, progress=False)
                results[mode] = (result.scores[task.primary_metric].mean, result.timing)
            window_score, window_timing = results["window"]
            frame_score, frame_timing = results[frame_mode(name)]
            context.add(
                Row(
                    section="modes",
                    case=f"{name} ({weights_label(settings, name)}) on {task.name}: "
                    f"{frame_mode(name)} vs window, linear probe",
                    ours=frame_score,
                    reference=window_score,
                    ratio=frame_score - window_score,
                    ratio_label="score change",
                    unit=task.primary_metric,
                    check=f"embed {frame_timing['embed_s']:.1f} s vs {window_timing['embed_s']:.1f} s",
                    details={"timing": {"window": window_timing, frame_mode(name): frame_timing}},
                )
            )


def run(context: BenchContext) -> None:
    """Every (embedder, clip) of the level, then the scores when asked for."""
    for name, seconds in plan(context.settings.level):
        measure(context, name, seconds)
    scores(context)
