"""What a trained probe (the head) costs, and the embedder + head totals a result carries.

The head's parameters are those of its trained network (:meth:`Probe.head_module`, shared
parameters once; buffers such as standardisation statistics and a k-NN's stored training set
are not parameters). Its MACs are traced with :func:`~hearbench.complexity.macs.count_macs`,
as the embedders' are, on :meth:`Probe.head_forward` over seeded noise of the embedding's width:

* event tasks: one clip of ``round(frames_per_second * seconds)`` frames (``seconds`` = 10, the
  embedders' clip), divided by ``seconds``; a sequence head's cost grows with the frames it
  sees, as it runs;
* scene tasks: one scene embedding per clip, divided by the mean test-clip duration.

The totals add the embedder's figures: ``total_params = params + head_params`` and
``total_macs_per_second = macs_per_second + head_macs_per_second`` for event tasks (the
timestamp embeddings feed the head), ``scene_macs_per_second + head_macs_per_second`` for
scene tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from hearbench.api import HearbenchError
from hearbench.complexity.macs import count_macs
from hearbench.complexity.params import count_params
from hearbench.probes.base import Probe
from hearbench.task_kinds import task_kind
from hearbench.task_kinds.event import frame_rate as frame_rate

HEAD_SECONDS = 10.0
HEAD_KEYS = ("head_params", "head_macs_per_second", "total_params", "total_macs_per_second")
"""The complexity keys :func:`with_head` adds to a result."""


@dataclass(frozen=True)
class HeadComplexity:
    """The cost of one trained head.

    Attributes:
        params: Parameters of the trained network.
        macs_per_second: Multiply-accumulates per second of audio.
        frames: Frames of the traced forward.
        seconds: Seconds of audio those frames stand for.
    """

    params: int
    macs_per_second: float
    frames: int
    seconds: float


def head_complexity(probe: Probe, n_features: int, frames: int, seconds: float) -> HeadComplexity:
    """Trace one forward of a fitted ``probe`` over ``frames`` frames of width ``n_features``.

    Raises:
        HearbenchError: if ``frames`` or ``seconds`` is not positive.
    """
    if frames < 1 or not seconds > 0:
        raise HearbenchError(f"head complexity: frames and seconds must be positive, got {frames}, {seconds}")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(frames, n_features, generator=generator)
    macs = count_macs(probe.head_forward, x)
    return HeadComplexity(count_params(probe.head_module()), macs / seconds, frames, float(seconds))


def with_head(complexity: Mapping[str, Any], head: HeadComplexity, embedding_type: str) -> dict[str, Any]:
    """``complexity`` (the embedder's figures) with the head's and the totals (module docstring)."""
    out = dict(complexity)
    out["head_params"] = head.params
    out["head_macs_per_second"] = head.macs_per_second
    params = complexity.get("params")
    if isinstance(params, int | float):
        out["total_params"] = params + head.params
    macs = complexity.get(task_kind(embedding_type).embedder_macs_key)
    if isinstance(macs, int | float):
        out["total_macs_per_second"] = macs + head.macs_per_second
    return out
