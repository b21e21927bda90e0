"""Results: one JSON per (embedder, task, probe), with test predictions stored beside it.

Layout under a results folder::

    <embedder_id>/<task_name>/<run>.json                the result
    <embedder_id>/<task_name>/<run>.predictions.json    test predictions per fold

``<run>`` is the probe's name when it ran with its defaults, and ``<probe>-<digest>`` of the
probe options it ran with otherwise (:func:`probe_run_name`): results of one probe under
other options (another head, a shortened schedule) sit side by side, never replacing each
other, and a report shows them as rows of their own.

A result of a variant of the protocol (augmented training copies, test conditions of a
robustness run) is stored as ``<run><variant>.json``, the variant naming it and a digest of
its identity (``linear+dir_augment-<digest>``, ``linear@dir-<digest>``), so that clean and
robustness results of one embedder, task and probe never overwrite each other.

``embedder_id`` is the registered name, followed by ``-<digest>`` of the options when they
differ from the preset's, so that variants of one preset never overwrite each other.

A result and its predictions are one unit: the predictions are written first and the result
records their sha256 (``predictions_sha256``; ``null`` when none were stored). A result is
valid only while its predictions file matches, so a crash between the two writes (or a
deleted or edited predictions file) shows as a missing result, which resume recomputes and
the reporter skips with a warning. Results written before the digest existed are accepted as
legacy when their predictions predate it too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.atomic import TMP_SUFFIX, is_leftover, loads_json, write_json_atomic
from hearbench.options import option_label
from hearbench.predictions import (
    Predictions,
    as_predictions,
    has_schema,
    read_predictions_file,
    write_predictions,
)
from hearbench.robustness_summary import RobustnessSummary
from hearbench.weights import sha256_file

log = logging.getLogger(__name__)

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
        predictions_sha256: sha256 of the stored predictions file, ``None`` when none.
        paired: Whether the result records ``predictions_sha256`` (``False`` for legacy files
            and results kept in memory).
        variant: Suffix of the results id naming a variant of the protocol (module
            docstring); ``""`` for the plain protocol.
        robustness: Clean and per-condition scores of a robustness run, with their summary.
        perturbation: The identity of the test conditions of a robustness run (kind, folder,
            level, every condition's file digests, seed, SNRs, the cap on conditions).
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
    predictions_sha256: str | None = None
    paired: bool = False
    variant: str = ""
    robustness: RobustnessSummary | None = None
    perturbation: Mapping[str, Any] | None = None

    @property
    def run_name(self) -> str:
        """The probe's run name and the variant: the stem of the result's file name."""
        return probe_run_name(str(self.probe["name"]), self.probe.get("options") or {}) + self.variant

    @property
    def probe_label(self) -> str:
        """The probe's name, its options (``sequence [d_model=64, head=tcn]``) when it ran with
        any, and ``+ DIR aug (p=…, n=…)`` when its training had DIR copies."""
        return self.probe_label_without(())

    def probe_label_without(self, hidden: Sequence[str]) -> str:
        """:attr:`probe_label` leaving out the options named in ``hidden``."""
        name = str(self.probe["name"])
        options = {k: v for k, v in (self.probe.get("options") or {}).items() if k not in hidden}
        if options:
            name += " [" + ", ".join(f"{k}={option_label(options[k])}" for k in sorted(options)) + "]"
        augment = self.probe.get("augment")
        if not isinstance(augment, Mapping):
            return name
        return f"{name} + DIR aug (p={augment.get('dir_augment_p')}, n={augment.get('dir_augment_draws')})"

    @property
    def primary(self) -> Score:
        """The primary metric's score."""
        return self.scores[self.primary_metric]

    @property
    def embedder_id(self) -> str:
        """Stable id of the embedder configuration (see module docstring)."""
        return str(self.embedder.get("id") or self.embedder["name"])

    def to_dict(self) -> dict[str, Any]:
        paired = {"predictions_sha256": self.predictions_sha256} if self.paired else {}
        return {
            **paired,
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
            **({"variant": self.variant} if self.variant else {}),
            **({"robustness": self.robustness.to_dict()} if self.robustness is not None else {}),
            **({"perturbation": dict(self.perturbation)} if self.perturbation is not None else {}),
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
        robustness = None
        if data.get("robustness") is not None:
            try:
                robustness = RobustnessSummary.from_dict(data["robustness"])
            except (KeyError, TypeError, ValueError, AttributeError, HearbenchError) as exc:
                raise HearbenchError(f"{source}: field 'robustness' is malformed ({exc})") from exc
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
            predictions_sha256=data.get("predictions_sha256"),
            paired="predictions_sha256" in data,
            variant=str(data.get("variant") or ""),
            robustness=robustness,
            perturbation=data.get("perturbation"),
        )


def probe_run_name(probe: str, options: Mapping[str, Any]) -> str:
    """``probe`` when it ran with its defaults, else ``probe-<digest>`` of ``options``.

    The digest is the first 8 hex digits of the sha256 of the options as canonical JSON (keys
    sorted), the form a result stores them in, so a run and its stored result agree.
    """
    if not options:
        return probe
    text = json.dumps(json.loads(json.dumps(dict(options), default=str)), sort_keys=True)
    return f"{probe}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def result_path(out_dir: str | Path, embedder_id: str, task_name: str, probe: str) -> Path:
    """Where the result of (embedder, task, run) lives under ``out_dir``.

    Args:
        probe: The run name: the probe's name, ``-<digest>`` of its options when it had any
            (:func:`probe_run_name`), and the variant.
    """
    return Path(out_dir) / embedder_id / task_name / f"{probe}.json"


