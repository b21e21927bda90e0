"""Task cards and suites: what each known task is, where it comes from, which suites hold it.

A *task card* (``hearbench/cards/tasks/<name>.json``, shipped in the wheel) describes one task:
its HEAR metadata (embedding and prediction type, split mode, folds, metrics, clip length), its
source, and how to get it: a ``builder`` of :mod:`hearbench.tasks.builders` or an ``archive``
(URL and checksums) for :func:`hearbench.tasks.fetch.fetch_task`. A *suite* (``suites.json``)
is a named list of cards: ``hear2021`` (the 19 HEAR 2021 tasks), ``local`` (the open tasks built
from ``../shared/data``) and ``demo`` (the built-in synthetic tasks).

:func:`find_suite_tasks` matches task directories to a suite's cards by the ``task_name``,
``version`` and ``mode`` in their ``task_metadata.json``, whatever the directories are called.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.tasks.metadata import check_metadata

log = logging.getLogger(__name__)

CARD_FOLDER = ("cards", "tasks")
SUITES_FILE = "suites.json"
SCAN_DEPTH = 3


@dataclass(frozen=True)
class ArchiveRef:
    """A published, preprocessed copy of a task.

    Attributes:
        url: Download location of the ``.tar.gz``.
        sha256: Its SHA-256 where known.
        md5: Its MD5 where that is all the publisher gives (Zenodo lists MD5s).
        sample_rate: The one sample rate the archive holds.
    """

    url: str
    sha256: str | None = None
    md5: str | None = None
    sample_rate: int | None = None


@dataclass(frozen=True)
class TaskCard:
    """Everything hearbench knows about a task before it is on disk.

    Attributes:
        name: Card name, unique (``"esc50-v2.0.0-full"``, ``"fsdd-digit"``).
        task_name: ``task_name`` in the task's metadata.
        version: ``version`` in the metadata, or ``None`` when any version matches.
        mode: HEAR preprocessing mode (``"full"``, ``"5h"``...), or ``None``.
        embedding_type: ``"scene"`` or ``"event"``.
        prediction_type: ``"multiclass"`` or ``"multilabel"``.
        split_mode: ``"trainvaltest"``, ``"presplit_kfold"`` or ``"new_split_kfold"``.
        nfolds: Folds of k-fold tasks.
        sample_duration: Clip length in seconds, or ``None`` when clips keep their length.
        evaluation: Metrics, primary first.
        source: The dataset the task comes from.
        description: One or two sentences.
        builder: Name in :data:`hearbench.tasks.builders.BUILDERS`, when hearbench builds it.
        archive: Published archive, when one can be fetched.
        leaderboard_column: Column of the HEAR 2021 leaderboard CSV that reports this task.
        evaluation_params: heareval's ``evaluation_params`` (post-processing grids...).
    """

    name: str
    task_name: str
    version: str | None
    mode: str | None
    embedding_type: str
    prediction_type: str
    split_mode: str
    nfolds: int | None
    sample_duration: float | None
    evaluation: tuple[str, ...]
    source: str
    description: str = ""
    builder: str | None = None
    archive: ArchiveRef | None = None
    leaderboard_column: str | None = None
    evaluation_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def primary_metric(self) -> str:
        """The metric that ranks embedders on this task."""
        return self.evaluation[0]

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        """Whether a ``task_metadata.json`` has this card's task name, version and mode."""
        if metadata.get("task_name") != self.task_name:
            return False
        if self.version is not None and str(metadata.get("version")) != self.version:
            return False
        mode = metadata.get("mode")
        return self.mode is None or mode is None or mode == self.mode


@dataclass(frozen=True)
class SuiteCard:
    """A named list of task cards."""

    name: str
    description: str
    tasks: tuple[str, ...]


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HearbenchError(f"{source}: field {key!r} is missing or has the wrong type")
    return value


