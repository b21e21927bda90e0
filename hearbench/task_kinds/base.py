"""The interface of a task kind, and the shapes of what it reads (structural types)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch

from hearbench.api import Embedder
from hearbench.cache import SplitEmbeddings
from hearbench.metrics.base import Metric
from hearbench.predictions import EventFold, Predictions, SceneFold

KindName = Literal["scene", "event"]

ClipOutput = tuple[np.ndarray, np.ndarray | None]
"""One clip's embedder output: its rows, and its frame timestamps (ms) when it has frames."""

FoldRecord = SceneFold | EventFold
"""The stored predictions of one test fold."""


class KindTask(Protocol):
    """What a kind reads of a task (:class:`hearbench.tasks.format.Task` has all of it)."""

    @property
    def name(self) -> str: ...
    @property
    def embedding_type(self) -> str: ...
    @property
    def prediction_type(self) -> str: ...
    @property
    def evaluation(self) -> tuple[str, ...]: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def split_names(self) -> tuple[str, ...]: ...
    @property
    def targets(self) -> Mapping[str, Mapping[str, Any]]: ...
    @property
    def evaluation_params(self) -> Mapping[str, Any]: ...
    @property
    def path(self) -> Path: ...
    @property
    def label_to_index(self) -> dict[str, int]: ...


class Rows(Protocol):
    """Probe rows and targets (:class:`hearbench.probes.base.ProbeData`)."""

    @property
    def X(self) -> np.ndarray: ...
    @property
    def Y(self) -> np.ndarray: ...
    @property
    def offsets(self) -> np.ndarray | None: ...


class Part(Protocol):
    """One assembled protocol part (:class:`hearbench.protocol.SplitData`)."""

    @property
    def data(self) -> Rows: ...
    @property
    def files(self) -> tuple[str, ...]: ...
    @property
    def timestamps(self) -> np.ndarray | None: ...
    @property
    def references(self) -> Mapping[str, Any]: ...


class OutputChecks(Protocol):
    """The embed-time output checks (the module :mod:`hearbench.testing.rules` is one)."""

    def validate_scene_outputs(
        self, embedder: Embedder, audio: torch.Tensor, emb: Any, where: str = ""
    ) -> None: ...

    def validate_timestamp_outputs(
        self, embedder: Embedder, audio: torch.Tensor, emb: Any, stamps: Any, where: str = ""
    ) -> None: ...


Evaluate = Callable[[np.ndarray], tuple[float, Mapping[str, Any]]]
"""A validation objective: probabilities to ``(score, info)``
(:class:`hearbench.probes.base.Objective`)."""

Durations = Callable[[Sequence[str]], Mapping[str, float]]
"""Clip durations in seconds of the files of some splits (:func:`hearbench.tasks.durations.clip_durations`)."""


class TaskKind(Protocol):
    """What differs between scene and event tasks, in one object per kind.

    Attributes:
        name: ``"scene"`` or ``"event"``: the task metadata's ``embedding_type`` and the
            predictions record's ``kind``.
        per_frame: Whether the embedder's output has frames (timestamp embeddings).
        embedder_macs_key: The embedder's complexity key of the output embedded
            (``scene_macs_per_second`` or ``macs_per_second``).
    """

    name: KindName
    per_frame: bool
    embedder_macs_key: str

    # The task's files.
    def target_problem(self, filename: str, target: Any, labels: set[str]) -> str | None:
        """Why one entry of a ``<split>.json`` is malformed, or ``None``."""

    def clean_targets(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A ``<split>.json`` object as :attr:`Task.targets` holds it."""

    def label_problems(self, task: KindTask) -> Iterator[str]:
        """Problems of the clips' label lists (``hearbench tasks validate``)."""

    def event_problems(
        self, task: KindTask, clip_ms: Callable[[str, str], float | None]
    ) -> Iterator[str]:
        """Problems of the events' times (``clip_ms(split, file)`` is the clip's length)."""

    # Embedding.
    def embed_batch(
        self, embedder: Embedder, audio: torch.Tensor, where: str, checks: OutputChecks
    ) -> list[ClipOutput]:
        """The checked embedder output of each clip of a batch ``audio`` ``(n, samples)``."""

    def split_embeddings(
        self, files: Sequence[str], outputs: Mapping[str, ClipOutput]
    ) -> SplitEmbeddings:
        """A split's embeddings from its clips' outputs, in the order of ``files``."""

    # The protocol.
    def targets(
        self, task: KindTask, parts: Sequence[tuple[str, SplitEmbeddings]]
    ) -> tuple[np.ndarray, dict[str, Any], np.ndarray | None, np.ndarray | None]:
        """Targets of the rows of ``(split, embeddings)`` parts, concatenated.

        Returns ``(Y, references by file, frame offsets or None, frame timestamps or None)``.
        """

    def objective(
        self, task: KindTask, valid: Part, metric: Metric, selection: str
    ) -> Evaluate:
        """The validation score of probabilities on ``valid`` by the primary ``metric``."""

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
        """Every metric of the task on one fold's test probabilities, and its stored record."""

    def head_input(
        self,
        timestamps: np.ndarray | None,
        offsets: np.ndarray | None,
        mean_clip_seconds: Callable[[], float],
        window_seconds: float,
    ) -> tuple[int, float]:
        """``(rows, seconds)`` a trained head runs on to cost it."""

    # The predictions record and the statistics over it.
    def predictions(
        self, folds: Sequence[FoldRecord], labels: Sequence[str], prediction_type: str
    ) -> Predictions:
        """The predictions record of a result."""

    def metric_args(
        self, fold: FoldRecord, files: Sequence[str], index: np.ndarray
    ) -> tuple[Any, Any]:
        """Metric arguments for the items ``files[index]`` of a fold (repeats allowed)."""

    def select(self, fold: FoldRecord, files: Sequence[str], chosen: Sequence[str]) -> FoldRecord:
        """The fold (items ``files``) restricted to the items ``chosen``, in that order."""

    def swap(
        self, a: FoldRecord, b: FoldRecord, files: Sequence[str], mask: np.ndarray
    ) -> tuple[FoldRecord, FoldRecord]:
        """Two systems' folds with their predictions exchanged on the items where ``mask``."""

    def item_scores(
        self, fold: FoldRecord, files: Sequence[str], metric: str
    ) -> np.ndarray | None:
        """Per-item values whose mean is the metric, or ``None`` when it must be recomputed."""

    # heareval's embeddings folders.
    def heareval_row_labels(self, task: KindTask, split: str, emb: SplitEmbeddings) -> list[Any]:
        """heareval's target labels of each row of a split."""

    def heareval_extra_files(self, split: str, emb: SplitEmbeddings) -> dict[str, Any]:
        """The JSON files beyond the common ones a split needs: ``{file name: value}``."""

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
        """A split's embeddings read back from a heareval folder; ``files`` in heareval's order."""
