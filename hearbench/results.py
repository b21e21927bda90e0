"""Results: one JSON per (embedder, task, probe), with test predictions stored beside it.

Layout under a results folder::

    <embedder_id>/<task_name>/<probe>.json                the result
    <embedder_id>/<task_name>/<probe>.predictions.json    test predictions per fold

``embedder_id`` is the registered name, followed by ``-<digest>`` of the options when they
differ from the preset's, so that variants of one preset never overwrite each other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.atomic import write_json_atomic

SCHEMA = "hearbench.result/1"


@dataclass(frozen=True)
class Score:
    """A metric over folds (or seeds): mean, population std and the per-fold values."""

    mean: float
    std: float
    folds: tuple[float, ...]

    @classmethod
    def from_folds(cls, values: Sequence[float]) -> Score:
        """Mean and sample std (``ddof=1``, as heareval's pandas aggregate) of per-fold values.

        A single split (``trainvaltest``) has std 0.
        """
        vals = tuple(float(v) for v in values)
        if not vals:
            raise ValueError("a score needs at least one fold")
        mean = sum(vals) / len(vals)
        if len(vals) == 1:
            return cls(mean, 0.0, vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
        return cls(mean, std, vals)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "folds": list(self.folds)}


@dataclass(frozen=True)
class Result:
    """The scores of one (embedder, task, probe), with provenance and cost.

    Attributes:
        embedder: ``{"name", "id", "options", "weights_sha256", "pretrained"}``.
        task: ``{"name", "version", "embedding_type", "prediction_type", "split_mode",
            "checksum"}``.
        probe: ``{"name", "params"}`` with the chosen hyperparameters.
        primary_metric: The task's primary metric.
        scores: ``{metric: Score}``.
        complexity: Parameters, MACs per second of audio, latency... or ``None``.
        timing: Seconds spent embedding and probing.
        provenance: Versions, git commit, seed, time.
        published: ``True`` for imported published scores (no predictions, no run).
    """

    embedder: Mapping[str, Any]
    task: Mapping[str, Any]
    probe: Mapping[str, Any]
    primary_metric: str
    scores: Mapping[str, Score]
    complexity: Mapping[str, Any] | None = None
    timing: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    published: bool = False

    @property
    def primary(self) -> Score:
        """The primary metric's score."""
        return self.scores[self.primary_metric]

    @property
    def embedder_id(self) -> str:
        """Stable id of the embedder configuration (see module docstring)."""
        return str(self.embedder.get("id") or self.embedder["name"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "embedder": dict(self.embedder),
            "task": dict(self.task),
            "probe": dict(self.probe),
            "primary_metric": self.primary_metric,
            "scores": {k: self.scores[k].to_dict() for k in sorted(self.scores)},
            "complexity": dict(self.complexity) if self.complexity is not None else None,
            "timing": dict(self.timing),
            "provenance": dict(self.provenance),
            "published": self.published,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "result") -> Result:
        """Parse a result JSON object; ``source`` names the file in errors."""
        for key in ("embedder", "task", "probe", "primary_metric", "scores"):
            if key not in data:
                raise HearbenchError(f"{source}: field {key!r} is missing")
        try:
            scores = {
                k: Score(float(v["mean"]), float(v["std"]), tuple(float(x) for x in v["folds"]))
                for k, v in data["scores"].items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise HearbenchError(f"{source}: field 'scores' is malformed ({exc})") from exc
        if data["primary_metric"] not in scores:
            raise HearbenchError(
                f"{source}: primary metric {data['primary_metric']!r} has no score"
            )
        return cls(
            embedder=data["embedder"],
            task=data["task"],
            probe=data["probe"],
            primary_metric=data["primary_metric"],
            scores=scores,
            complexity=data.get("complexity"),
            timing=data.get("timing", {}),
            provenance=data.get("provenance", {}),
            published=bool(data.get("published", False)),
        )


def result_path(out_dir: str | Path, embedder_id: str, task_name: str, probe: str) -> Path:
    """Where the result of (embedder, task, probe) lives under ``out_dir``."""
    return Path(out_dir) / embedder_id / task_name / f"{probe}.json"


def predictions_path(result_file: Path) -> Path:
    """The predictions file stored beside a result file."""
    return result_file.with_name(result_file.stem + ".predictions.json")


def write_result(
    out_dir: str | Path, result: Result, predictions: Mapping[str, Any] | None
) -> Path:
    """Write predictions first, then the result, each atomically; returns the result path.

    The result file is written last, so its presence means the whole record is complete.
    """
    path = result_path(
        out_dir, result.embedder_id, str(result.task["name"]), str(result.probe["name"])
    )
    if predictions is not None:
        write_json_atomic(predictions_path(path), predictions)
    write_json_atomic(path, result.to_dict())
    return path


def read_result(path: str | Path) -> Result:
    """Read one result file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HearbenchError(f"{p}: cannot read result ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HearbenchError(f"{p}: not a hearbench result (schema {SCHEMA} expected)")
    return Result.from_dict(data, str(p))


def read_results(folder: str | Path) -> list[Result]:
    """Every result under ``folder``, sorted by (task, embedder id, probe).

    JSON files that are not results (predictions, report outputs) are skipped.
    """
    root = Path(folder)
    if not root.is_dir():
        raise HearbenchError(f"{root}: results folder not found")
    results = []
    for p in sorted(root.rglob("*.json")):
        if p.name.endswith(".predictions.json") or p.name.startswith("."):
            continue
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise HearbenchError(f"{p}: cannot read result ({exc})") from exc
        if isinstance(data, dict) and data.get("schema") == SCHEMA:
            results.append(Result.from_dict(data, str(p)))
    return sorted(results, key=lambda r: (str(r.task["name"]), r.embedder_id, str(r.probe["name"])))


def read_predictions(result_file: str | Path) -> dict[str, Any]:
    """The stored test predictions of a result file."""
    path = predictions_path(Path(result_file))
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HearbenchError(f"{path}: cannot read predictions ({exc})") from exc
    return data


from hearbench.results_frame import load_results as load_results  # noqa: E402
