"""The event kind: timestamp embeddings, frame targets, events after post-processing."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from hearbench.api import Embedder, HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.events import event_lists_to_json, frame_targets
from hearbench.frame_scores import ClipScores
from hearbench.metrics import EVENT_METRICS, frame_metric_scores, get_metric
from hearbench.metrics.base import Metric
from hearbench.postprocess import (
    PostProcessing,
    apply_postprocessing,
    grid_from_evaluation_params,
    select_postprocessing,
    split_frames,
)
from hearbench.predictions import EventFold, Predictions
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

EVENT_TOLERANCE_MS = 1.0
"""How far (ms) an event may end past its clip before ``hearbench tasks validate`` objects."""


def frame_rate(timestamps_ms: npt.ArrayLike, offsets: npt.ArrayLike) -> float:
    """Frames per second of audio of clips concatenated in ``timestamps_ms`` (clip ``i`` owns
    rows ``offsets[i]:offsets[i + 1]``): mean over clips with two frames or more.

    Raises:
        HearbenchError: no clip has two frames.
    """
    stamps = np.asarray(timestamps_ms, dtype=np.float64)
    bounds = np.asarray(offsets, dtype=np.int64)
    rates = [
        (stop - start - 1) * 1000.0 / (stamps[stop - 1] - stamps[start])
        for start, stop in itertools.pairwise(bounds.tolist())
        if stop - start >= 2 and stamps[stop - 1] > stamps[start]
    ]
    if not rates:
        raise HearbenchError("head complexity: no clip has two frames to take a frame rate from")
    return float(np.mean(rates))


def _event(fold: FoldRecord) -> EventFold:
    if not isinstance(fold, EventFold):
        raise HearbenchError(f"event task: fold {fold.fold} holds scene predictions")
    return fold


class EventKind:
    """Event tasks: timestamp embeddings, multi-hot frame targets, events from frames.

    The objective post-processes validation frames with every point of the task's
    post-processing grid (:mod:`hearbench.postprocess`) and scores the best by the primary
    event metric; a test fold reuses the chosen point. A fold's stored record
    (:class:`~hearbench.predictions.EventFold`) holds events and references by file, so the
    statistics resample files and recompute the metric.
    """

    name: KindName = "event"
    per_frame: bool = True
    embedder_macs_key: str = "macs_per_second"

    def __repr__(self) -> str:
        return "EVENT"

    def target_problem(self, filename: str, target: Any, labels: set[str]) -> str | None:
        if not isinstance(target, list):
            return f"{filename}: expected a list of events"
        for event in target:
            if not isinstance(event, dict) or not {"label", "start", "end"} <= set(event):
                return f"{filename}: events need label, start and end"
            if str(event["label"]) not in labels:
                return f"{filename}: label {event['label']!r} is not in the vocabulary"
            if not float(event["start"]) <= float(event["end"]):
                return f"{filename}: event ends before it starts"
        return None

    def clean_targets(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {str(k): v for k, v in data.items()}

    def label_problems(self, task: KindTask) -> Iterator[str]:
        yield from ()

    def event_problems(
        self, task: KindTask, clip_ms: Callable[[str, str], float | None]
    ) -> Iterator[str]:
        for split in task.split_names:
            for filename, events in sorted(task.targets[split].items()):
                length = clip_ms(split, filename)
                for event in events:
                    start, end = float(event["start"]), float(event["end"])
                    if start < 0 or (length is not None and end > length + EVENT_TOLERANCE_MS):
                        yield (
                            f"{task.path / f'{split}.json'}: {filename}: event {event['label']} "
                            f"{start}..{end} ms lies outside the clip (0..{length} ms)"
                        )

    def embed_batch(
        self, embedder: Embedder, audio: torch.Tensor, where: str, checks: OutputChecks
    ) -> list[ClipOutput]:
        emb, stamps = embedder.timestamp_embeddings(audio)
        emb, stamps = emb.float().cpu(), stamps.float().cpu()
        checks.validate_timestamp_outputs(embedder, audio, emb, stamps, where)
        return [(emb[i].numpy(), stamps[i].numpy()) for i in range(int(audio.shape[0]))]

    def split_embeddings(
        self, files: Sequence[str], outputs: Mapping[str, ClipOutput]
    ) -> SplitEmbeddings:
        stamps = [outputs[f][1] for f in files]
        lengths = [outputs[f][0].shape[0] for f in files]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return SplitEmbeddings(
            tuple(files),
            np.concatenate([outputs[f][0] for f in files]).astype(np.float32),
            np.concatenate([s for s in stamps if s is not None]).astype(np.float32),
            offsets,
        )

    def targets(
        self, task: KindTask, parts: Sequence[tuple[str, SplitEmbeddings]]
    ) -> tuple[np.ndarray, dict[str, Any], np.ndarray | None, np.ndarray | None]:
        ys: list[np.ndarray] = []
        references: dict[str, Any] = {}
        offsets = [0]
        stamps: list[np.ndarray] = []
        for split, emb in parts:
            assert emb.timestamps is not None and emb.offsets is not None
            for i, name in enumerate(emb.files):
                rows = emb.frames_of(i)
                events = task.targets[split][name]
                ys.append(frame_targets(emb.timestamps[rows], events, task.labels))
                references[name] = events
                offsets.append(offsets[-1] + rows.stop - rows.start)
            stamps.append(emb.timestamps)
        return (
            np.concatenate(ys).astype(np.float32, copy=False),
            references,
            np.asarray(offsets, dtype=np.int64),
            np.concatenate(stamps).astype(np.float32),
        )

    def objective(
        self, task: KindTask, valid: Part, metric: Metric, selection: str
    ) -> Evaluate:
        grid = grid_from_evaluation_params(task.evaluation_params)

        def evaluate(probs: np.ndarray) -> tuple[float, Mapping[str, Any]]:
            assert valid.timestamps is not None and valid.data.offsets is not None
            preds, stamps = split_frames(probs, valid.timestamps, valid.data.offsets, valid.files)
            chosen = select_postprocessing(
                preds,
                stamps,
                valid.references,
                task.labels,
                metric,
                grid,
                direction_aware=selection == "direction_aware",
            )
            return chosen.score, {"postprocessing": chosen.best.to_dict()}

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
        choice = dict(valid_info.get("postprocessing", {}))
        assert test.timestamps is not None and test.data.offsets is not None
        preds, stamps = split_frames(probs, test.timestamps, test.data.offsets, test.files)
        events = event_lists_to_json(
            apply_postprocessing(preds, stamps, task.labels, PostProcessing(**choice))
        )
        seconds = durations(tested)
        frames = {
            name: ClipScores(stamps[name], preds[name], seconds[name])
            for name in preds
            if len(stamps[name])
        }
        scores = {
            m: get_metric(m)(events, test.references)
            for m in task.evaluation
            if get_metric(m).name in EVENT_METRICS
        }
        scores.update(frame_metric_scores(frames, test.references, task.labels))
        return scores, EventFold(fold, tuple(tested), events, dict(test.references), choice, frames)

    def head_input(
        self,
        timestamps: np.ndarray | None,
        offsets: np.ndarray | None,
        mean_clip_seconds: Callable[[], float],
        window_seconds: float,
    ) -> tuple[int, float]:
        assert timestamps is not None and offsets is not None
        fps = frame_rate(timestamps, offsets)
        return max(1, round(fps * window_seconds)), window_seconds

    def predictions(
        self, folds: Sequence[FoldRecord], labels: Sequence[str], prediction_type: str
    ) -> Predictions:
        return Predictions(self.name, tuple(_event(f) for f in folds), tuple(labels), prediction_type)

    def metric_args(
        self, fold: FoldRecord, files: Sequence[str], index: np.ndarray
    ) -> tuple[Any, Any]:
        record = _event(fold)
        preds: dict[str, Any] = {}
        refs: dict[str, Any] = {}
        for k, i in enumerate(index.tolist()):
            name = f"{files[i]}#{k}"
            preds[name] = record.events.get(files[i], [])
            refs[name] = record.references[files[i]]
        return preds, refs

    def select(self, fold: FoldRecord, files: Sequence[str], chosen: Sequence[str]) -> FoldRecord:
        return _event(fold)

    def swap(
        self, a: FoldRecord, b: FoldRecord, files: Sequence[str], mask: np.ndarray
    ) -> tuple[FoldRecord, FoldRecord]:
        ra, rb = _event(a), _event(b)
        ea, eb = dict(ra.events), dict(rb.events)
        for i in np.flatnonzero(mask).tolist():
            f = files[i]
            ea[f], eb[f] = rb.events.get(f, []), ra.events.get(f, [])
        return dataclasses.replace(ra, events=ea), dataclasses.replace(rb, events=eb)

    def item_scores(
        self, fold: FoldRecord, files: Sequence[str], metric: str
    ) -> np.ndarray | None:
        return None

    def heareval_row_labels(self, task: KindTask, split: str, emb: SplitEmbeddings) -> list[Any]:
        assert emb.timestamps is not None
        out: list[Any] = []
        for i, name in enumerate(emb.files):
            rows = emb.frames_of(i)
            active = frame_targets(emb.timestamps[rows], task.targets[split][name], task.labels)
            out += [[task.labels[c] for c in np.flatnonzero(frame)] for frame in active]
        return out

    def heareval_extra_files(self, split: str, emb: SplitEmbeddings) -> dict[str, Any]:
        assert emb.timestamps is not None
        stamps = [
            [f"{split}/{name}", float(t)]
            for i, name in enumerate(emb.files)
            for t in emb.timestamps[emb.frames_of(i)]
        ]
        return {f"{split}.filename-timestamps.json": stamps}

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
        path = root / f"{split}.filename-timestamps.json"
        rows = read_json(path)
        if len(rows) != matrix.shape[0]:
            raise HearbenchError(f"{path}: {len(rows)} rows but the embeddings have {matrix.shape[0]}")
        names: list[str] = []
        offsets = [0]
        for i, (slug, _) in enumerate(rows):
            name = Path(str(slug)).name
            if not names or names[-1] != name:
                if name in names:
                    raise HearbenchError(f"{path}: the frames of {name!r} are not contiguous")
                if names:
                    offsets.append(i)
                names.append(name)
        offsets.append(len(rows))
        stamps = np.asarray([float(t) for _, t in rows], dtype=np.float32)
        return SplitEmbeddings(tuple(names), matrix, stamps, np.asarray(offsets, dtype=np.int64))


EVENT = EventKind()
"""The event kind."""
