"""The HEAR 2021 task catalogue: the official task names, their leaderboard columns and aliases.

Published results are keyed by the official HEAR task names (the task folder names heareval
writes, ``<task_name>-<version>-<mode>``, for example ``esc50-v2.0.0-full``), listed in
:data:`HEAR2021_TASKS`. A local result lines up with a published column (see
:func:`canonical_task_name`) when its task is named exactly so, or when it uses an alias (the
leaderboard's column title, ``task_name``, ``task_name-mode``...) *and* carries the same task
version; a differently built task of the same name never shares a column with published
numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SUITE = "hear2021"


@dataclass(frozen=True)
class PublishedTask:
    """One task of the HEAR 2021 suite as the leaderboard reports it.

    Attributes:
        column: Column title in the leaderboard CSV (``"ESC-50"``).
        task_name: heareval ``task_name`` (``"esc50"``).
        version: Task version (``"v2.0.0"``).
        mode: Task mode (``"full"``, ``"5h"``, ``"50h"``).
        primary_metric: The score the leaderboard reports.
        embedding_type: ``"scene"`` or ``"event"``.
        prediction_type: ``"multiclass"`` or ``"multilabel"``.
        nfolds: Folds of k-fold tasks; ``None`` for train/valid/test tasks.
    """

    column: str
    task_name: str
    version: str
    mode: str
    primary_metric: str
    embedding_type: str
    prediction_type: str
    nfolds: int | None

    @property
    def name(self) -> str:
        """The official task name, ``<task_name>-<version>-<mode>``."""
        return f"{self.task_name}-{self.version}-{self.mode}"


# Names, versions and modes as heareval names its task folders (hear-leaderboard's
# ``task_rename``); primary metrics, types and splits from hear-preprocess's task configs and
# hearbenchmark.com/hear-tasks.html.
HEAR2021_TASKS: tuple[PublishedTask, ...] = (
    PublishedTask("Beehive", "beehive_states", "v2", "full", "aucroc", "scene", "multiclass", None),
    PublishedTask(
        "Beijing Opera",
        "beijing_opera",
        "v1.0-hear2021",
        "full",
        "top1_acc",
        "scene",
        "multiclass",
        5,
    ),
    PublishedTask("CREMA-D", "tfds_crema_d", "1.0.0", "full", "top1_acc", "scene", "multiclass", 5),
    PublishedTask(
        "DCASE 2016",
        "dcase2016_task2",
        "hear2021",
        "full",
        "event_onset_200ms_fms",
        "event",
        "multilabel",
        None,
    ),
    PublishedTask("ESC-50", "esc50", "v2.0.0", "full", "top1_acc", "scene", "multiclass", 5),
    PublishedTask("FSD50K", "fsd50k", "v1.0", "full", "mAP", "scene", "multilabel", None),
    PublishedTask(
        "GTZAN Genre", "tfds_gtzan", "1.0.0", "full", "top1_acc", "scene", "multiclass", 10
    ),
    PublishedTask(
        "GTZAN Music/Speech",
        "tfds_gtzan_music_speech",
        "1.0.0",
        "full",
        "top1_acc",
        "scene",
        "multiclass",
        10,
    ),
    PublishedTask(
        "Gunshot", "gunshot_triangulation", "v1.0", "full", "top1_acc", "scene", "multiclass", 7
    ),
    PublishedTask(
        "Libricount", "libricount", "v1.0.0-hear2021", "full", "top1_acc", "scene", "multiclass", 5
    ),
    PublishedTask(
        "Maestro 5h", "maestro", "v3.0.0", "5h", "event_onset_50ms_fms", "event", "multilabel", 5
    ),
    PublishedTask(
        "Mridangam Stroke", "mridangam_stroke", "v1.5", "full", "top1_acc", "scene", "multiclass", 5
    ),
    PublishedTask(
        "Mridangam Tonic", "mridangam_tonic", "v1.5", "full", "top1_acc", "scene", "multiclass", 5
    ),
    PublishedTask(
        "NSynth Pitch 50h",
        "nsynth_pitch",
        "v2.2.3",
        "50h",
        "pitch_acc",
        "scene",
        "multiclass",
        None,
    ),
    PublishedTask(
        "NSynth Pitch 5h", "nsynth_pitch", "v2.2.3", "5h", "pitch_acc", "scene", "multiclass", None
    ),
    PublishedTask(
        "Speech commands 5h",
        "speech_commands",
        "v0.0.2",
        "5h",
        "top1_acc",
        "scene",
        "multiclass",
        None,
    ),
    PublishedTask(
        "Speech commands full",
        "speech_commands",
        "v0.0.2",
        "full",
        "top1_acc",
        "scene",
        "multiclass",
        None,
    ),
    PublishedTask(
        "Vocal Imitation", "vocal_imitation", "v1.1.3", "full", "mAP", "scene", "multiclass", 3
    ),
    PublishedTask(
        "VoxLingua107 top 10",
        "vox_lingua_top10",
        "hear2021",
        "full",
        "top1_acc",
        "scene",
        "multiclass",
        5,
    ),
)

_BY_NAME = {t.name: t for t in HEAR2021_TASKS}
TASKS_BY_COLUMN = {t.column: t for t in HEAR2021_TASKS}
"""Each HEAR 2021 task by its column title in the leaderboard CSV."""


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _aliases(task: PublishedTask) -> set[str]:
    names = {
        task.column,
        task.name,
        f"{task.task_name}-{task.mode}",
        f"{task.task_name}_{task.mode}",
    }
    if sum(t.task_name == task.task_name for t in HEAR2021_TASKS) == 1:
        names.add(task.task_name)
    return {_fold(n) for n in names}


_ALIASES: dict[str, tuple[PublishedTask, ...]] = {}
for _task in HEAR2021_TASKS:
    for _alias in sorted(_aliases(_task)):
        _ALIASES[_alias] = (*_ALIASES.get(_alias, ()), _task)


def hear2021_task(task: Mapping[str, Any]) -> PublishedTask | None:
    """The HEAR 2021 task a result's ``task`` record is, or ``None``.

    A record matches when its ``name`` is the official name, or when the name is an alias
    (column title, ``task_name-mode``, ``task_name_mode``, or ``task_name`` where it has one
    mode or the record gives ``mode``; case and punctuation ignored) and its ``version``
    equals the published version (and its ``mode``, when given, the published mode).
    """
    name = str(task.get("name", ""))
    if name in _BY_NAME:
        return _BY_NAME[name]
    version = task.get("version")
    mode = task.get("mode")
    candidates = list(_ALIASES.get(_fold(name), ()))
    if mode is not None:
        candidates += [t for t in HEAR2021_TASKS if _fold(t.task_name) == _fold(name)]
    for candidate in candidates:
        if version is None or str(version) != candidate.version:
            continue
        if mode is not None and str(mode) != candidate.mode:
            continue
        return candidate
    return None


def canonical_task_name(task: Mapping[str, Any]) -> str:
    """The column key of a task: the official HEAR 2021 name when it is one, else its name."""
    match = hear2021_task(task)
    return match.name if match is not None else str(task["name"])


def task_display_name(name: str) -> str:
    """The leaderboard's column title for an official task name, else the name itself."""
    task = _BY_NAME.get(name)
    return task.column if task is not None else name
