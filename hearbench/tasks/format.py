"""The HEAR 2021 task format: read a task directory into a typed :class:`Task`, and write one.

A task directory holds ``task_metadata.json``, ``labelvocabulary.csv`` (``idx,label``), one
``<split>.json`` per split or fold (scene: ``{file: [label, ...]}``; event:
``{file: [{"label", "start", "end"}]}`` in ms) and audio at ``<sample_rate>/<split>/<file>``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hearbench.api import HearbenchError
from hearbench.audio import fit_length, resample, write_wav
from hearbench.task_kinds import task_kind
from hearbench.tasks.manifest import digest_of, verified_audio, write_manifest
from hearbench.tasks.metadata import ALL_METRICS as ALL_METRICS
from hearbench.tasks.metadata import EMBEDDING_TYPES as EMBEDDING_TYPES
from hearbench.tasks.metadata import PREDICTION_TYPES as PREDICTION_TYPES
from hearbench.tasks.metadata import SPLIT_MODES as SPLIT_MODES
from hearbench.tasks.metadata import check_metadata
from hearbench.tasks.metadata import field as meta_field

__all__ = ["ALL_METRICS", "EMBEDDING_TYPES", "PREDICTION_TYPES", "SPLIT_MODES"]

@dataclass(frozen=True)
class FoldSplit:
    """One train/valid/test assignment of the task's split files (heareval's protocol)."""

    index: int
    train: tuple[str, ...]
    valid: tuple[str, ...]
    test: tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """A HEAR task read from disk.

    Attributes:
        path: The task directory.
        name: ``task_name`` from the metadata.
        version: Task version (part of every cache key).
        embedding_type: ``"scene"`` or ``"event"``.
        prediction_type: ``"multiclass"`` or ``"multilabel"``.
        split_mode: ``"trainvaltest"``, ``"presplit_kfold"`` or ``"new_split_kfold"``.
        nfolds: Number of folds for k-fold modes, else ``None``.
        sample_duration: Seconds every clip is padded/trimmed to, or ``None``.
        evaluation: Metric names; the first is the primary metric.
        labels: Label vocabulary in index order.
        split_names: Split or fold names in protocol order.
        targets: ``{split: {file: labels or events}}``.
        sample_rates: Sample rates with an audio folder.
        evaluation_params: Optional ``evaluation_params`` of the metadata.
        metadata: The raw metadata.
    """

    path: Path
    name: str
    version: str
    embedding_type: str
    prediction_type: str
    split_mode: str
    nfolds: int | None
    sample_duration: float | None
    evaluation: tuple[str, ...]
    labels: tuple[str, ...]
    split_names: tuple[str, ...]
    targets: Mapping[str, Mapping[str, Any]]
    sample_rates: tuple[int, ...]
    evaluation_params: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def primary_metric(self) -> str:
        """The metric that selects models and ranks embedders."""
        return self.evaluation[0]

    @property
    def label_to_index(self) -> dict[str, int]:
        """Label → column index."""
        return {label: i for i, label in enumerate(self.labels)}

    def files(self, split: str) -> list[str]:
        """File names of ``split`` in sorted order."""
        return sorted(self.targets[split])

    def audio_path(self, split: str, filename: str, sample_rate: int) -> Path:
        """Path of a clip at one of the task's sample rates."""
        return self.path / str(sample_rate) / split / filename

    def fold_splits(self) -> list[FoldSplit]:
        """heareval's splits: k-fold split i tests fold i, validates on fold i+1, trains on the rest."""
        if self.split_mode == "trainvaltest":
            return [FoldSplit(0, ("train",), ("valid",), ("test",))]
        folds = self.split_names
        k = len(folds)
        splits = []
        for i in range(k):
            valid = (i + 1) % k
            train = tuple(folds[j] for j in range(k) if j not in (i, valid))
            splits.append(FoldSplit(i, train, (folds[valid],), (folds[i],)))
        return splits

    def metadata_checksum(self) -> str:
        """SHA-256 over metadata, vocabulary and split files."""
        digest = hashlib.sha256()
        for name in ["task_metadata.json", "labelvocabulary.csv"] + [
            f"{s}.json" for s in self.split_names
        ]:
            digest.update(name.encode())
            digest.update((self.path / name).read_bytes())
        return digest.hexdigest()

    def audio_files(self, split: str | None = None) -> list[str]:
        """Relative paths of the audio the task reads, at every sample rate (of one split)."""
        splits = self.split_names if split is None else (split,)
        return [
            f"{rate}/{s}/{name}" for rate in self.sample_rates for s in splits for name in self.files(s)
        ]

    @functools.cached_property
    def _audio_hashes(self) -> dict[str, str]:
        return verified_audio(self.path, self.audio_files())

    def audio_checksum(self, split: str | None = None) -> str:
        """SHA-256 over the relative path and content hash of every audio file (of one split),
        verified against the task's audio manifest (:mod:`hearbench.tasks.manifest`).

        Raises:
            HearbenchError: naming a file that changed since its manifest was recorded.
        """
        hashes = self._audio_hashes
        return digest_of({rel: hashes[rel] for rel in self.audio_files(split)})

    def checksum(self) -> str:
        """SHA-256 identifying the task's content: metadata, vocabulary, splits and every
        audio file (:meth:`metadata_checksum`, :meth:`audio_checksum`)."""
        both = f"{self.metadata_checksum()}:{self.audio_checksum()}"
        return hashlib.sha256(both.encode()).hexdigest()


