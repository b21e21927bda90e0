"""Embed a task's audio with an embedder, once, through the cache."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from hearbench.api import Embedder, HearbenchError
from hearbench.audio import fit_length, read_audio, resample
from hearbench.cache import EmbeddingCache, SplitEmbeddings
from hearbench.perturb import Perturbation
from hearbench.task_kinds import task_kind
from hearbench.task_kinds.base import ClipOutput
from hearbench.tasks.format import Task
from hearbench.testing import rules

log = logging.getLogger(__name__)

MAX_BATCH_SAMPLES = 32000 * 10 * 8
MAX_PENDING_SAMPLES = 2 * MAX_BATCH_SAMPLES
"""Samples of audio a split's embedding holds in memory while it waits to fill a batch."""


_RESAMPLING_NOTED: set[tuple[str, int, int]] = set()


def source_rate(task: Task, sample_rate: int) -> int:
    """The task folder a clip at ``sample_rate`` is read from.

    The folder at that rate, else the lowest rate above it, else (upsampling, which adds no
    content above the source's Nyquist frequency) the highest rate there is. Each resampling
    choice is logged once per process: upsampling as a warning, downsampling as info.
    """
    if sample_rate in task.sample_rates:
        return sample_rate
    above = [r for r in task.sample_rates if r >= sample_rate]
    chosen = min(above) if above else max(task.sample_rates)
    noted = (task.name, chosen, sample_rate)
    if noted not in _RESAMPLING_NOTED:
        _RESAMPLING_NOTED.add(noted)
        if above:
            log.info("%s: no %d Hz audio; resampling from %d Hz", task.name, sample_rate, chosen)
        else:
            log.warning(
                "%s: no audio at or above %d Hz; upsampling from %d Hz (nothing above %d Hz)",
                task.name, sample_rate, chosen, chosen // 2,
            )
    return chosen


def load_clip(task: Task, split: str, filename: str, sample_rate: int) -> np.ndarray:
    """A clip at ``sample_rate``: the task's folder at that rate, else resampled with soxr.

    Resampling reads the folder :func:`source_rate` picks, and the result is padded or
    trimmed to the task's ``sample_duration`` when it has one.
    """
    read_rate = source_rate(task, sample_rate)
    path = task.audio_path(split, filename, read_rate)
    audio, file_rate = read_audio(path)
    if file_rate != read_rate:
        raise HearbenchError(f"{path}: sample rate {file_rate} Hz, expected {read_rate} Hz")
    audio = resample(audio, read_rate, sample_rate)
    if task.sample_duration is not None:
        audio = fit_length(audio, round(task.sample_duration * sample_rate))
    return audio