def _optional(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    return None if data.get(key) is None else _require(data, key, kind, source)


def card_from_dict(data: Mapping[str, Any], source: str) -> TaskCard:
    """Build a :class:`TaskCard` from parsed JSON; ``source`` names the file in errors."""
    fields = check_metadata(data, source)
    archive = data.get("archive")
    if archive is not None:
        url = _require(archive, "url", str, f"{source} archive")
        archive = ArchiveRef(
            url, archive.get("sha256"), archive.get("md5"), archive.get("sample_rate")
        )
    return TaskCard(
        name=_require(data, "name", str, source),
        task_name=_require(data, "task_name", str, source),
        version=_optional(data, "version", str, source),
        mode=_optional(data, "mode", str, source),
        embedding_type=fields.embedding_type,
        prediction_type=fields.prediction_type,
        split_mode=fields.split_mode,
        nfolds=fields.nfolds,
        sample_duration=fields.sample_duration,
        evaluation=fields.evaluation,
        source=_require(data, "source", str, source),
        description=str(data.get("description", "")),
        builder=_optional(data, "builder", str, source),
        archive=archive,
        leaderboard_column=_optional(data, "leaderboard_column", str, source),
        evaluation_params=dict(data.get("evaluation_params") or {}),
    )


def _card_folder() -> Any:
    return resources.files("hearbench").joinpath(*CARD_FOLDER)


def _read_json(entry: Any, source: str) -> Any:
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HearbenchError(f"{source}: invalid JSON ({exc})") from exc


@functools.cache
def _cards() -> dict[str, TaskCard]:
    cards: dict[str, TaskCard] = {}
    for entry in sorted(_card_folder().iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json") or entry.name == SUITES_FILE:
            continue
        source = f"hearbench/cards/tasks/{entry.name}"
        card = card_from_dict(_read_json(entry, source), source)
        if card.name in cards:
            raise HearbenchError(f"{source}: card name {card.name!r} is used twice")
        cards[card.name] = card
    return cards


@functools.cache
def _suites() -> dict[str, SuiteCard]:
    source = f"hearbench/cards/tasks/{SUITES_FILE}"
    data = _read_json(_card_folder().joinpath(SUITES_FILE), source)
    cards = _cards()
    suites: dict[str, SuiteCard] = {}
    for item in _require(data, "suites", list, source):
        name = _require(item, "name", str, source)
        tasks = tuple(_require(item, "tasks", list, f"{source} suite {name}"))
        missing = [t for t in tasks if t not in cards]
        if missing:
            raise HearbenchError(f"{source}: suite {name!r} names unknown task(s) {missing}")
        suites[name] = SuiteCard(name, str(item.get("description", "")), tasks)
    return suites


def _unknown(kind: str, name: str, known: list[str]) -> HearbenchError:
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known)}"
    return HearbenchError(f"unknown {kind} {name!r}{hint}")


def list_task_cards() -> list[TaskCard]:
    """Every task card, sorted by name."""
    return list(_cards().values())


def get_task_card(name: str) -> TaskCard:
    """The task card called ``name``."""
    cards = _cards()
    if name not in cards:
        raise _unknown("task", name, sorted(cards))
    return cards[name]


def list_suites() -> list[SuiteCard]:
    """Every suite, in the order of ``suites.json``."""
    return list(_suites().values())


def get_suite(name: str) -> SuiteCard:
    """The suite called ``name``."""
    suites = _suites()
    if name not in suites:
        raise _unknown("suite", name, list(suites))
    return suites[name]


def scan_tasks(tasks_dir: str | Path, depth: int = SCAN_DEPTH) -> dict[Path, dict[str, Any]]:
    """Task directories under ``tasks_dir`` (down to ``depth`` levels) and their metadata.

    Hidden folders and sample-rate folders are not entered; a folder whose metadata cannot be
    read is skipped with a warning.
    """
    root = Path(tasks_dir)
    if not root.is_dir():
        raise HearbenchError(f"{root}: tasks directory not found")
    found: dict[Path, dict[str, Any]] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        level = len(here.relative_to(root).parts)
        if "task_metadata.json" in files:
            dirs.clear()
            try:
                meta = json.loads((here / "task_metadata.json").read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                log.warning("%s: unreadable task_metadata.json (%s)", here, exc)
                continue
            if isinstance(meta, dict):
                found[here] = meta
            continue
        dirs[:] = sorted(
            d for d in dirs if level < depth and not d.startswith(".") and not d.isdigit()
        )
    return found


def _pick(card: TaskCard, suite: SuiteCard, scanned: dict[Path, dict[str, Any]]) -> Path | None:
    siblings = [
        get_task_card(n)
        for n in suite.tasks
        if n != card.name and get_task_card(n).task_name == card.task_name
    ]
    candidates = []
    for path, meta in sorted(scanned.items()):
        if not card.matches(meta):
            continue
        ambiguous = meta.get("mode") is None and any(s.matches(meta) for s in siblings)
        if ambiguous and path.name != card.name:
            continue
        candidates.append(path)
    if len(candidates) > 1:
        named = [p for p in candidates if p.name == card.name]
        chosen = (named or candidates)[0]
        log.warning("%s: %d task directories match; using %s", card.name, len(candidates), chosen)
        return chosen
    return candidates[0] if candidates else None


def find_suite_tasks(
    suite: str | SuiteCard, tasks_dir: str | Path
) -> tuple[dict[str, Path], list[str]]:
    """Locate a suite's tasks under ``tasks_dir`` by their metadata, not their folder names.

    Args:
        suite: A suite name or card.
        tasks_dir: Folder holding task directories (HEAR archives' ``tasks/`` level included).

    Returns:
        ``(found, missing)``: card name → task directory for the tasks present, and the card
        names of those absent, both in suite order.
    """
    card = get_suite(suite) if isinstance(suite, str) else suite
    scanned = scan_tasks(tasks_dir)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in card.tasks:
        path = _pick(get_task_card(name), card, scanned)
        if path is None:
            missing.append(name)
        else:
            found[name] = path
    return found, missing