def _fail(path: Path, message: str) -> HearbenchError:
    return HearbenchError(f"{path}: {message}")


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise _fail(path, "missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(path, f"invalid JSON ({exc})") from exc


def _field(meta: Mapping[str, Any], key: str, path: Path, kind: type | tuple[type, ...]) -> Any:
    return meta_field(meta, key, str(path), kind)


def read_labels(path: Path) -> tuple[str, ...]:
    """Read ``labelvocabulary.csv`` (``idx,label``) into labels ordered by index."""
    if not path.is_file():
        raise _fail(path, "missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"idx", "label"} <= set(reader.fieldnames):
            raise _fail(path, "expected the header 'idx,label'")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append((int(row["idx"]), str(row["label"])))
            except (TypeError, ValueError) as exc:
                raise _fail(path, f"line {line}: idx must be an integer") from exc
    indices = sorted(i for i, _ in rows)
    if indices != list(range(len(rows))):
        raise _fail(path, "idx must run 0..n-1 without gaps or repeats")
    labels = tuple(label for _, label in sorted(rows))
    if len(set(labels)) != len(labels):
        raise _fail(path, "labels must be unique")
    return labels


def split_names_for(meta: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """Split names a task's metadata implies, in protocol order.

    ``trainvaltest`` → ``train, valid, test``. k-fold modes use the metadata's ``splits`` list
    (sorted, as heareval sorts folds) or, without one, ``fold00 .. fold{nfolds-1}``.
    """
    mode = meta["split_mode"]
    if mode == "trainvaltest":
        return ("train", "valid", "test")
    if "splits" in meta:
        folds = meta["splits"]
        if not isinstance(folds, list) or not all(isinstance(f, str) for f in folds):
            raise _fail(path, "field 'splits' must be a list of fold names")
        if len(set(folds)) != len(folds):
            raise _fail(path, "field 'splits' repeats a fold name")
        names = tuple(sorted(folds))
    else:
        nfolds = _field(meta, "nfolds", path, int)
        names = tuple(f"fold{i:02d}" for i in range(nfolds))
    if len(names) < 3:
        raise _fail(path, f"{mode} needs at least 3 folds (train, valid, test), got {len(names)}")
    return names


def _check_targets(
    split_path: Path, data: Any, embedding_type: str, labels: set[str]
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(split_path, "expected an object {file: labels}")
    kind = task_kind(embedding_type)
    for filename, target in data.items():
        problem = kind.target_problem(filename, target, labels)
        if problem is not None:
            raise _fail(split_path, problem)
    return kind.clean_targets(data)


def load_task(path: str | Path, check_audio: bool = True) -> Task:
    """Read and validate a HEAR task directory.

    Args:
        path: The task directory.
        check_audio: Also check that every listed file exists in every sample-rate folder.

    Raises:
        HearbenchError: one line naming the file or field that is wrong.
    """
    root = Path(path)
    if not root.is_dir():
        raise _fail(root, "task directory not found")
    meta_path = root / "task_metadata.json"
    meta = _read_json(meta_path)
    if not isinstance(meta, dict):
        raise _fail(meta_path, "expected a JSON object")
    name = _field(meta, "task_name", meta_path, str)
    version = str(_field(meta, "version", meta_path, (str, int, float)))
    fields = check_metadata(meta, str(meta_path))
    embedding_type, prediction_type = fields.embedding_type, fields.prediction_type
    split_mode, evaluation, duration = fields.split_mode, fields.evaluation, fields.sample_duration
    labels = read_labels(root / "labelvocabulary.csv")
    splits = split_names_for(meta, meta_path)
    label_set = set(labels)
    targets = {
        s: _check_targets(
            root / f"{s}.json", _read_json(root / f"{s}.json"), embedding_type, label_set
        )
        for s in splits
    }
    rates = tuple(sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()))
    if not rates:
        raise _fail(root, "no sample-rate folder (e.g. 16000/) holds the audio")
    if check_audio:
        for rate in rates:
            for split in splits:
                folder = root / str(rate) / split
                if not folder.is_dir():
                    raise _fail(folder, "sample-rate split folder is missing")
                present = {p.name for p in folder.iterdir()}
                missing = sorted(set(targets[split]) - present)
                if missing:
                    raise _fail(folder / missing[0], f"audio file missing ({len(missing)} in all)")
    return Task(
        path=root,
        name=name,
        version=version,
        embedding_type=embedding_type,
        prediction_type=prediction_type,
        split_mode=split_mode,
        nfolds=len(splits) if split_mode != "trainvaltest" else None,
        sample_duration=float(duration) if duration is not None else None,
        evaluation=tuple(evaluation),
        labels=labels,
        split_names=splits,
        targets=targets,
        sample_rates=rates,
        evaluation_params=dict(meta.get("evaluation_params", {})),
        metadata=meta,
    )


@dataclass(frozen=True)
class TaskItem:
    """One clip to write: its split, file name, audio and target."""

    split: str
    filename: str
    audio: np.ndarray
    sample_rate: int
    target: Any


def _empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def write_task(
    out: str | Path,
    metadata: Mapping[str, Any],
    labels: Sequence[str],
    items: Iterable[TaskItem],
    sample_rates: Sequence[int],
    overwrite: bool = False,
) -> Path:
    """Write a task directory in the HEAR format, atomically.

    Everything is written into a temporary sibling directory that is renamed into place only
    when complete, so a failed build never leaves a half-written task.

    Args:
        out: Target directory.
        metadata: ``task_metadata.json`` content (must name split_mode, nfolds, ...).
        labels: Label vocabulary in index order.
        items: Clips; audio is resampled to each of ``sample_rates`` with soxr.
        sample_rates: Sample-rate folders to write.
        overwrite: Replace an existing directory (an existing empty folder is always used).

    The task gets an ``audio_manifest.json`` recording every audio file's size and sha256.
    """
    target = Path(out)
    if target.exists() and not overwrite and not _empty_dir(target):
        raise _fail(target, "already exists (use --overwrite to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    meta_path = target / "task_metadata.json"
    splits = split_names_for(metadata, meta_path)
    duration = metadata.get("sample_duration")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        targets: dict[str, dict[str, Any]] = {s: {} for s in splits}
        for rate in sample_rates:
            for split in splits:
                (tmp / str(rate) / split).mkdir(parents=True)
        for item in items:
            if item.split not in targets:
                raise _fail(target, f"item {item.filename}: unknown split {item.split!r}")
            targets[item.split][item.filename] = item.target
            for rate in sample_rates:
                audio = resample(item.audio, item.sample_rate, rate)
                if duration is not None:
                    audio = fit_length(audio, round(duration * rate))
                write_wav(tmp / str(rate) / item.split / item.filename, audio, rate)
        (tmp / "task_metadata.json").write_text(
            json.dumps(dict(metadata), indent=2, sort_keys=True)
        )
        with (tmp / "labelvocabulary.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["idx", "label"])
            for i, label in enumerate(labels):
                writer.writerow([i, label])
        for split, data in targets.items():
            ordered = {k: data[k] for k in sorted(data)}
            (tmp / f"{split}.json").write_text(json.dumps(ordered, indent=1, sort_keys=True))
        write_manifest(
            tmp,
            (f"{rate}/{s}/{name}" for rate in sample_rates for s in splits for name in targets[s]),
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
