"""Achieved GFLOP/s of embedding extraction against the machine's matrix-multiply rate.

Each timed extraction of the run (window mode batched, the per-window loop, frame and token
modes) is turned into a rate: ``2 × MACs / seconds``, with the MACs of the very call counted by
:func:`hearbench.complexity.count_macs` (matrix products, convolutions, attention). The limit is
a large float32 matrix multiply timed in the same run; the percentage says how much of the
hardware the extraction uses. Depthwise convolutions and small per-window products cannot
reach the matmul rate, so MobileNets sit far below it by nature; PaSST should come close.
"""

from __future__ import annotations

from hearbench.bench.common import Row
from hearbench.bench.context import BenchContext


def run(context: BenchContext) -> None:
    """One row per timed extraction; measures window mode first when nothing was timed yet."""
    if not context.extractions:
        from hearbench.bench import windows

        name, seconds = windows.plan("quick")[0]
        windows.measure(context, name, seconds)
    peak = context.matmul_peak()
    for item in context.extractions:
        rate = 2.0 * item.macs / item.time_s / 1e9
        context.add(
            Row(
                section="gflops",
                case=f"{item.embedder} {item.mode} {item.seconds:g} s",
                ours=rate,
                reference=peak,
                ratio=100.0 * rate / peak,
                ratio_label="% of matmul peak",
                unit="GFLOP/s",
                check=f"{item.macs / 1e9:.2f} GMAC in {item.time_s:.3f} s",
                details={"macs": item.macs, "time_s": item.time_s},
            )
        )
