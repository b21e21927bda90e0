"""Run a grid of (embedder × task × probe) jobs; one failure never stops the others.

The local executor runs jobs in order in this process, embedding each (embedder, task) once
(through the cache) for every probe. Each job's outcome is recorded; the run ends with a
summary of what failed and why.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError, exception_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedderSpec:
    """How to create an embedder: registered name, weights, options, pretrained flag."""

    name: str
    weights: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    pretrained: bool = True

    def key(self) -> str:
        """A hashable identity of the spec."""
        return json.dumps(
            [self.name, self.weights, dict(self.options), self.pretrained],
            sort_keys=True,
            default=str,
        )

    def create(self) -> Any:
        """Instantiate the embedder."""
        from hearbench.registry import create_embedder

        return create_embedder(
            self.name, weights=self.weights, pretrained=self.pretrained, **dict(self.options)
        )


@dataclass(frozen=True)
class Job:
    """One (embedder, task, probe) evaluation."""

    embedder: EmbedderSpec
    task_path: str
    probe: str


@dataclass(frozen=True)
class JobOutcome:
    """What became of a job: the result file, or the reason it failed."""

    job: Job
    ok: bool
    result_path: str | None = None
    primary: float | None = None
    error: str | None = None
    stored: bool = False
    """The result was already stored (resume) and was not recomputed."""


@dataclass(frozen=True)
class RunSettings:
    """Settings shared by every job of a run."""

    out_dir: str
    cache_dir: str | None = None
    seed: int = 42
    probe_options: Mapping[str, Any] = field(default_factory=dict)
    with_complexity: bool = True
    progress: bool = True
    resume: bool = True
    robustness: Any = None
    """Prepared test conditions (:class:`hearbench.robustness.Conditions`), or ``None``."""
    augment: Any = None
    """Prepared DIR augmentation (:class:`hearbench.robustness.Augmentation`), or ``None``."""


def is_same_run(existing: Any, task_checksum: str, settings: RunSettings) -> bool:
    """Whether a stored result answers this run: same task data, seed and probe options.

    Results of other probe options live at other paths (:func:`stored_result_path`); the
    options are compared all the same, so a file that does not match is recomputed.
    """
    name = str(existing.probe.get("name"))
    wanted = stored_probe_options(name, settings)
    return bool(
        existing.task.get("checksum") == task_checksum
        and existing.provenance.get("seed") == settings.seed
        and existing.probe.get("options", {}) == wanted
    )


def stored_probe_options(probe: str, settings: RunSettings) -> dict[str, Any]:
    """The options of ``probe`` in this run as its result stores them (parsed, through JSON)."""
    from hearbench.probes import split_probe_options

    taken = split_probe_options([probe], _taken(probe, settings.probe_options))[probe]
    return dict(json.loads(json.dumps(taken, default=str)))


def stored_result_path(settings: RunSettings, embedder_id: str, task_name: str, probe: str) -> Path:
    """Where this run's result of ``probe`` on (embedder, task) is stored (run name + variant)."""
    from hearbench.results import probe_run_name, result_path
    from hearbench.robustness import variant_of

    run = probe_run_name(probe, stored_probe_options(probe, settings))
    return result_path(settings.out_dir, embedder_id, task_name, run + variant_of(settings.robustness, settings.augment))


