"""The scene kind: one embedding and one label set per clip."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hearbench.api import Embedder, HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.metrics import get_metric
from hearbench.metrics.base import Metric
from hearbench.predictions import Predictions, SceneFold, scene_fold
from hearbench.task_kinds.base import (
    ClipOutput,
    Durations,
    Evaluate,
    FoldRecord,
    KindName,
    KindTask,
    OutputChecks,
    Part,
)


def clip_targets(task: KindTask, split: str, files: Sequence[str]) -> np.ndarray:
    """Multi-hot targets ``(n, C)`` of scene clips."""
    index = task.label_to_index
    Y = np.zeros((len(files), len(task.labels)), dtype=np.float32)
    for row, name in enumerate(files):
        for label in task.targets[split][name]:
            Y[row, index[str(label)]] = 1.0
    return Y


def _scene(fold: FoldRecord) -> SceneFold:
    if not isinstance(fold, SceneFold):
        raise HearbenchError(f"scene task: fold {fold.fold} holds event predictions")
    return fold


class SceneKind:
    """Scene tasks: clip embeddings, multi-hot clip targets, the primary metric on clip scores.

    A fold's stored record (:class:`~hearbench.predictions.SceneFold`) holds the ``files ×
    labels`` scores and targets, row by row, so the statistics resample rows and read the
    per-item values of metrics that have them.
    """

    name: KindName = "scene"
    per_frame: bool = False
    embedder_macs_key: str = "scene_macs_per_second"

    def __repr__(self) -> str:
        return "SCENE"

    def target_problem(self, filename: str, target: Any, labels: set[str]) -> str | None:
        if not isinstance(target, list):
            return f"{filename}: expected a list of labels"
        for label in target:
            if str(label) not in labels:
                return f"{filename}: label {label!r} is not in the vocabulary"
        return None

    def clean_targets(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {str(k): [str(x) for x in v] for k, v in data.items()}

    def label_problems(self, task: KindTask) -> Iterator[str]:
        if task.prediction_type != "multiclass":
            return
        for split in task.split_names:
            split_file = task.path / f"{split}.json"
            for filename, labels in sorted(task.targets[split].items()):
                if len(labels) != 1:
                    yield f"{split_file}: {filename} has {len(labels)} labels, multiclass needs 1"

    def event_problems(
        self, task: KindTask, clip_ms: Callable[[str, str], float | None]
    ) -> Iterator[str]:
        yield from ()

    def embed_batch(
        self, embedder: Embedder, audio: torch.Tensor, where: str, checks: OutputChecks
    ) -> list[ClipOutput]:
        emb = embedder.scene_embeddings(audio).float().cpu()
        checks.validate_scene_outputs(embedder, audio, emb, where)
        return [(row, None) for row in emb.numpy()]

    def split_embeddings(
        self, files: Sequence[str], outputs: Mapping[str, ClipOutput]
    ) -> SplitEmbeddings:
        return SplitEmbeddings(tuple(files), np.stack([outputs[f][0] for f in files]).astype(np.float32))

    def targets(
        self, task: KindTask, parts: Sequence[tuple[str, SplitEmbeddings]]
    ) -> tuple[np.ndarray, dict[str, Any], np.ndarray | None, np.ndarray | None]:
        ys: list[np.ndarray] = []
        references: dict[str, Any] = {}
        for split, emb in parts:
            ys.append(clip_targets(task, split, emb.files))
            references.update({f: task.targets[split][f] for f in emb.files})
        return np.concatenate(ys).astype(np.float32, copy=False), references, None, None

    def objective(
        self, task: KindTask, valid: Part, metric: Metric, selection: str
    ) -> Evaluate:
        def evaluate(probs: np.ndarray) -> tuple[float, Mapping[str, Any]]:
            return metric(probs, valid.data.Y), {}

        return evaluate

    def score_fold(
        self,
        task: KindTask,
        fold: Any,
        tested: Sequence[str],
        test: Part,
        probs: np.ndarray,
        valid_info: Mapping[str, Any],
        durations: Durations,
    ) -> tuple[dict[str, float], FoldRecord]:
        scores = {m: get_metric(m)(probs, test.data.Y) for m in task.evaluation}
        return scores, scene_fold(fold, tested, test.files, probs, test.data.Y)

    def head_input(
        self,
        timestamps: np.ndarray | None,
        offsets: np.ndarray | None,
        mean_clip_seconds: Callable[[], float],
        window_seconds: float,
    ) -> tuple[int, float]:
        return 1, mean_clip_seconds()

    def predictions(
        self, folds: Sequence[FoldRecord], labels: Sequence[str], prediction_type: str
    ) -> Predictions:
        return Predictions(self.name, tuple(_scene(f) for f in folds), tuple(labels), prediction_type)

    def metric_args(
        self, fold: FoldRecord, files: Sequence[str], index: np.ndarray
    ) -> tuple[Any, Any]:
        scene = _scene(fold)
        return scene.scores[index], scene.targets[index]

    def select(self, fold: FoldRecord, files: Sequence[str], chosen: Sequence[str]) -> FoldRecord:
        scene = _scene(fold)
        position = {f: i for i, f in enumerate(files)}
        index = np.array([position[f] for f in chosen], dtype=np.intp)
        return SceneFold(scene.fold, scene.test, tuple(chosen), scene.scores[index], scene.targets[index])

    def swap(
        self, a: FoldRecord, b: FoldRecord, files: Sequence[str], mask: np.ndarray
    ) -> tuple[FoldRecord, FoldRecord]:
        sa, sb = _scene(a), _scene(b)
        m = mask[:, None]
        return (
            SceneFold(sa.fold, sa.test, tuple(files), np.where(m, sb.scores, sa.scores), sa.targets),
            SceneFold(sb.fold, sb.test, tuple(files), np.where(m, sa.scores, sb.scores), sb.targets),
        )

    def item_scores(
        self, fold: FoldRecord, files: Sequence[str], metric: str
    ) -> np.ndarray | None:
        every = np.arange(len(files), dtype=np.intp)
        return get_metric(metric).item_scores(*self.metric_args(fold, files, every))

    def heareval_row_labels(self, task: KindTask, split: str, emb: SplitEmbeddings) -> list[Any]:
        return [list(task.targets[split][name]) for name in emb.files]

    def heareval_extra_files(self, split: str, emb: SplitEmbeddings) -> dict[str, Any]:
        return {}

    def heareval_embeddings(
        self,
        task: KindTask,
        root: Path,
        split: str,
        matrix: np.ndarray,
        files: Sequence[str],
        read_json: Callable[[Path], Any],
        read_labels: Callable[[Path, str], list[Any]],
    ) -> SplitEmbeddings:
        n = int(matrix.shape[0])
        if len(files) != n:
            raise HearbenchError(
                f"{root / f'{split}.embeddings.npy'}: {n} rows but {split}.json lists {len(files)} files"
            )
        emb = SplitEmbeddings(tuple(files), matrix)
        if read_labels(root, split) != self.heareval_row_labels(task, split, emb):
            raise HearbenchError(
                f"{root / f'{split}.target-labels.pkl'}: row labels do not follow heareval's file order"
            )
        return emb


SCENE = SceneKind()
"""The scene kind."""
