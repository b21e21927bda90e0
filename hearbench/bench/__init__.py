"""``hearbench bench``: what hearbench's fast paths buy, measured against the plain way.

Each benchmark runs both implementations on the same machine and inputs in one run and reports
their ratio (absolute times only describe the run):

* ``windows`` (:mod:`~hearbench.bench.windows`): batched window mode against the per-window loop
  of the original HEAR wrappers, outputs checked equal; PaSST also against its arithmetic floor.
* ``modes`` (:mod:`~hearbench.bench.modes`): frame/token modes against window mode per second of
  audio, optionally with linear-probe scores of both on local tasks.
* ``mlp-grid`` (:mod:`~hearbench.bench.probe_grid`): the stacked MLP grid search against fitting
  each point on its own, scores side by side.
* ``gflops`` (:mod:`~hearbench.bench.gflops`): achieved GFLOP/s of every timed extraction as a
  share of the measured matrix-multiply rate.
* ``suite`` (:mod:`~hearbench.bench.suite`): end-to-end time of the ``local`` suite with the
  linear and MLP probes, against its target time.
* ``originals`` (:mod:`~hearbench.bench.originals`): heareval's probe runner and the original
  HEAR wrappers beside hearbench on the same inputs, where they can be imported.

Use :func:`run_bench` with :class:`BenchSettings`; :meth:`BenchReport.format` renders the table.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from hearbench.bench.common import (
    SECTIONS,
    BenchSettings,
    Machine,
    Row,
    fmt_seconds,
    measure_machine,
    torch_threads,
)
from hearbench.bench.context import BenchContext

log = logging.getLogger(__name__)

HEADERS = ("section", "case", "ours", "reference", "ratio", "check", "target", "met")


@dataclass(frozen=True)
class BenchReport:
    """Everything one run measured.

    Attributes:
        settings: What was run.
        machine: Where it ran.
        rows: One row per comparison, in the order measured.
        seconds: Wall-clock time of the whole run.
    """

    settings: BenchSettings
    machine: Machine
    rows: tuple[Row, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able report."""
        return {
            "settings": self.settings.to_dict(),
            "machine": self.machine.to_dict(),
            "rows": [row.to_dict() for row in self.rows],
            "seconds": self.seconds,
        }

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` to ``path``."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return target

    def format(self) -> str:
        """A markdown table of the rows, with the machine and the targets' tally."""
        lines = [
            f"machine: {self.machine.describe()}",
            f"level: {self.settings.level}; times are the best of {self.settings.timed_runs} run(s); "
            f"whole run {self.seconds:.0f} s",
            "",
            format_rows(self.rows),
        ]
        judged = [row for row in self.rows if row.met is not None]
        if judged:
            met = sum(1 for row in judged if row.met)
            lines += ["", f"targets met: {met} of {len(judged)}"]
        return "\n".join(lines)


def format_value(value: float | None, unit: str) -> str:
    """A figure of a row in its unit."""
    if value is None:
        return "-"
    if unit == "s":
        return fmt_seconds(value)
    if unit == "s per s of audio":
        return f"{value * 1000:.1f} ms/s"
    if unit == "GFLOP/s":
        return f"{value:.1f} GFLOP/s"
    return f"{value:.4f} {unit}"


def format_ratio(row: Row) -> str:
    """The ratio of a row with its label."""
    if row.ratio is None:
        return "-"
    if row.ratio_label.startswith("%"):
        return f"{row.ratio:.1f} {row.ratio_label}"
    if row.ratio_label == "score change":
        return f"{row.ratio:+.4f}"
    return f"{row.ratio:.2f}× {row.ratio_label}"


def format_rows(rows: tuple[Row, ...] | list[Row]) -> str:
    """Rows as a markdown table."""
    table = [HEADERS, tuple("---" for _ in HEADERS)]
    for row in rows:
        table.append(
            (
                row.section,
                row.case,
                format_value(row.ours, row.unit),
                format_value(row.reference, row.unit),
                format_ratio(row),
                row.check,
                row.target or "",
                "" if row.met is None else ("yes" if row.met else "no"),
            )
        )
    return "\n".join("| " + " | ".join(cells) + " |" for cells in table)


def _section_runner(name: str) -> Callable[[BenchContext], None]:
    from hearbench.bench import gflops, modes, originals, probe_grid, suite, windows

    runners: dict[str, Callable[[BenchContext], None]] = {
        "windows": windows.run,
        "modes": modes.run,
        "mlp-grid": probe_grid.run,
        "gflops": gflops.run,
        "suite": suite.run,
        "originals": originals.run,
    }
    return runners[name]


def run_bench(settings: BenchSettings, on_row: Callable[[Row], None] | None = None) -> BenchReport:
    """Run the benchmarks of ``settings`` in the order of :data:`SECTIONS`.

    Args:
        settings: What to run.
        on_row: Called with each row as soon as it is measured (progress output).
    """
    start = time.perf_counter()
    with torch_threads(settings.threads), contextlib.ExitStack() as stack:
        device = torch.device(settings.device)
        machine = measure_machine(device)
        log.info("bench on %s", machine.describe())
        context = BenchContext(settings, machine, stack, on_row)
        for section in SECTIONS:
            if section in settings.sections:
                log.info("bench section %s", section)
                _section_runner(section)(context)
        context.matmul_peak()
        rows = tuple(context.rows)
    return BenchReport(settings, context.machine, rows, time.perf_counter() - start)


__all__ = ["SECTIONS", "BenchReport", "BenchSettings", "Machine", "Row", "format_rows", "run_bench"]
