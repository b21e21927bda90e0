"""Shared pieces of the benchmarks: settings, result rows, timing and the machine's limits.

Every benchmark compares two ways of doing the same work on the same machine and inputs in
one run, and reports their ratio; absolute times only describe this run. Times are the best
of ``repeats`` runs after a warm-up run, which is the figure least disturbed by other work on a
shared machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hearbench.api import Embedder, HearbenchError
from hearbench.complexity.hardware import accelerator_name, cpu_model
from hearbench.complexity.timing import synchronize

log = logging.getLogger(__name__)

LEVELS = ("quick", "default", "full")
SECTIONS = ("windows", "modes", "mlp-grid", "gflops", "suite", "originals")
REFERENCE_WEIGHTS = {"mn04_as": "mn04_as.pt", "dymn04_as": "dymn04_random_seed0.pt"}
"""Checkpoints looked up in ``weights_dir`` (the real mn04 weights; a fixed DyMN draw)."""
MATMUL_SIZE = 2048


@dataclass(frozen=True)
class BenchSettings:
    """What ``hearbench bench`` runs.

    Attributes:
        level: ``quick`` (a smoke run of a minute or two), ``default`` (a few minutes) or
            ``full`` (every embedder on 10 s and 120 s clips, the whole MLP grid schedule).
        sections: Benchmarks to run, among :data:`SECTIONS`.
        device: Device of the embedders (``cpu`` or ``cuda``).
        threads: Torch intra-op threads during the run; ``None`` keeps the current setting.
        weights_dir: Folder with reference checkpoints (:data:`REFERENCE_WEIGHTS`); embedders
            without one run on random weights.
        fsdd_dir: FSDD source folder; the MLP-grid benchmark builds ``fsdd-digit`` from it,
            otherwise it uses the synthetic ``demo-pitch`` task.
        scores_dir: Tasks on which window and frame/token modes are scored with the linear
            probe (``None`` skips the scores).
        suite_dir: Built ``local`` suite tasks for the end-to-end timing (``None`` skips it).
        suite_embedder: Embedder of the end-to-end timing (on its reference weights when
            ``weights_dir`` holds them).
        suite_probes: Probes of the end-to-end timing, each run on every task.
        work_dir: Scratch folder for built tasks and caches (a temporary one when ``None``).
        repeats: Timed runs per measurement (``None``: 1 for quick, 3 otherwise).
    """

    level: str = "default"
    sections: tuple[str, ...] = SECTIONS
    device: str = "cpu"
    threads: int | None = None
    weights_dir: Path | None = None
    fsdd_dir: Path | None = None
    scores_dir: Path | None = None
    suite_dir: Path | None = None
    suite_embedder: str = "mn04_as"
    suite_probes: tuple[str, ...] = ("linear", "mlp")
    work_dir: Path | None = None
    repeats: int | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise HearbenchError(f"level: expected one of {', '.join(LEVELS)}, got {self.level!r}")
        unknown = sorted(set(self.sections) - set(SECTIONS))
        if unknown:
            raise HearbenchError(
                f"sections: unknown {', '.join(unknown)}; choose from {', '.join(SECTIONS)}"
            )
        if self.threads is not None and self.threads < 1:
            raise HearbenchError(f"threads: expected a positive number, got {self.threads}")
        if not self.suite_probes:
            raise HearbenchError("suite_probes: expected at least one probe, got none")
        if self.repeats is not None and self.repeats < 1:
            raise HearbenchError(f"repeats: expected a positive number, got {self.repeats}")

    @property
    def timed_runs(self) -> int:
        """Timed runs per measurement."""
        if self.repeats is not None:
            return self.repeats
        return 1 if self.level == "quick" else 3

    def weights_for(self, name: str) -> Path | None:
        """The reference checkpoint of embedder ``name`` when ``weights_dir`` holds one."""
        if self.weights_dir is None or name not in REFERENCE_WEIGHTS:
            return None
        path = self.weights_dir / REFERENCE_WEIGHTS[name]
        return path if path.is_file() else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Row:
    """One comparison.

    Attributes:
        section: Benchmark the row belongs to (one of :data:`SECTIONS`).
        case: What was measured (embedder, clip length, task...).
        ours: Our figure (seconds unless ``unit`` says otherwise).
        reference: The compared figure: the straightforward implementation, or a limit.
        ratio: The figure the target is about (``reference / ours`` for speed-ups).
        ratio_label: What ``ratio`` is, e.g. ``loop/batched``.
        unit: Unit of ``ours`` and ``reference``.
        check: Agreement of the outputs or scores, in words.
        target: The target on ``ratio``, in words (``None`` when there is none).
        met: Whether the target is met and the outputs agree (``None`` without a target).
        details: Further figures, JSON-able.
    """

    section: str
    case: str
    ours: float | None
    reference: float | None
    ratio: float | None
    ratio_label: str
    unit: str = "s"
    check: str = ""
    target: str | None = None
    met: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able copy."""
        return asdict(self)


