"""State shared by the benchmarks of one run: settings, machine, measurements, rows."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from hearbench.bench.common import BenchSettings, Machine, Row, matmul_gflops, scratch_dir


@dataclass(frozen=True)
class Extraction:
    """One timed embedding extraction, for the achieved-GFLOP/s table.

    Attributes:
        embedder: Registered name.
        mode: ``window`` (batched), ``loop`` (one forward per window), ``frames`` or ``tokens``.
        seconds: Clip length in seconds.
        macs: Multiply-accumulates of the call (``count_macs``).
        time_s: Best wall-clock seconds of the call.
    """

    embedder: str
    mode: str
    seconds: float
    macs: int
    time_s: float


@dataclass
class BenchContext:
    """What one ``hearbench bench`` run knows so far.

    Attributes:
        settings: The run's settings.
        machine: Where it runs, with the best matrix-multiply rate measured so far.
        stack: Closes scratch folders at the end of the run.
        on_row: Called with every row as soon as it is measured.
        rows: Rows measured so far.
        extractions: Timed extractions, reused by the GFLOP/s table.
    """

    settings: BenchSettings
    machine: Machine
    stack: contextlib.ExitStack
    on_row: Callable[[Row], None] | None = None
    rows: list[Row] = field(default_factory=list)
    extractions: list[Extraction] = field(default_factory=list)
    _scratch: Path | None = None

    @property
    def device(self) -> torch.device:
        """Device of the embedders."""
        return torch.device(self.settings.device)

    @property
    def scratch(self) -> Path:
        """Scratch folder of this run."""
        if self._scratch is None:
            self._scratch = scratch_dir(self.settings, self.stack)
        return self._scratch

    def matmul_peak(self) -> float:
        """The best matrix-multiply rate so far, measured once more now (GFLOP/s)."""
        rate = max(self.machine.matmul_gflops, matmul_gflops(self.device))
        self.machine = replace(self.machine, matmul_gflops=rate)
        return rate

    def add(self, row: Row) -> None:
        """Record ``row`` and report it."""
        self.rows.append(row)
        if self.on_row is not None:
            self.on_row(row)

    def extraction(self, embedder: str, mode: str, seconds: float) -> Extraction | None:
        """A recorded extraction of ``embedder`` in ``mode`` on a ``seconds`` clip."""
        for item in self.extractions:
            if (item.embedder, item.mode, item.seconds) == (embedder, mode, seconds):
                return item
        return None
