"""heareval 2021.1.3's on-disk embeddings and predictions, written and read by hearbench.

An embeddings folder, as heareval's embedding runner leaves it (what ``python -m
heareval.predictions.runner FOLDER`` reads):

* ``task_metadata.json``, ``labelvocabulary.csv`` and ``<split>.json`` (the task's own files);
* ``<split>.embeddings.npy``: the split's rows as a raw float32 memory map (no ``.npy``
  header, heareval opens it with ``numpy.memmap``), shape in ``<split>.embedding-dimensions.json``;
* ``<split>.target-labels.pkl`` (the list heareval unpickles) and the same list as
  ``<split>.target-labels.json``: per row, its labels (per frame for event tasks);
* event tasks: ``<split>.filename-timestamps.json``, ``[[f"{split}/{file}", ms], ...]`` per row.

Rows follow heareval's order (:func:`hearbench.protocol.heareval_file_order`); scene rows carry
no file names, so reading recovers them from that order and checks them against the labels.

A predictions folder is an embeddings folder after heareval's predictions runner: per test fold
``<fold>.predictions.pkl`` (a pickle of torch tensors and, for event tasks, events; only read
folders you trust) and ``test.predicted-scores.json`` with heareval's test scores.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hearbench.api import HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.metrics import get_metric
from hearbench.protocol import heareval_file_order, reorder
from hearbench.task_kinds import task_kind
from hearbench.tasks.format import Task, read_labels, split_names_for


def _dump_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1), encoding="utf-8")


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise HearbenchError(f"{path}: missing (not a heareval embeddings folder?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HearbenchError(f"{path}: invalid JSON ({exc})") from exc


def row_labels(task: Task, split: str, emb: SplitEmbeddings) -> list[Any]:
    """heareval's target labels of each row: a clip's labels, or each frame's active labels."""
    return task_kind(task).heareval_row_labels(task, split, emb)


def write_embeddings(task: Task, embeddings: Mapping[str, SplitEmbeddings], out: str | Path) -> Path:
    """Write ``embeddings`` of ``task`` as a heareval embeddings folder ``out`` (module docstring)."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    metadata = dict(task.metadata)
    metadata.setdefault("splits", list(task.split_names))
    _dump_json(root / "task_metadata.json", metadata)
    shutil.copyfile(task.path / "labelvocabulary.csv", root / "labelvocabulary.csv")
    order = heareval_file_order(task)
    for split in task.split_names:
        if split not in embeddings:
            raise HearbenchError(f"embeddings of split {split!r} of {task.name} are missing")
        shutil.copyfile(task.path / f"{split}.json", root / f"{split}.json")
        emb = reorder(embeddings[split], order[split])
        matrix = np.ascontiguousarray(emb.embeddings, dtype=np.float32)
        matrix.tofile(root / f"{split}.embeddings.npy")
        _dump_json(root / f"{split}.embedding-dimensions.json", list(matrix.shape))
        labels = row_labels(task, split, emb)
        with (root / f"{split}.target-labels.pkl").open("wb") as handle:
            pickle.dump(labels, handle)
        _dump_json(root / f"{split}.target-labels.json", labels)
        for name, value in task_kind(task).heareval_extra_files(split, emb).items():
            _dump_json(root / name, value)
    return root


def read_task(folder: str | Path) -> Task:
    """The task described by a heareval embeddings folder (its metadata, vocabulary and splits)."""
    root = Path(folder)
    meta_path = root / "task_metadata.json"
    meta = _read_json(meta_path)
    for key in ("task_name", "embedding_type", "prediction_type", "split_mode", "evaluation"):
        if key not in meta:
            raise HearbenchError(f"{meta_path}: field {key!r} is missing")
    splits = split_names_for(meta, meta_path)
    kind = task_kind(str(meta["embedding_type"]), str(meta_path))
    targets = {split: kind.clean_targets(_read_json(root / f"{split}.json")) for split in splits}
    duration = meta.get("sample_duration")
    return Task(
        path=root,
        name=str(meta["task_name"]),
        version=str(meta.get("version", "")),
        embedding_type=str(meta["embedding_type"]),
        prediction_type=str(meta["prediction_type"]),
        split_mode=str(meta["split_mode"]),
        nfolds=len(splits) if meta["split_mode"] != "trainvaltest" else None,
        sample_duration=float(duration) if duration is not None else None,
        evaluation=tuple(meta["evaluation"]),
        labels=read_labels(root / "labelvocabulary.csv"),
        split_names=splits,
        targets=targets,
        sample_rates=(),
        evaluation_params=dict(meta.get("evaluation_params", {})),
        metadata=meta,
    )


def read_embeddings(folder: str | Path) -> tuple[Task, dict[str, SplitEmbeddings]]:
    """The task and every split's embeddings of a heareval embeddings folder."""
    root = Path(folder)
    task = read_task(root)
    order = heareval_file_order(task)
    out: dict[str, SplitEmbeddings] = {}
    for split in task.split_names:
        dims = _read_json(root / f"{split}.embedding-dimensions.json")
        path = root / f"{split}.embeddings.npy"
        if not path.is_file():
            raise HearbenchError(f"{path}: missing")
        n, d = int(dims[0]), int(dims[1])
        if path.stat().st_size != n * d * 4:
            raise HearbenchError(f"{path}: {path.stat().st_size} bytes, expected {n} x {d} float32")
        matrix = np.fromfile(path, dtype=np.float32).reshape(n, d)
        emb = task_kind(task).heareval_embeddings(
            task, root, split, matrix, order[split], _read_json, _read_labels
        )
        out[split] = emb
    return task, out