def cache_key(
    embedder: Embedder,
    task: Task,
    split: str,
    perturbation: Perturbation | None = None,
    files: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Everything that changes a split's embeddings.

    With a ``perturbation`` (its :meth:`~hearbench.perturb.Perturbation.identity`: kind, file
    digests, level, seed, SNR...) or a subset of the split's ``files``, the key holds them and
    a ``variant`` digest of both, so the entry has its own place in the cache.
    """
    key = _clean_key(embedder, task, split)
    if perturbation is None and files is None:
        return key
    extra: dict[str, Any] = {
        "perturbation": perturbation.identity() if perturbation is not None else None,
        "files_sha256": _files_digest(files) if files is not None else None,
    }
    text = json.dumps(extra, sort_keys=True, default=str)
    return {**key, **extra, "variant": hashlib.sha256(text.encode()).hexdigest()[:16]}


def _files_digest(files: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(files).encode()).hexdigest()


def _clean_key(embedder: Embedder, task: Task, split: str) -> dict[str, Any]:
    return {
        "embedder": embedder.config.identity(),
        "embedder_digest": embedder.config.digest(),
        "task": task.name,
        "task_version": task.version,
        "task_checksum": task.metadata_checksum(),
        "audio_checksum": task.audio_checksum(split),
        "split": split,
        "sample_rate": embedder.sample_rate,
        "embedding_type": task.embedding_type,
    }


def _batches(
    clips: Iterator[tuple[str, np.ndarray]], batch_size: int, max_pending: int = MAX_PENDING_SAMPLES
) -> Iterator[list[tuple[str, np.ndarray]]]:
    """Clips grouped by equal length, at most ``batch_size`` clips and a bounded sample count.

    Clips are read one at a time from ``clips`` and held until their length group is a full
    batch; when the held clips exceed ``max_pending`` samples the largest group goes out as a
    partial batch. So at most about ``max_pending`` samples (and never less than one clip) are
    in memory at once, however much audio the split holds. Clips of a task with a fixed
    duration form one group, batched in file order.
    """
    pending: dict[int, list[tuple[str, np.ndarray]]] = {}
    held = 0
    for name, clip in clips:
        length = clip.shape[0]
        group = pending.setdefault(length, [])
        group.append((name, clip))
        held += length
        if len(group) >= max(1, min(batch_size, MAX_BATCH_SAMPLES // max(length, 1))):
            held -= length * len(group)
            yield pending.pop(length)
        while held > max_pending and pending:
            largest = max(pending, key=lambda n: n * len(pending[n]))
            held -= largest * len(pending[largest])
            yield pending.pop(largest)
    for length in sorted(pending):
        yield pending[length]


def embed_split(
    embedder: Embedder,
    task: Task,
    split: str,
    batch_size: int = 16,
    progress: bool = True,
    perturbation: Perturbation | None = None,
    files: Sequence[str] | None = None,
) -> SplitEmbeddings:
    """Embed every clip of one split (scene or timestamp embeddings as the task needs).

    Clips are read as they are needed (see :func:`_batches`), so memory does not grow with
    the split's total audio. A ``perturbation`` transforms each clip (at the embedder's rate,
    after cropping) before it is embedded, with ``<split>/<file>`` as the clip's id; ``files``
    restricts the split to those clips.
    """
    files = list(task.files(split) if files is None else files)
    rate = embedder.sample_rate

    def clip(name: str) -> np.ndarray:
        audio = load_clip(task, split, name, rate)
        return audio if perturbation is None else perturbation.apply(audio, rate, f"{split}/{name}")

    clips = ((name, clip(name)) for name in files)
    kind = task_kind(task)
    outputs: dict[str, ClipOutput] = {}
    bar = tqdm(total=len(files), desc=f"embed {task.name}/{split}", disable=None if progress else True, leave=False)
    with bar, torch.inference_mode(), embedder.autocast():
        for batch in _batches(clips, batch_size):
            group = [name for name, _ in batch]
            audio = torch.from_numpy(np.stack([clip for _, clip in batch])).to(embedder.device)
            del batch
            where = f"{task.name}/{split}/{group[0]}"
            clip_outputs = kind.embed_batch(embedder, audio, f"{embedder.name}: {where}", rules)
            outputs.update(zip(group, clip_outputs, strict=True))
            bar.update(len(group))
    return kind.split_embeddings(files, outputs)


@dataclass(frozen=True)
class EmbedReport:
    """What :func:`embed_task` did: splits computed vs read from the cache, and seconds spent."""

    computed: tuple[str, ...]
    cached: tuple[str, ...]
    seconds: float


def embed_task(
    embedder: Embedder,
    task: Task,
    cache: EmbeddingCache,
    splits: Sequence[str] | None = None,
    progress: bool = True,
    perturbation: Perturbation | None = None,
) -> tuple[dict[str, SplitEmbeddings], EmbedReport]:
    """Embeddings of every split of ``task``, computed at most once per cache key.

    With a ``perturbation``, of the perturbed clips, cached under their own keys.
    """
    start = time.perf_counter()
    out: dict[str, SplitEmbeddings] = {}
    computed: list[str] = []
    cached: list[str] = []
    for split in splits or task.split_names:
        key = cache_key(embedder, task, split, perturbation)
        value, fresh = cache.get_or_compute(
            key,
            functools.partial(
                embed_split, embedder, task, split, progress=progress, perturbation=perturbation
            ),
        )
        out[split] = value
        (computed if fresh else cached).append(split)
        log.info("%s %s/%s: %s", embedder.name, task.name, split, "computed" if fresh else "cached")
    return out, EmbedReport(tuple(computed), tuple(cached), time.perf_counter() - start)
