"""Run a grid of (embedder × task × probe) jobs as Ray tasks, on one machine or a cluster.

The grid is the one :func:`hearbench.executors.run_local` runs, split in two stages:

* one *embedding task* per (embedder spec, task): it creates the embedder and fills the
  embedding cache for every split of the task. It asks for one GPU when the cluster has GPUs
  (and moves the model there), else one CPU;
* one *probe task* per job, on one CPU, started once its embedding task is done: it reads the
  embeddings from the cache and runs :func:`hearbench.executors.run_job`, which trains the
  probe, scores it and writes the result atomically under ``settings.out_dir``.

So every worker must see the same ``out_dir``, cache folder and task folders under the same
absolute paths (shared storage on a cluster; trivially true for a local instance). The cache
folder is ``settings.cache_dir``, else ``$HEARBENCH_CACHE``, else for a local instance the
default cache (``~/.cache/hearbench/embeddings``) and on a cluster ``<out_dir>/.embeddings``.

Scores equal the local executor's: the same code runs on the same embeddings with the same
seed. (Embeddings computed on a GPU may differ from CPU ones in the last bits, as they would
locally.) Because probe tasks read embeddings from the cache, a result's ``timing`` lists
the splits as cached; the embedding stage's own timing is logged. A job whose embedding
fails is recorded with that error, never retried by probe tasks, and the other jobs go on;
the driver never raises for a failed job, only for a cluster it cannot reach.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.executors import Job, JobOutcome, RunSettings, job_error, run_job

log = logging.getLogger(__name__)

LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class EmbedStatus:
    """What an embedding task did.

    Attributes:
        error: One-line reason the embedding failed, or ``None``.
        computed: Splits computed by this task.
        cached: Splits found in the cache.
        seconds: Wall time of the task.
        skipped: ``True`` when every result of the group already existed (resume).
    """

    error: str | None = None
    computed: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()
    seconds: float = 0.0
    skipped: bool = False


_WORKER_EMBEDDER: dict[str, Any] = {}


def _worker_embedder(job: Job) -> Any:
    """The embedder of ``job``, kept for the next task of the same spec in this worker."""
    key = job.embedder.key()
    if key not in _WORKER_EMBEDDER:
        _WORKER_EMBEDDER.clear()
        _WORKER_EMBEDDER[key] = job.embedder.create()
    return _WORKER_EMBEDDER[key]


def _results_exist(embedder: Any, task: Any, probes: Sequence[str], settings: RunSettings) -> bool:
    """Whether every probe's result is already stored for this task checksum, seed and probe options."""
    from hearbench.executors import is_same_run, stored_result_path
    from hearbench.results import read_valid_result
    from hearbench.runner import embedder_id

    for probe in probes:
        existing = read_valid_result(stored_result_path(settings, embedder_id(embedder), task.name, probe))
        if existing is None or not is_same_run(existing, task.checksum(), settings):
            return False
    return True


def embed_group(job: Job, probes: Sequence[str], settings: RunSettings, use_gpu: bool) -> EmbedStatus:
    """Fill the cache with every split of ``job``'s task for ``job``'s embedder.

    Args:
        job: Any job of the group (its embedder spec and task path are used).
        probes: The probes of the group; embedding is skipped when all their results exist.
        settings: Run settings; ``cache_dir`` must be set.
        use_gpu: Move the model to CUDA when one is visible to this worker.

    Returns:
        The status; failures are reported in it, never raised.
    """
    from hearbench.cache import EmbeddingCache
    from hearbench.embed import embed_task
    from hearbench.tasks.format import load_task

    start = time.perf_counter()
    try:
        task = load_task(job.task_path)
        embedder = job.embedder.create()
        if settings.resume and _results_exist(embedder, task, probes, settings):
            return EmbedStatus(skipped=True, seconds=time.perf_counter() - start)
        if use_gpu:
            import torch

            if torch.cuda.is_available():
                embedder.to("cuda")
        _, report = embed_task(embedder, task, EmbeddingCache(settings.cache_dir), progress=False)
    except Exception as exc:
        log.debug("embedding failed:\n%s", traceback.format_exc())
        return EmbedStatus(error=job_error(exc), seconds=time.perf_counter() - start)
    return EmbedStatus(computed=report.computed, cached=report.cached, seconds=time.perf_counter() - start)


def probe_job(status: EmbedStatus, job: Job, settings: RunSettings) -> JobOutcome:
    """Run one job once its embeddings are cached; an embedding failure becomes its outcome."""
    if status.error is not None:
        return JobOutcome(job, False, error=status.error)
    try:
        embedder = _worker_embedder(job)
    except Exception as exc:
        return JobOutcome(job, False, error=job_error(exc))
    return run_job(job, settings, embedder)


def shared_cache_dir(settings: RunSettings, local: bool) -> str:
    """The absolute cache folder every worker uses (see the module docstring)."""
    from hearbench.cache import default_cache_dir

    if settings.cache_dir is not None:
        folder = Path(settings.cache_dir)
    elif local or os.environ.get("HEARBENCH_CACHE"):
        folder = default_cache_dir()
    else:
        folder = Path(settings.out_dir) / ".embeddings"
    return str(folder.expanduser().resolve())


