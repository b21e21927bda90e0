"""The cost axes of the complexity plots: their names, aliases and axis labels.

Costs come from each row's ``complexity`` (see :mod:`hearbench.complexity`): ``params``
(parameters of the network), ``macs_per_second`` (multiply-accumulates per second of audio) and
``latency_ms`` (median time of one timestamp-embedding call); ``macs`` and ``latency`` are
accepted as short names. The trained head's cost and the embedder + head totals
(:mod:`hearbench.complexity.head`) are costs too: ``head_params``, ``head_macs_per_second``
(``head_macs``), ``total_params`` and ``total_macs_per_second`` (``total_macs``), as is every
other numeric figure of :class:`~hearbench.complexity.Complexity` (:data:`OTHER_COSTS`);
:func:`check_cost_axes` refuses any other name before a report starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from hearbench.api import HearbenchError

COST_KEYS = {
    "params": "params",
    "macs": "macs_per_second",
    "macs_per_second": "macs_per_second",
    "latency": "latency_ms",
    "latency_ms": "latency_ms",
    "head_params": "head_params",
    "head_macs": "head_macs_per_second",
    "head_macs_per_second": "head_macs_per_second",
    "total_params": "total_params",
    "total_macs": "total_macs_per_second",
    "total_macs_per_second": "total_macs_per_second",
}
OTHER_COSTS = (
    "params_used",
    "scene_macs_per_second",
    "model_macs_10s",
    "latency_ms_p90",
    "scene_latency_ms",
    "scene_latency_ms_p90",
    "realtime_factor",
    "peak_memory_mb",
    "frames_per_second",
    "embedding_width",
    "embedding_floats_per_second",
    "embedding_bytes_per_second",
)
"""The other numeric complexity figures a plot may take as its cost."""
COST_LABELS = {
    "params": "parameters",
    "macs_per_second": "MACs per second of audio",
    "latency_ms": "latency (ms)",
    "head_params": "head parameters",
    "head_macs_per_second": "head MACs per second of audio",
    "total_params": "embedder + head parameters",
    "total_macs_per_second": "embedder + head MACs per second of audio",
}


def cost_key(x: str) -> str:
    """The complexity key a cost name refers to (``"macs"`` → ``"macs_per_second"``...)."""
    return COST_KEYS.get(x, x)


def check_cost_axes(x: Sequence[str]) -> None:
    """Refuse cost names that are neither in :data:`COST_KEYS` nor in :data:`OTHER_COSTS`.

    Raises:
        HearbenchError: one line naming the unknown cost and the allowed ones.
    """
    known = [*COST_KEYS, *OTHER_COSTS]
    for name in x:
        if name not in known:
            raise HearbenchError(f"--x: {name!r} is not a cost; choose from {', '.join(known)}")


def cost_label(key: str) -> str:
    """Axis label of a complexity key."""
    return COST_LABELS.get(key, key)
