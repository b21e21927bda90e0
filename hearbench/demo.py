"""``hearbench demo``: the whole pipeline offline, on built-in synthetic tasks.

The demo answers the questions hearbench is for on a grid small enough for two CPU cores:
the weight-free ``baseline`` against the pretrained EfficientAT ``mn04_as`` (its official
checkpoint ships with the package, so nothing is downloaded), in window mode with two layer
choices (``clf1``, the default, and block ``b11``) and in frames mode at two hops (20 ms and
160 ms), each probed with the linear probe on the three ``demo`` tasks (pitch of harmonic
tones, noise textures, short events whose onsets need a fine hop). It writes the results, the
leaderboard tables and the score-versus-cost plots. On a terminal a bar counts each stage
(the tasks built, the jobs run, and within a job the clips embedded per split and the probe's
fits); every result is printed as it lands, then the leaderboard and the paths of the report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from hearbench.api import HearbenchError
from hearbench.executors import EmbedderSpec, Job, JobOutcome, RunSettings, run_local
from hearbench.tasks.synthetic import DEMO_TASKS, build_demo_suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoEmbedder:
    """One embedder configuration of the demo grid and why it is there."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    role: str = ""

    def label(self) -> str:
        """``mn04_as [mode=frames, hop_ms=20]``."""
        if not self.options:
            return self.name
        return f"{self.name} [{', '.join(f'{k}={v}' for k, v in self.options.items())}]"


DEMO_GRID: tuple[DemoEmbedder, ...] = (
    DemoEmbedder("baseline", role="weight-free log-mel statistics"),
    DemoEmbedder("mn04_as", role="pretrained CNN, window mode, final features (clf1)"),
    DemoEmbedder("mn04_as", {"layers": "b11"}, role="window mode, an intermediate block"),
    DemoEmbedder(
        "mn04_as", {"mode": "frames", "layers": "b11", "hop_ms": 20}, role="frames, 20 ms hop"
    ),
    DemoEmbedder(
        "mn04_as", {"mode": "frames", "layers": "b11", "hop_ms": 160}, role="frames, 160 ms hop"
    ),
)
DEMO_PROBES = ("linear",)
DEMO_COSTS = ("macs_per_second", "latency_ms")


def demo_jobs(tasks: Mapping[str, Path], grid: Sequence[DemoEmbedder] = DEMO_GRID) -> list[Job]:
    """The demo's (embedder × task × probe) jobs, grouped by embedder."""
    return [
        Job(EmbedderSpec(entry.name, options=dict(entry.options)), str(path), probe)
        for entry in grid
        for path in tasks.values()
        for probe in DEMO_PROBES
    ]


def _outcome_line(entry: DemoEmbedder, outcome: JobOutcome) -> str:
    task = Path(outcome.job.task_path).name
    head = f"{entry.label()} × {task} × {outcome.job.probe}"
    if outcome.ok and outcome.primary is not None:
        return f"  ok    {head}: {outcome.primary:.3f}"
    return f"  FAIL  {head}: {outcome.error}"


def run_demo(out_dir: Path, echo: Callable[[str], None] = log.info) -> list[Path]:
    """Run the demo into ``out_dir``, reporting progress through ``echo``.

    Returns:
        The report files written (tables first, then plots).

    Raises:
        HearbenchError: when a job fails (the demo's grid is expected to run everywhere).
    """
    from hearbench.report import write_report

    echo(f"building the demo tasks in {out_dir / 'tasks'}")
    with tqdm(total=len(DEMO_TASKS), desc="demo tasks", unit="task") as bar:
        tasks = build_demo_suite(out_dir / "tasks", on_task=lambda _: bar.update(1))
    settings = RunSettings(
        out_dir=str(out_dir / "results"), cache_dir=str(out_dir / "cache"), progress=True
    )
    entries = {EmbedderSpec(e.name, options=dict(e.options)).key(): e for e in DEMO_GRID}
    jobs = demo_jobs(tasks)
    with tqdm(total=len(jobs), desc="demo jobs", unit="job") as bar:

        def landed(outcome: JobOutcome) -> None:
            tqdm.write(_outcome_line(entries[outcome.job.embedder.key()], outcome))
            bar.update(1)

        outcomes = run_local(jobs, settings, on_outcome=landed)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise HearbenchError(f"demo: {len(failed)} job(s) failed, first: {failed[0].error}")
    echo("writing the report")
    return write_report(out_dir / "results", out_dir / "report", x=DEMO_COSTS)


def demo_summary(written: Sequence[Path]) -> str:
    """The leaderboard (Markdown) and the paths of the report files, for the terminal."""
    lines: list[str] = []
    markdown = [p for p in written if p.name == "leaderboard.md"]
    if markdown:
        lines += [markdown[0].read_text(encoding="utf-8").rstrip(), ""]
    index = [p for p in written if p.suffix == ".html"]
    plots = [p for p in written if p.suffix == ".png"]
    if index:
        lines.append("report: " + ", ".join(str(p) for p in index))
    if plots:
        lines.append("plots:  " + ", ".join(str(p) for p in plots))
    return "\n".join(lines)