def _absolute(job: Job) -> Job:
    return dataclasses.replace(job, task_path=str(Path(job.task_path).expanduser().resolve()))


def run_ray(
    jobs: Sequence[Job],
    settings: RunSettings,
    address: str | None = None,
    num_cpus: int | None = None,
    on_outcome: Callable[[JobOutcome], None] | None = None,
) -> list[JobOutcome]:
    """Run ``jobs`` on Ray; returns one outcome per job, in job order.

    Args:
        jobs: The grid, as for :func:`hearbench.executors.run_local`.
        settings: Run settings; relative paths are resolved on the driver.
        address: Address of a running cluster (``"ray://host:10001"``, ``"auto"``). ``None``
            starts a local instance for this call and shuts it down afterwards. When Ray is
            already initialised in this process, that instance is used and left running.
        num_cpus: CPUs of a local instance (default: every CPU of the machine).
        on_outcome: Called with each job's outcome as soon as it arrives.

    Raises:
        HearbenchError: when Ray is not installed or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError as exc:
        raise HearbenchError("--executor ray needs Ray: pip install 'hearbench[ray]'") from exc
    if not jobs:
        return []
    started = False
    if not ray.is_initialized():
        try:
            if address is None:
                _bind_to_loopback()
                ray.init(
                    address="local",
                    _node_ip_address=LOOPBACK,
                    num_cpus=num_cpus,
                    include_dashboard=False,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                    logging_level=logging.WARNING,
                )
            else:
                ray.init(address=address, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise HearbenchError(
                f"ray: cannot start or reach a cluster at {address or 'local'} ({exc})"
            ) from exc
        started = True
    try:
        return _run(ray, jobs, settings, local=address is None, on_outcome=on_outcome)
    finally:
        if started:
            ray.shutdown()


def _bind_to_loopback() -> None:
    """Make a local instance listen on 127.0.0.1 only, never on the machine's other addresses.

    Ray turns a loopback ``_node_ip_address`` into the machine's routable address unless
    clustering is off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is imported); the
    flag is set in the environment for the processes Ray starts, and in the imported module.
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None and hasattr(constants, "ENABLE_RAY_CLUSTER"):
        setattr(constants, "ENABLE_RAY_CLUSTER", False)  # noqa: B010


def _run(
    ray: Any,
    jobs: Sequence[Job],
    settings: RunSettings,
    local: bool,
    on_outcome: Callable[[JobOutcome], None] | None = None,
) -> list[JobOutcome]:
    from tqdm.auto import tqdm

    from hearbench.results import prune_results

    prune_results(settings.out_dir)
    worker_settings = dataclasses.replace(
        settings,
        out_dir=str(Path(settings.out_dir).expanduser().resolve()),
        cache_dir=shared_cache_dir(settings, local),
        progress=False,
    )
    use_gpu = ray.cluster_resources().get("GPU", 0) > 0
    embed_remote = ray.remote(num_cpus=1, num_gpus=1 if use_gpu else 0)(embed_group)
    probe_remote = ray.remote(num_cpus=1)(probe_job)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, job in enumerate(jobs):
        groups.setdefault((job.embedder.key(), job.task_path), []).append(index)
    refs: dict[Any, int] = {}
    statuses: dict[Any, Job] = {}
    for indices in groups.values():
        first = _absolute(jobs[indices[0]])
        probes = [jobs[i].probe for i in indices]
        status = embed_remote.remote(first, probes, worker_settings, use_gpu)
        statuses[status] = jobs[indices[0]]
        for i in indices:
            refs[probe_remote.remote(status, _absolute(jobs[i]), worker_settings)] = i
    outcomes: dict[int, JobOutcome] = {}
    pending = list(refs)
    with tqdm(total=len(jobs), desc="jobs", disable=not settings.progress) as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                job = jobs[refs[ref]]
                try:
                    outcome = dataclasses.replace(ray.get(ref), job=job)
                except Exception as exc:
                    outcome = JobOutcome(job, False, error=f"ray: {job_error(exc)}")
                outcomes[refs[ref]] = outcome
                log.info(
                    "%s %s %s: %s",
                    job.embedder.name,
                    Path(job.task_path).name,
                    job.probe,
                    "ok" if outcome.ok else outcome.error,
                )
                bar.update(1)
                if on_outcome is not None:
                    on_outcome(outcome)
    for ref, job in statuses.items():
        _log_status(ray, ref, job)
    return [outcomes[i] for i in range(len(jobs))]


def _log_status(ray: Any, ref: Any, job: Job) -> None:
    """Log what the embedding task of ``job``'s group did."""
    try:
        status: EmbedStatus = ray.get(ref)
    except Exception as exc:
        log.info("embed %s %s: %s", job.embedder.name, Path(job.task_path).name, job_error(exc))
        return
    what = (
        "results exist"
        if status.skipped
        else status.error or f"computed {list(status.computed)}, cached {list(status.cached)}"
    )
    log.info("embed %s %s: %s in %.1f s", job.embedder.name, Path(job.task_path).name, what, status.seconds)
