"""Check a HEAR task directory against everything the loader and the protocol rely on.

:func:`validate_task` returns a list of problems (empty when the task is valid) instead of
stopping at the first, so ``hearbench tasks validate DIR`` can show them all at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import soundfile as sf

from hearbench.api import HearbenchError
from hearbench.audio import read_audio
from hearbench.task_kinds import task_kind
from hearbench.task_kinds.event import EVENT_TOLERANCE_MS as EVENT_TOLERANCE_MS
from hearbench.tasks.format import Task, load_task
from hearbench.tasks.manifest import audit

log = logging.getLogger(__name__)

MAX_PER_CHECK = 20


def _capped(problems: Iterable[str], check: str) -> Iterator[str]:
    count = 0
    for problem in problems:
        count += 1
        if count <= MAX_PER_CHECK:
            yield problem
    if count > MAX_PER_CHECK:
        yield f"{check}: {count - MAX_PER_CHECK} more problem(s) of this kind"


def _disjoint_splits(task: Task) -> Iterator[str]:
    seen: dict[str, str] = {}
    for split in task.split_names:
        for filename in task.files(split):
            if filename in seen:
                yield f"{filename}: listed in both {seen[filename]}.json and {split}.json"
            else:
                seen[filename] = split


def _nonempty_splits(task: Task) -> Iterator[str]:
    for split in task.split_names:
        if not task.targets[split]:
            yield f"{task.path / f'{split}.json'}: the split has no files"


def _labels(task: Task) -> Iterator[str]:
    return task_kind(task).label_problems(task)


def _audio(task: Task) -> Iterator[str]:
    for rate in task.sample_rates:
        expected = None if task.sample_duration is None else round(task.sample_duration * rate)
        for split in task.split_names:
            folder = task.path / str(rate) / split
            if not folder.is_dir():
                yield f"{folder}: sample-rate split folder is missing"
                continue
            listed = set(task.targets[split])
            present = {p.name for p in folder.iterdir()}
            for filename in sorted(listed - present):
                yield f"{folder / filename}: audio file missing"
            for filename in sorted(present - listed):
                yield f"{folder / filename}: not listed in {split}.json"
            for filename in sorted(listed & present):
                yield from _audio_file(folder / filename, rate, expected)


def _audio_file(path: Path, rate: int, expected: int | None) -> Iterator[str]:
    """Problems of one audio file, decoding it as a run would."""
    try:
        audio, file_rate = read_audio(path)
        info = sf.info(str(path))
    except HearbenchError as exc:
        yield str(exc)
        return
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        yield f"{path}: unreadable audio ({exc})"
        return
    if file_rate != rate:
        yield f"{path}: sample rate {file_rate} in a {rate} folder"
    if audio.shape[0] != info.frames:
        yield f"{path}: header declares {info.frames} samples, {audio.shape[0]} decode"
    elif expected is not None and info.frames != expected:
        yield f"{path}: {info.frames} samples, expected {expected}"


def _clip_ms(task: Task, split: str, filename: str) -> float | None:
    if task.sample_duration is not None:
        return task.sample_duration * 1000.0
    for rate in task.sample_rates:
        path = task.audio_path(split, filename, rate)
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, ValueError):
            continue
        return info.frames * 1000.0 / info.samplerate
    return None


def _event_times(task: Task) -> Iterator[str]:
    return task_kind(task).event_problems(task, lambda split, name: _clip_ms(task, split, name))


def _manifest(task: Task) -> Iterator[str]:
    """Every present audio file re-hashed against the task's audio manifest."""
    present = [rel for rel in task.audio_files() if (task.path / rel).is_file()]
    yield from audit(task.path, present)


def validate_task(path: str | Path) -> list[str]:
    """Every problem found in a task directory; an empty list means the task is valid.

    Checks: metadata, vocabulary and split files parse (labels in the vocabulary, see
    :func:`~hearbench.tasks.format.load_task`); no split is empty and no file is in two splits;
    multiclass scene files have one label; every listed file exists in every sample-rate folder
    and nothing unlisted does; every file decodes (as :func:`~hearbench.audio.read_audio` reads
    it for a run: no NaN or Inf samples, no header claiming more data than the file holds) to
    mono audio whose rate equals its folder name and whose length is ``sample_duration`` ×
    rate where that is set; events lie within their clip; every audio file\'s content equals
    its record in the audio manifest.

    Args:
        path: The task directory.
    """
    try:
        task = load_task(path, check_audio=False)
    except HearbenchError as exc:
        return [str(exc)]
    problems: list[str] = []
    checks = {
        "splits": _nonempty_splits,
        "folds": _disjoint_splits,
        "labels": _labels,
        "audio": _audio,
        "events": _event_times,
        "manifest": _manifest,
    }
    for name, check in checks.items():
        problems.extend(_capped(check(task), name))
    for problem in problems:
        log.debug("%s", problem)
    return problems
