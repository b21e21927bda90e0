"""Clip durations of a task, for metrics that count time (PSDS's false positives per hour)."""

from __future__ import annotations

from collections.abc import Sequence

from hearbench.api import HearbenchError
from hearbench.tasks.format import Task


def clip_durations(task: Task, splits: Sequence[str]) -> dict[str, float]:
    """Seconds of every clip of ``splits``: the task's ``sample_duration`` when it sets one
    (every clip is fitted to it), else the length of the clip's audio file at the task's first
    sample rate (read from its header).

    Raises:
        HearbenchError: naming a split the task lacks or an audio file that cannot be read.
    """
    out: dict[str, float] = {}
    for split in splits:
        if split not in task.targets:
            raise HearbenchError(f"{task.path}: no split {split!r}; the task has {', '.join(task.targets)}")
        for name in task.targets[split]:
            out[name] = _duration(task, split, name)
    return out


def _duration(task: Task, split: str, name: str) -> float:
    if task.sample_duration is not None:
        return float(task.sample_duration)
    import soundfile as sf

    if not task.sample_rates:
        raise HearbenchError(f"{task.path}: no audio folder to read clip durations from")
    path = task.audio_path(split, name, task.sample_rates[0])
    try:
        info = sf.info(str(path))
    except (OSError, RuntimeError) as exc:
        raise HearbenchError(f"{path}: cannot read the clip's duration ({exc})") from exc
    return float(info.frames) / float(info.samplerate)