def _read_labels(root: Path, split: str) -> list[Any]:
    path = root / f"{split}.target-labels.pkl"
    if path.is_file():
        with path.open("rb") as handle:
            return [[str(x) for x in row] for row in pickle.load(handle)]
    return [[str(x) for x in row] for row in _read_json(root / f"{split}.target-labels.json")]


@dataclass(frozen=True)
class FoldPredictions:
    """heareval's stored test predictions of one fold.

    Attributes:
        fold: The test fold name (``test`` or ``fold00``, ...).
        probabilities: Scene: ``(n, C)`` probabilities, else None.
        targets: Scene: ``(n, C)`` multi-hot targets, else None.
        events: Event: predicted events per file, else None.
        references: Event: reference events per file, else None.
        frame_probabilities: Event: ``(n_frames, C)`` frame probabilities, else None.
    """

    fold: str
    probabilities: np.ndarray | None = None
    targets: np.ndarray | None = None
    events: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
    references: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
    frame_probabilities: np.ndarray | None = None


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def read_predictions(folder: str | Path) -> dict[str, FoldPredictions]:
    """Every ``<fold>.predictions.pkl`` of a heareval predictions folder, by fold name."""
    root = Path(folder)
    out: dict[str, FoldPredictions] = {}
    for path in sorted(root.glob("*.predictions.pkl")):
        fold = path.name[: -len(".predictions.pkl")]
        with path.open("rb") as handle:
            data = pickle.load(handle)
        if "predicted_events" in data:
            out[fold] = FoldPredictions(
                fold,
                events={Path(k).name: list(v) for k, v in data["predicted_events"].items()},
                references={Path(k).name: list(v) for k, v in data["target_events"].items()},
                frame_probabilities=_numpy(data["prediction"]),
            )
        else:
            out[fold] = FoldPredictions(fold, _numpy(data["prediction"]), _numpy(data["target"]))
    if not out:
        raise HearbenchError(f"{root}: no <fold>.predictions.pkl (run heareval's predictions runner first)")
    return out


def score_predictions(
    predictions: Mapping[str, FoldPredictions], metrics: Sequence[str]
) -> dict[str, dict[str, float]]:
    """hearbench's ``metrics`` of each fold's stored heareval predictions."""
    out: dict[str, dict[str, float]] = {}
    for fold, pred in predictions.items():
        if pred.events is not None:
            assert pred.references is not None
            out[fold] = {m: float(get_metric(m)(pred.events, pred.references)) for m in metrics}
        else:
            assert pred.probabilities is not None and pred.targets is not None
            out[fold] = {m: float(get_metric(m)(pred.probabilities, pred.targets)) for m in metrics}
    return out


def stored_scores(folder: str | Path, metrics: Sequence[str]) -> dict[str, dict[str, float]]:
    """heareval's own test scores per fold, from ``test.predicted-scores.json``."""
    path = Path(folder) / "test.predicted-scores.json"
    data = _read_json(path)
    out: dict[str, dict[str, float]] = {}
    for fold, values in data.items():
        if not isinstance(values, dict) or not any(f"test_{m}" in values for m in metrics):
            continue
        out[fold] = {m: float(values[f"test_{m}"]) for m in metrics if f"test_{m}" in values}
    return out


def evaluate_embeddings(
    task: Task,
    embeddings: Mapping[str, SplitEmbeddings],
    probe: str = "mlp",
    probe_options: Mapping[str, Any] | None = None,
    seed: int = 42,
) -> tuple[dict[str, Any], dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """hearbench's protocol on given embeddings (e.g. from :func:`read_embeddings`).

    Returns the chosen hyperparameters, every metric of each test fold (named as heareval
    names folds: ``test`` or ``fold00``, ...) and each fold's test probabilities, rows in
    heareval's order.
    """
    from hearbench.probes import get_probe
    from hearbench.protocol import search_and_train
    from hearbench.runner import probe_grid, test_scores

    options = dict(probe_options or {})
    selection = str(options.pop("postprocessing_selection", "heareval"))
    grid = probe_grid(probe, task, options)
    fixed = {"prediction_type": task.prediction_type, "seed": seed}
    chosen, outcomes = search_and_train(get_probe(probe), task, embeddings, grid, fixed, selection)
    scores: dict[str, dict[str, float]] = {}
    probabilities: dict[str, np.ndarray] = {}
    for outcome in outcomes:
        fold = "|".join(outcome.split.test)
        values, _ = test_scores(task, outcome)
        scores[fold] = {m: float(v) for m, v in values.items()}
        probabilities[fold] = outcome.test_probs
    return chosen, scores, probabilities
