"""Published HEAR 2021 leaderboard scores as :class:`~hearbench.results.Result` objects.

The HEAR leaderboard CSV (hearbenchmark/hear-leaderboard, Apache-2.0) has one row per model
(``Model``, ``URL``, ``Submission Date``, then one column per task) and one cell per task: the
model's score on the task's primary metric, averaged over folds. :func:`load_published` turns
every non-empty cell into a result marked ``published=True``, with no predictions, no per-fold
values (``Score.std`` is NaN, ``Score.folds`` empty) and complexity only where
``published_params.json`` gives a sourced parameter count. The columns are the tasks of
:mod:`hearbench.results.hear2021`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.results.hear2021 import (
    HEAR2021_TASKS,
    SUITE,
    TASKS_BY_COLUMN,
    PublishedTask,
    canonical_task_name,
    hear2021_task,
    task_display_name,
)
from hearbench.results.records import Result, Score

__all__ = [
    "HEAR2021_TASKS",
    "PARAMS_FILE",
    "SUITE",
    "PublishedTask",
    "canonical_task_name",
    "default_published_path",
    "hear2021_task",
    "load_published",
    "load_published_params",
    "resolve_published",
    "task_display_name",
]

logger = logging.getLogger(__name__)

PARAMS_FILE = Path(__file__).with_name("published_params.json")
_FIXED_COLUMNS = ("Model", "URL", "Submission Date")


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
    unknown = [c for c in header[3:] if c not in TASKS_BY_COLUMN]
    if unknown:
        known = ", ".join(TASKS_BY_COLUMN)
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
            task = TASKS_BY_COLUMN[column]
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
