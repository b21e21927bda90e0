"""Published HEAR 2021 leaderboard scores as :class:`~hearbench.results.Result` objects.

The HEAR leaderboard CSV (hearbenchmark/hear-leaderboard, Apache-2.0) has one row per model
(``Model``, ``URL``, ``Submission Date``, then one column per task) and one cell per task: the
model's score on the task's primary metric, averaged over folds. :func:`load_published` turns
every non-empty cell into a result marked ``published=True``, with no predictions, no per-fold
values (``Score.std`` is NaN, ``Score.folds`` empty) and complexity only where
``published_params.json`` gives a sourced parameter count.

Published results are keyed by the official HEAR task names (the task folder names heareval
writes, ``<task_name>-<version>-<mode>``, for example ``esc50-v2.0.0-full``), listed in
:data:`HEAR2021_TASKS`. A local result lines up with a published column (see
:func:`canonical_task_name`) when its task is named exactly so, or when it uses an alias (the
leaderboard's column title, ``task_name``, ``task_name-mode``...) *and* carries the same task
version; a differently built task of the same name never shares a column with published
numbers.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.results.records import Result, Score

logger = logging.getLogger(__name__)

SUITE = "hear2021"
PARAMS_FILE = Path(__file__).with_name("published_params.json")
_FIXED_COLUMNS = ("Model", "URL", "Submission Date")


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
_BY_COLUMN = {t.column: t for t in HEAR2021_TASKS}


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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_published_params(path: str | Path = PARAMS_FILE) -> dict[str, dict[str, Any]]:
    """Sourced parameter counts of published models, by leaderboard model name.

    Returns:
        ``{model: {"params": float, "reported": str, "source": str}}``.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HearbenchError(f"{p}: cannot read published parameter counts ({exc})") from exc
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise HearbenchError(f"{p}: field 'models' must be an object")
    out: dict[str, dict[str, Any]] = {}
    for model, entry in models.items():
        if not isinstance(entry, dict) or "params" not in entry or "source" not in entry:
            raise HearbenchError(f"{p}: model {model!r} needs 'params' and 'source'")
        out[str(model)] = {
            "params": float(entry["params"]),
            "reported": str(entry.get("reported", "")),
            "source": str(entry["source"]),
        }
    return out


def _parse_score(text: str, where: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise HearbenchError(f"{where}: score must be a number, got {text!r}") from exc
    if not math.isfinite(value):
        raise HearbenchError(f"{where}: score must be finite, got {text!r}")
    return value


def load_published(
    path: str | Path,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Result]:
    """Read a HEAR 2021 leaderboard CSV into published results.

    Args:
        path: The leaderboard CSV (``Model, URL, Submission Date, <task columns>...``).
        params: Parameter counts by model name; defaults to ``published_params.json``.

    Returns:
        One result per non-empty cell, sorted by (task, embedder id), each with
        ``published=True``, ``embedder["id"] = "hear2021-<model slug>"``, probe ``"hear2021"``,
        the cell as the primary score's mean, NaN std and no folds.

    Raises:
        HearbenchError: if the file is unreadable, a column is not a HEAR 2021 task, a model
            appears twice, or a cell is not a number.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise HearbenchError(f"{p}: cannot read published leaderboard ({exc})") from exc
    digest = hashlib.sha256(raw).hexdigest()
    reader = csv.reader(raw.decode("utf-8-sig").splitlines())
    header = next(reader, None)
    if header is None or tuple(header[:3]) != _FIXED_COLUMNS:
        raise HearbenchError(f"{p}: header must start with {', '.join(_FIXED_COLUMNS)}")
    unknown = [c for c in header[3:] if c not in _BY_COLUMN]
    if unknown:
        known = ", ".join(_BY_COLUMN)
        raise HearbenchError(f"{p}: unknown task column(s) {unknown}; known: {known}")
    params = load_published_params() if params is None else params
    seen: set[str] = set()
    results: list[Result] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise HearbenchError(f"{p}:{line}: {len(row)} cells, header has {len(header)}")
        model, url, date = (cell.strip() for cell in row[:3])
        if model in seen:
            raise HearbenchError(f"{p}:{line}: model {model!r} appears twice")
        seen.add(model)
        complexity = None
        if model in params:
            complexity = {
                "params": float(params[model]["params"]),
                "params_source": str(params[model]["source"]),
            }
        embedder: dict[str, Any] = {
            "name": model,
            "id": f"{SUITE}-{_slug(model)}",
            "options": {},
            "weights_sha256": None,
            "pretrained": True,
            "url": url,
        }
        for column, cell in zip(header[3:], row[3:], strict=True):
            value = _parse_score(cell, f"{p}:{line} ({model}, {column})")
            if value is None:
                continue
            task = _BY_COLUMN[column]
            results.append(
                Result(
                    embedder=embedder,
                    task={
                        "name": task.name,
                        "version": task.version,
                        "mode": task.mode,
                        "display": task.column,
                        "embedding_type": task.embedding_type,
                        "prediction_type": task.prediction_type,
                        "nfolds": task.nfolds,
                        "suite": SUITE,
                    },
                    probe={"name": SUITE, "params": {}},
                    primary_metric=task.primary_metric,
                    scores={task.primary_metric: Score(value, math.nan, ())},
                    complexity=complexity,
                    provenance={
                        "source": "HEAR 2021 leaderboard (hearbenchmark/hear-leaderboard)",
                        "file_sha256": digest,
                        "submission_date": date,
                    },
                    published=True,
                )
            )
    logger.info("read %d published scores of %d models from %s", len(results), len(seen), p)
    return sorted(results, key=lambda r: (str(r.task["name"]), r.embedder_id))


def default_published_path(suite: str = SUITE, search: Sequence[Path] | None = None) -> Path:
    """Where the leaderboard of ``suite`` is found.

    Looks in ``hearbench/report/data/<suite>/leaderboard.csv`` (a copy shipped with the
    package), then in ``../shared/data/<suite>/leaderboard.csv`` beside the repository.

    Raises:
        HearbenchError: if ``suite`` is unknown or no copy is found.
    """
    if suite != SUITE:
        raise HearbenchError(f"published suite {suite!r} is unknown; choose from {SUITE}")
    here = Path(__file__).resolve()
    places = (
        list(search)
        if search is not None
        else [
            here.parent / "data" / suite / "leaderboard.csv",
            here.parents[3] / "shared" / "data" / suite / "leaderboard.csv",
        ]
    )
    for place in places:
        if place.is_file():
            return place
    raise HearbenchError(
        f"published leaderboard {suite!r} not found; looked in {', '.join(map(str, places))}"
    )


def resolve_published(source: str | Path | Sequence[Result]) -> list[Result]:
    """Published results from a suite name (``"hear2021"``), a leaderboard CSV, or results."""
    if isinstance(source, str | Path):
        if str(source) == SUITE:
            return load_published(default_published_path(SUITE))
        return load_published(Path(source))
    return [r for r in source]
