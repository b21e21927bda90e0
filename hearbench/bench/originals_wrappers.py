"""The original HEAR wrappers beside hearbench's presets of the same method.

* ``hear21passt.base`` (PaSST-S, ``[logits, features]`` every 50 ms from 160 ms windows)
  against hearbench's ``passt_base`` in window mode, both on the wrapper's network weights;
* EfficientAT_HEAR's ``hear_mn.mn04_all_b_mel_avgs`` with ``mode=("clf1",)`` (the wrapper's
  default layer) against hearbench's ``mn04_as``, both on the reference checkpoint from
  ``weights_dir`` when it holds one (else on the weights the wrapper loads itself).

Each side computes the timestamp embeddings of the same 10 s noise clip through its documented
HEAR API (``load_model`` / ``get_timestamp_embeddings``); times are the best of the level's
runs, taken in turns, and the outputs are compared (max relative error ≤ :data:`TOLERANCE`,
timestamps equal). A wrapper that cannot be imported gives a row naming the missing module.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from hearbench.api import Embedder, exception_line
from hearbench.bench.common import Row, best_times_in_turns, max_rel_err
from hearbench.bench.context import BenchContext
from hearbench.bench.originals_common import SECTION, missing_module, skipped_row

log = logging.getLogger(__name__)

TOLERANCE = 1e-4
CLIP_SECONDS = 10.0


@dataclass(frozen=True)
class Original:
    """One original HEAR wrapper and hearbench's preset of its method.

    Attributes:
        name: The wrapper, as the rows name it.
        module: The HEAR module (``load_model`` / ``get_timestamp_embeddings``).
        requires: Modules it needs, checked before it is loaded (the module itself last).
        preset: hearbench's registered embedder computing the same method.
        load: ``(module, context) -> (wrapper model, hearbench embedder, weights label)``: both
            sides on the same weights.
    """

    name: str
    module: str
    requires: tuple[str, ...]
    preset: str
    load: Callable[[ModuleType, BenchContext], tuple[Any, Embedder, str]]


def _net_checkpoint(model: Any, path: Path) -> Path:
    """The wrapper's network weights saved as a plain state dict at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.detach().cpu() for k, v in model.net.state_dict().items()}, path)
    return path


def _load_passt(module: ModuleType, context: BenchContext) -> tuple[Any, Embedder, str]:
    from hearbench.registry import create_embedder

    model = module.load_model(mode="all")
    path = _net_checkpoint(model, context.scratch / "originals" / "hear21passt_net.pt")
    embedder = create_embedder("passt_base", weights=path).to(context.settings.device)
    return model, embedder, "hear21passt's own PaSST-S weights"


def _load_mn(module: ModuleType, context: BenchContext) -> tuple[Any, Embedder, str]:
    from hearbench.registry import create_embedder

    model = module.load_model(model_name="mn04_as", mode=("clf1",))
    weights = context.settings.weights_for("mn04_as")
    if weights is not None:
        model.net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        label = weights.name
    else:
        weights = _net_checkpoint(model, context.scratch / "originals" / "hear_mn_net.pt")
        label = "hear_mn's own mn04_as weights"
    embedder = create_embedder("mn04_as", weights=weights).to(context.settings.device)
    return model, embedder, label


ORIGINALS = (
    Original("hear21passt.base", "hear21passt.base", ("torchaudio", "timm", "hear21passt.base"), "passt_base", _load_passt),
    Original(
        "EfficientAT_HEAR hear_mn",
        "hear_mn.mn04_all_b_mel_avgs",
        ("hear_mn.mn04_all_b_mel_avgs",),
        "mn04_as",
        _load_mn,
    ),
)


def compare_wrapper(
    original: Original, module: ModuleType, model: Any, embedder: Embedder, context: BenchContext, label: str
) -> Row:
    """Time ``module.get_timestamp_embeddings`` and ``embedder`` on one clip; compare their outputs."""
    from hearbench.bench.common import noise_clip

    device = context.device
    audio = noise_clip(embedder.sample_rate, CLIP_SECONDS, device)
    model.eval()
    repeats = context.settings.timed_runs
    (theirs_s, theirs), (ours_s, ours) = best_times_in_turns(
        [lambda: module.get_timestamp_embeddings(audio, model), lambda: embedder.timestamp_embeddings(audio)],
        [repeats, repeats],
        device,
    )
    their_emb, their_ts = theirs
    our_emb, our_ts = ours
    err = max_rel_err(our_emb, their_emb) if tuple(our_emb.shape) == tuple(their_emb.shape) else float("inf")
    same_ts = tuple(our_ts.shape) == tuple(their_ts.shape) and bool(
        torch.allclose(our_ts.double().cpu(), their_ts.double().cpu(), rtol=0, atol=1e-3)
    )
    agree = err <= TOLERANCE and same_ts
    shapes = f"{tuple(our_emb.shape)} vs {tuple(their_emb.shape)}"
    return Row(
        section=SECTION,
        case=f"{original.name} vs hearbench {original.preset}, {CLIP_SECONDS:g} s clip ({label})",
        ours=ours_s,
        reference=theirs_s,
        ratio=theirs_s / ours_s,
        ratio_label="original/hearbench",
        check=(
            f"max rel err {err:.1e}; timestamps {'equal' if same_ts else 'differ'}; {shapes}"
            if err != float("inf")
            else f"outputs differ in shape: {shapes}"
        ),
        target=f"outputs equal (≤ {TOLERANCE:g})",
        met=agree,
        details={"max_rel_err": err, "timestamps_equal": same_ts, "shape": list(our_emb.shape)},
    )


def measure(original: Original, context: BenchContext) -> Row:
    """The row of ``original``: skipped with the missing module, failed with the error, or measured."""
    reason = missing_module(original.requires)
    if reason is not None:
        log.warning("originals: %s skipped (%s)", original.name, reason)
        return skipped_row(original.name, reason)
    try:
        module = importlib.import_module(original.module)
        model, embedder, label = original.load(module, context)
        return compare_wrapper(original, module, model, embedder, context, label)
    except Exception as exc:  # the original's own failure is reported, not raised
        log.warning("originals: %s failed (%s)", original.name, exception_line(exc))
        return Row(
            section=SECTION,
            case=f"{original.name} vs hearbench {original.preset}: failed",
            ours=None,
            reference=None,
            ratio=None,
            ratio_label="",
            check=f"not measured: {exception_line(exc)}",
            target="outputs equal",
            met=False,
            details={"error": exception_line(exc)},
        )


def wrapper_rows(context: BenchContext) -> None:
    """A row per original HEAR wrapper."""
    for original in ORIGINALS:
        context.add(measure(original, context))