def predictions_path(result_file: Path) -> Path:
    """The predictions file stored beside a result file."""
    return result_file.with_name(result_file.stem + ".predictions.json")


def write_result(
    out_dir: str | Path,
    result: Result,
    predictions: Predictions | Mapping[str, Any] | None,
) -> Path:
    """Write the predictions, then the result recording their sha256; returns the result path.

    Each file is written atomically. A crash between the two leaves the old result beside
    new predictions whose digest it does not record: the pair reads as missing (see
    :func:`pair_problem`), never as a mix.
    """
    path = result_path(out_dir, result.embedder_id, str(result.task["name"]), result.run_name)
    digest = None
    if predictions is not None:
        digest = write_predictions(predictions_path(path), as_predictions(predictions))
    stored = dataclasses.replace(result, predictions_sha256=digest, paired=True)
    write_json_atomic(path, stored.to_dict())
    return path


def read_result(path: str | Path) -> Result:
    """Read one result file (without checking its predictions; see :func:`read_valid_result`).

    Raises:
        HearbenchError: naming the file when it does not parse or is not a result.
    """
    p = Path(path)
    try:
        data = loads_json(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HearbenchError(f"{p}: cannot read result ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HearbenchError(f"{p}: not a hearbench result (schema {SCHEMA} expected)")
    return Result.from_dict(data, str(p))


def pair_problem(path: str | Path, result: Result) -> str | None:
    """Why the result at ``path`` disagrees with its predictions file, or ``None`` when it agrees."""
    preds = predictions_path(Path(path))
    if not result.paired:
        if preds.is_file() and has_schema(preds):
            return f"{preds}: newer than its legacy result {Path(path).name}"
        return None
    if result.predictions_sha256 is None:
        return None
    if not preds.is_file():
        return f"{preds}: predictions file missing"
    if sha256_file(preds) != result.predictions_sha256:
        return f"{preds}: does not match its result (sha256 differs)"
    return None


def read_valid_result(path: str | Path) -> Result | None:
    """The result at ``path`` when it parses and agrees with its predictions, else ``None``.

    A file that is absent gives ``None`` silently; one that is unreadable or inconsistent
    gives ``None`` with a warning naming the file, so that resume recomputes it.
    """
    p = Path(path)
    if not p.is_file():
        return None
    try:
        result = read_result(p)
    except HearbenchError as exc:
        log.warning("%s; treated as missing", exc)
        return None
    problem = pair_problem(p, result)
    if problem is not None:
        log.warning("%s; treated as missing", problem)
        return None
    return result


def read_results(folder: str | Path) -> list[Result]:
    """Every valid result under ``folder``, sorted by (task, embedder id, probe).

    JSON files that are not results (predictions, report outputs) are skipped; a result file
    that does not parse or disagrees with its predictions is skipped with a warning naming it.
    """
    root = Path(folder)
    if not root.is_dir():
        raise HearbenchError(f"{root}: results folder not found")
    results = []
    for p in sorted(root.rglob("*.json")):
        if p.name.endswith(".predictions.json") or p.name.startswith("."):
            continue
        try:
            data = loads_json(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            log.warning("%s: cannot read result (%s); skipped", p, exc)
            continue
        if not (isinstance(data, dict) and data.get("schema") == SCHEMA):
            continue
        try:
            result = Result.from_dict(data, str(p))
        except HearbenchError as exc:
            log.warning("%s; skipped", exc)
            continue
        problem = pair_problem(p, result)
        if problem is not None:
            log.warning("%s; skipped", problem)
            continue
        results.append(result)
    return sorted(results, key=lambda r: (str(r.task["name"]), r.embedder_id, r.run_name))


def read_predictions(result_file: str | Path) -> dict[str, Any]:
    """The stored test predictions of a result file, as the JSON object on disk."""
    path = predictions_path(Path(result_file))
    try:
        data: dict[str, Any] = loads_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HearbenchError(f"{path}: cannot read predictions ({exc})") from exc
    return data


def result_predictions(root: str | Path, result: Result) -> Predictions | None:
    """The predictions stored with ``result`` under the results folder ``root``, if any.

    ``None`` for published results, results stored without predictions, and legacy results
    whose file is absent or unreadable (with a warning naming it). A paired result's file was
    checked when the result was read (:func:`read_results`), so a failure to read it raises.
    """
    if result.published or (result.paired and result.predictions_sha256 is None):
        return None
    path = predictions_path(
        result_path(root, result.embedder_id, str(result.task["name"]), result.run_name)
    )
    if not path.is_file():
        return None
    if result.paired:
        return read_predictions_file(path)
    try:
        return read_predictions_file(path)
    except HearbenchError as exc:
        log.warning("%s; its result is reported without statistics", exc)
        return None


def prune_results(folder: str | Path) -> list[Path]:
    """Remove temporary files left by killed writes under ``folder``; returns what went."""
    root = Path(folder)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for tmp in sorted(root.rglob(f".*{TMP_SUFFIX}")):
        if tmp.is_file() and is_leftover(tmp):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
            log.info("removed leftover %s", tmp)
    return removed