def _taken(probe: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a run that probe ``probe`` declares (the ones that take effect on it)."""
    from hearbench.probes import probe_options

    names = probe_options(probe).names
    return {k: v for k, v in options.items() if k in names}


def run_job(job: Job, settings: RunSettings, embedder: Any = None) -> JobOutcome:
    """Run one job, turning any failure into a recorded outcome."""
    from hearbench.cache import EmbeddingCache
    from hearbench.results import read_valid_result
    from hearbench.robustness import evaluate_robustness, variant_of
    from hearbench.runner import embedder_id, evaluate
    from hearbench.tasks.format import load_task

    try:
        embedder = embedder or job.embedder.create()
        task = load_task(job.task_path)
        path = stored_result_path(settings, embedder_id(embedder), task.name, job.probe)
        existing = read_valid_result(path) if settings.resume else None
        if existing is not None and is_same_run(existing, task.checksum(), settings):
            log.info("%s exists; skipping (resume)", path)
            return JobOutcome(job, True, str(path), existing.primary.mean, stored=True)
        complexity = _complexity(embedder, settings.progress) if settings.with_complexity else None
        common: dict[str, Any] = {
            "cache": EmbeddingCache(settings.cache_dir) if settings.cache_dir else None,
            "out_dir": settings.out_dir,
            "seed": settings.seed,
            "probe_options": _taken(job.probe, settings.probe_options),
            "complexity": complexity,
            "progress": settings.progress,
        }
        if variant_of(settings.robustness, settings.augment):
            result = evaluate_robustness(
                embedder,
                task,
                job.probe,
                robustness=settings.robustness,
                augment=settings.augment,
                **common,
            )
        else:
            result = evaluate(embedder, task, job.probe, **common)
        return JobOutcome(job, True, str(path), result.primary.mean)
    except Exception as exc:
        log.debug("job failed:\n%s", traceback.format_exc())
        return JobOutcome(job, False, error=job_error(exc))


def job_error(exc: BaseException) -> str:
    """The one-line error a job records: a :class:`HearbenchError` as it is, else ``Type: line``."""
    return str(exc) if isinstance(exc, HearbenchError) else exception_line(exc)


def error_line(where: str, exc: BaseException) -> str:
    """``WHERE: Type: first line of the message``, the one-line form of a foreign exception."""
    return f"{where}: {exception_line(exc)}"


_COMPLEXITY: dict[str, dict[str, Any]] = {}


def _complexity(embedder: Any, progress: bool = False) -> dict[str, Any] | None:
    """Complexity of an embedder configuration, measured once per process.

    With ``progress`` the measurement is announced (it takes seconds to a minute) and its
    outcome printed in one line.
    """
    try:
        from hearbench.complexity import measure_complexity
    except ImportError:
        return None
    key = embedder.config.digest()
    if key not in _COMPLEXITY:
        from tqdm.auto import tqdm

        if progress:
            tqdm.write(f"complexity of {embedder.name}: measuring parameters, MACs and latency")
        start = time.perf_counter()
        _COMPLEXITY[key] = measure_complexity(embedder).to_dict()
        if progress:
            figures = _COMPLEXITY[key]
            tqdm.write(
                f"complexity of {embedder.name}: {figures.get('params', 0):,} parameters, "
                f"{float(figures.get('macs_per_second') or 0):.3g} MACs per second of audio "
                f"({time.perf_counter() - start:.1f} s)"
            )
    return _COMPLEXITY[key]


def run_local(
    jobs: Sequence[Job],
    settings: RunSettings,
    on_outcome: Callable[[JobOutcome], None] | None = None,
) -> list[JobOutcome]:
    """Run ``jobs`` in this process, creating each embedder once.

    Temporary files left in ``settings.out_dir`` by killed writes are removed first.
    ``on_outcome`` is called with each job's outcome as soon as the job ends.
    """
    from hearbench.results import prune_results

    prune_results(settings.out_dir)
    outcomes = []
    embedders: dict[str, Any] = {}
    for job in jobs:
        embedder = embedders.get(job.embedder.key())
        if embedder is None:
            try:
                embedder = job.embedder.create()
            except Exception as exc:
                log.debug("creating %s failed:\n%s", job.embedder.name, traceback.format_exc())
                error = str(exc) if isinstance(exc, HearbenchError) else error_line(job.embedder.name, exc)
                outcomes.append(JobOutcome(job, False, error=error))
                if on_outcome is not None:
                    on_outcome(outcomes[-1])
                continue
            embedders[job.embedder.key()] = embedder
        outcome = run_job(job, settings, embedder)
        log.info(
            "%s %s %s: %s",
            job.embedder.name,
            Path(job.task_path).name,
            job.probe,
            "ok" if outcome.ok else outcome.error,
        )
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def outcome_line(outcome: JobOutcome) -> str:
    """One line for a job: ``ok``, ``stored`` (resumed, not recomputed) or ``FAIL`` and why."""
    o = outcome
    label = f"{o.job.embedder.name} × {Path(o.job.task_path).name} × {o.job.probe}"
    if not o.ok or o.primary is None:
        return f"FAIL    {label}: {o.error}"
    if o.stored:
        return f"stored  {label}: {o.primary:.4f} (already in the results; --no-resume recomputes)"
    return f"ok      {label}: {o.primary:.4f}"


def summarise(outcomes: Sequence[JobOutcome], lines: bool = True) -> str:
    """A short summary: one line per job (unless ``lines`` is false) and a closing count."""
    out = [outcome_line(o) for o in outcomes] if lines else []
    failed = sum(not o.ok for o in outcomes)
    stored = sum(o.ok and o.stored for o in outcomes)
    count = f"{len(outcomes) - failed} succeeded, {failed} failed"
    out.append(count + (f" ({stored} already stored)" if stored else ""))
    return "\n".join(out)
