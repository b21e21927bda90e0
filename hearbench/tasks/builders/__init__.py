"""Builders that turn open datasets into HEAR task directories.

``BUILDERS`` maps a builder name to a :class:`Builder`; ``builder.build(source, out,
sample_rates)`` writes the task directory ``out`` and returns a :class:`BuildReport`. Each
builder accepts the layout of ``../shared/data`` (FLAC + ``metadata.csv``) and the dataset's
original release, and documents its split rule in its module (``fsdd``, ``mridangam``,
``urbansound``, ``esc50``, ``esc10``, ``events``). Builds are deterministic: the same input gives
byte-identical directories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hearbench.api import HearbenchError
from hearbench.tasks.builders import esc10, esc50, events, fsdd, mridangam, urbansound
from hearbench.tasks.builders._common import (
    BuildReport,
    Clip,
    Plan,
    SkippedFile,
    SplitStats,
    execute,
)

DEFAULT_SAMPLE_RATES = (16000,)


@dataclass(frozen=True)
class Builder:
    """A named dataset builder.

    Attributes:
        name: Registry name (``hearbench tasks build NAME``).
        description: One line for listings.
        planner: Reads a source folder into a :class:`Plan` (labels, splits, metadata).
        naming: Task name for a source folder, when it depends on the folder.
    """

    name: str
    description: str
    planner: Callable[[Path], Plan]
    naming: Callable[[Path], str] | None = None

    def task_name(self, source: str | Path) -> str:
        """``task_name`` the build of ``source`` writes (a good directory name for it)."""
        return self.naming(Path(source)) if self.naming is not None else self.name

    def plan(self, source: str | Path) -> Plan:
        """The clips, splits and metadata a build of ``source`` would write."""
        return self.planner(Path(source))

    def build(
        self,
        source: str | Path,
        out: str | Path,
        sample_rates: Sequence[int] = DEFAULT_SAMPLE_RATES,
        overwrite: bool = False,
        *,
        limit: int | None = None,
        progress: bool = True,
    ) -> BuildReport:
        """Build the task from ``source`` into the task directory ``out``.

        Args:
            source: The dataset folder (or the folder holding it).
            out: Task directory to write (atomically; see ``write_task``).
            sample_rates: Sample-rate folders to write (HEAR uses 16000/22050/32000/44100/48000).
            overwrite: Replace an existing directory.
            limit: At most this many clips per split or fold, evenly spread over the sorted
                file names (tests, quick looks); recorded in the version.
            progress: Show a progress bar.
        """
        return execute(self.plan(source), Path(out), sample_rates, overwrite, limit, progress)


BUILDERS: dict[str, Builder] = {
    b.name: b
    for b in (
        Builder("fsdd-digit", "FSDD spoken digits, official test takes 0-4", fsdd.plan_digit),
        Builder("fsdd-speaker", "FSDD speaker id, 5 folds by take", fsdd.plan_speaker),
        Builder("mridangam-stroke", "Mridangam strokes, 5 folds", mridangam.plan_stroke),
        Builder("mridangam-tonic", "Mridangam tonics, 5 folds", mridangam.plan_tonic),
        Builder("urbansound8k", "UrbanSound8K, official folds", urbansound.plan_urbansound),
        Builder("esc50", "ESC-50, 5 official folds", esc50.plan_esc50),
        Builder("esc10", "ESC-10 (Ogg release layout), official folds", esc10.plan_esc10),
        Builder(
            "events-csv",
            "sound events from clips.csv + annotations.csv",
            events.plan_events,
            events.task_name,
        ),
    )
}


def get_builder(name: str) -> Builder:
    """The builder registered under ``name``."""
    if name not in BUILDERS:
        raise HearbenchError(f"unknown task builder {name!r}; choose from {', '.join(BUILDERS)}")
    return BUILDERS[name]


def build_task(
    name: str,
    source: str | Path,
    tasks_dir: str | Path,
    sample_rates: Sequence[int] = DEFAULT_SAMPLE_RATES,
    overwrite: bool = False,
    *,
    limit: int | None = None,
    progress: bool = True,
) -> BuildReport:
    """Build task ``name`` from ``source`` into ``tasks_dir/<task name>`` (the CLI's entry)."""
    builder = get_builder(name)
    out = Path(tasks_dir) / builder.task_name(source)
    return builder.build(source, out, sample_rates, overwrite, limit=limit, progress=progress)


__all__ = [
    "BUILDERS",
    "DEFAULT_SAMPLE_RATES",
    "BuildReport",
    "Builder",
    "Clip",
    "Plan",
    "SkippedFile",
    "SplitStats",
    "build_task",
    "get_builder",
]