@dataclass(frozen=True)
class Machine:
    """Where the benchmark ran.

    Attributes:
        cpu: Processor model.
        cpus: Logical CPUs available to this process.
        threads: Torch intra-op threads during the run.
        device: Device of the embedders.
        accelerator: GPU name, or ``None``.
        torch_version: ``torch.__version__``.
        matmul_gflops: Best float32 matrix-multiply rate (GFLOP/s) measured during the run
            (at its start, before each comparison with it and at its end), the hardware limit
            the achieved rates are compared with.
    """

    cpu: str
    cpus: int
    threads: int
    device: str
    accelerator: str | None
    torch_version: str
    matmul_gflops: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able copy."""
        return asdict(self)

    def describe(self) -> str:
        """One line for the report."""
        where = self.accelerator or self.cpu
        return (
            f"{where}; {self.cpus} CPUs, {self.threads} torch threads, torch {self.torch_version}; "
            f"float32 matmul {self.matmul_gflops:.0f} GFLOP/s"
        )


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads (unchanged when ``None``)."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def best_time(
    fn: Callable[[], Any], repeats: int, device: torch.device, warmup: int = 1
) -> tuple[float, Any]:
    """Best wall-clock seconds of ``repeats`` runs of ``fn`` after ``warmup`` runs, and its result.

    Runs under ``torch.no_grad`` (what the original wrappers use); ``fn`` may switch to
    ``torch.inference_mode`` itself.
    """
    result: Any = None
    best = float("inf")
    with torch.no_grad():
        for run in range(warmup + repeats):
            synchronize(device)
            start = time.perf_counter()
            result = fn()
            synchronize(device)
            if run >= warmup:
                best = min(best, time.perf_counter() - start)
    return best, result


def best_times_in_turns(
    calls: Sequence[Callable[[], Any]], repeats: Sequence[int], device: torch.device
) -> list[tuple[float, Any]]:
    """Best seconds and last result of each call, the calls run in turns.

    Round ``r`` runs every call that still has runs left (call ``i`` runs ``repeats[i]`` times),
    so all calls see the same conditions of a shared machine. No warm-up runs.
    """
    best = [float("inf")] * len(calls)
    results: list[Any] = [None] * len(calls)
    with torch.no_grad():
        for round_ in range(max(repeats)):
            for i, call in enumerate(calls):
                if round_ >= repeats[i]:
                    continue
                synchronize(device)
                start = time.perf_counter()
                results[i] = call()
                synchronize(device)
                best[i] = min(best[i], time.perf_counter() - start)
    return list(zip(best, results, strict=True))


def matmul_gflops(device: torch.device, size: int = MATMUL_SIZE, repeats: int = 5) -> float:
    """The float32 matrix-multiply rate of ``device`` in GFLOP/s (best of ``repeats``)."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device)
    b = torch.randn(size, size, generator=generator).to(device)
    seconds, _ = best_time(lambda: a @ b, repeats, device)
    return 2.0 * size**3 / seconds / 1e9


def measure_machine(device: torch.device) -> Machine:
    """Describe this machine and measure its matrix-multiply rate."""
    return Machine(
        cpu=cpu_model(),
        cpus=available_cpus(),
        threads=torch.get_num_threads(),
        device=str(device),
        accelerator=accelerator_name(device),
        torch_version=str(torch.__version__),
        matmul_gflops=matmul_gflops(device),
    )


def max_rel_err(values: torch.Tensor | np.ndarray, reference: torch.Tensor | np.ndarray) -> float:
    """``max|values - reference| / max|reference|`` (the reference outputs' error measure)."""
    a = np.asarray(torch.as_tensor(values).detach().cpu(), dtype=np.float64)
    r = np.asarray(torch.as_tensor(reference).detach().cpu(), dtype=np.float64)
    if a.shape != r.shape:
        raise HearbenchError(f"outputs differ in shape: {a.shape} vs {r.shape}")
    scale = float(np.abs(r).max()) if r.size else 0.0
    return float(np.abs(a - r).max() / scale) if scale > 0 else float(np.abs(a - r).max())


def make_embedder(name: str, settings: BenchSettings, **options: Any) -> Embedder:
    """``name`` on its reference weights when available, else on random weights, on the device."""
    from hearbench.registry import create_embedder

    weights = settings.weights_for(name)
    if weights is not None:
        embedder = create_embedder(name, weights=weights, **options)
    else:
        embedder = create_embedder(name, pretrained=False, **options)
    return embedder.to(settings.device)


def weights_label(settings: BenchSettings, name: str) -> str:
    """Which weights ``name`` runs on: the checkpoint file's name, or ``random init``."""
    path = settings.weights_for(name)
    return path.name if path is not None else "random init"


def noise_clip(sample_rate: int, seconds: float, device: torch.device, seed: int = 0) -> torch.Tensor:
    """A seeded noise clip ``(1, n)`` in [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    n = max(1, round(seconds * sample_rate))
    return (0.1 * torch.randn(1, n, generator=generator)).clamp_(-1.0, 1.0).to(device)


def fmt_seconds(value: float | None) -> str:
    """Seconds for the table (``-`` when absent)."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def scratch_dir(settings: BenchSettings, stack: contextlib.ExitStack) -> Path:
    """``settings.work_dir`` (created) or a temporary folder removed when ``stack`` closes."""
    import tempfile

    if settings.work_dir is not None:
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        return settings.work_dir
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearbench-bench-")))
