"""The HEAR evaluation protocol: fold data, validation objectives and the probe search.

heareval 2021.1.3's protocol, for every probe: Python, NumPy and torch are seeded once with
``seed`` (heareval's ``seed_everything(42)``); the hyperparameter grid is searched on the first
split (train on its train folds, select on its validation fold by the task's primary metric,
float32-rounded as Lightning logs it; ties go to the earlier point), the winner is trained on
every other split with the same settings (the first split's model is reused), and each split's
model predicts its test fold.

Row order: heareval's embedding runner writes each split's rows in its own order (a
``random.Random(0)`` shuffles the files of each split, the splits taken in the metadata's
``splits`` order, the files in their ``<split>.json`` order), and its loaders read them as
written: the training folds concatenated in sorted fold order, never shuffled, the validation
and test rows likewise. :func:`heareval_file_order` gives that order and :func:`assemble` uses
it, so every training batch holds the rows heareval's holds.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hearbench.api import HearbenchError
from hearbench.cache import SplitEmbeddings
from hearbench.metrics import get_metric
from hearbench.probes.base import Objective, Probe, ProbeData
from hearbench.probes.progress import BarProgress
from hearbench.task_kinds import task_kind
from hearbench.tasks.format import FoldSplit, Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitData:
    """One protocol part (train, valid or test) of a fold: probe data and what scores it."""

    data: ProbeData
    files: tuple[str, ...]
    timestamps: np.ndarray | None
    references: Mapping[str, Any]


POSTPROCESSING_SELECTIONS = ("heareval", "direction_aware")
"""How event post-processing is picked on validation: ``heareval`` always takes the highest
primary score (also for a lower-is-better metric such as ``segment_1s_er``), as heareval does;
``direction_aware`` takes the best score in the metric's direction."""


def heareval_file_order(task: Task) -> dict[str, tuple[str, ...]]:
    """Each split's files in the row order of heareval's embedding files (module docstring)."""
    prng = random.Random(0)
    listed = task.metadata.get("splits")
    names = [str(s) for s in listed] if isinstance(listed, list) else list(task.split_names)
    order: dict[str, tuple[str, ...]] = {}
    for split in names:
        if split not in task.targets:
            continue
        files = list(task.targets[split])
        prng.shuffle(files)
        order[split] = tuple(files)
    for split in task.split_names:
        order.setdefault(split, tuple(task.targets[split]))
    return order


def reorder(emb: SplitEmbeddings, files: Sequence[str]) -> SplitEmbeddings:
    """``emb`` with its files (rows or frame blocks) in the order of ``files``."""
    if tuple(files) == tuple(emb.files):
        return emb
    position = {name: i for i, name in enumerate(emb.files)}
    missing = [name for name in files if name not in position]
    if missing or len(files) != len(emb.files):
        raise HearbenchError(
            f"embeddings and task disagree on the files of a split (e.g. {(missing or list(emb.files))[0]!r})"
        )
    index = [position[name] for name in files]
    if emb.offsets is None:
        return SplitEmbeddings(tuple(files), emb.embeddings[index])
    assert emb.timestamps is not None
    blocks = [emb.frames_of(i) for i in index]
    rows = np.concatenate([np.arange(b.start, b.stop) for b in blocks]) if blocks else np.zeros(0, int)
    sizes = np.array([b.stop - b.start for b in blocks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return SplitEmbeddings(tuple(files), emb.embeddings[rows], emb.timestamps[rows], offsets)


def assemble(
    task: Task,
    splits: Sequence[str],
    embeddings: Mapping[str, SplitEmbeddings],
    order: Mapping[str, Sequence[str]] | None = None,
) -> SplitData:
    """Concatenate the embeddings and targets of ``splits`` (e.g. the train folds of a split).

    Each split's rows follow ``order`` (default: :func:`heareval_file_order`).
    """
    order = heareval_file_order(task) if order is None else order
    rows = [(split, reorder(embeddings[split], order[split])) for split in splits]
    X = np.concatenate([emb.embeddings for _, emb in rows]).astype(np.float32, copy=False)
    Y, references, offsets, stamps = task_kind(task).targets(task, rows)
    files = tuple(name for _, emb in rows for name in emb.files)
    return SplitData(ProbeData(X, Y, offsets), files, stamps, references)


def make_objective(task: Task, valid: SplitData, postprocessing_selection: str = "heareval") -> Objective:
    """The validation objective of ``task`` (see :data:`POSTPROCESSING_SELECTIONS`)."""
    if postprocessing_selection not in POSTPROCESSING_SELECTIONS:
        raise HearbenchError(
            f"postprocessing_selection must be one of {', '.join(POSTPROCESSING_SELECTIONS)}, "
            f"got {postprocessing_selection!r}"
        )
    metric = get_metric(task.primary_metric)
    evaluate = task_kind(task).objective(task, valid, metric, postprocessing_selection)
    return Objective(evaluate, metric.higher_is_better, metric.name)


def concat_parts(parts: Sequence[SplitData]) -> SplitData:
    """Several assembled parts as one, rows in the order given (frame offsets shifted)."""
    if len(parts) == 1:
        return parts[0]
    X = np.concatenate([p.data.X for p in parts]).astype(np.float32, copy=False)
    Y = np.concatenate([p.data.Y for p in parts]).astype(np.float32, copy=False)
    files = tuple(f for p in parts for f in p.files)
    references = {k: v for p in parts for k, v in p.references.items()}
    if parts[0].data.offsets is None:
        return SplitData(ProbeData(X, Y), files, None, references)
    offsets = [np.zeros(1, dtype=np.int64)]
    start = 0
    for p in parts:
        assert p.data.offsets is not None
        offsets.append(p.data.offsets[1:] + start)
        start += int(p.data.offsets[-1])
    stamps = np.concatenate([p.timestamps for p in parts if p.timestamps is not None])
    return SplitData(ProbeData(X, Y, np.concatenate(offsets)), files, stamps, references)


def with_copies(
    task: Task,
    train: SplitData,
    splits: Sequence[str],
    copies: Mapping[str, Sequence[SplitEmbeddings]] | None,
) -> SplitData:
    """The training part ``train`` of ``splits`` followed by the extra copies of those splits.

    ``copies`` maps a split to embeddings of augmented copies of some of its clips (each in
    its own file order); without copies ``train`` is returned as it is.
    """
    if not copies:
        return train
    extra = [
        assemble(task, [split], {split: emb}, {split: emb.files})
        for split in splits
        for emb in copies.get(split, ())
        if emb.files
    ]
    return concat_parts([train, *extra])


@dataclass(frozen=True)
class FoldOutcome:
    """A trained probe on one split, with its test data."""

    split: FoldSplit
    probe: Probe
    test: SplitData
    test_probs: np.ndarray


def search_and_train(
    probe_cls: type[Probe],
    task: Task,
    embeddings: Mapping[str, SplitEmbeddings],
    grid: Sequence[Mapping[str, Any]],
    fixed: Mapping[str, Any],
    postprocessing_selection: str = "heareval",
    progress: bool = False,
    train_copies: Mapping[str, Sequence[SplitEmbeddings]] | None = None,
) -> tuple[dict[str, Any], list[FoldOutcome]]:
    """Search ``grid`` on the first split, then train the winner on every split.

    Seeds Python, NumPy and torch with ``fixed["seed"]`` (default 42) first; the probe
    class's ``fit_grid`` fits the grid. With ``progress`` a bar counts the fits (grid points,
    then the winner on every further split) as each ends, and shows the running fit's epoch
    and best validation score (:class:`~hearbench.probes.progress.BarProgress`). Returns the
    chosen hyperparameters and one outcome per split.
    ``train_copies`` (augmented copies of clips, per split) are added after the clean rows of
    the training folds only; validation and test stay clean.
    """
    from tqdm.auto import tqdm

    splits = task.fold_splits()
    order = heareval_file_order(task)
    parts = [
        (
            with_copies(task, assemble(task, s.train, embeddings, order), s.train, train_copies),
            assemble(task, s.valid, embeddings, order),
            assemble(task, s.test, embeddings, order),
        )
        for s in splits
    ]
    bar = tqdm(
        total=len(grid) + len(splits) - 1,
        desc=f"probe {task.name}",
        unit="fit",
        disable=None if progress else True,
        leave=False,
    )
    with bar:
        return _fit_all(probe_cls, task, grid, fixed, postprocessing_selection, splits, parts, bar)


def _fit_all(
    probe_cls: type[Probe],
    task: Task,
    grid: Sequence[Mapping[str, Any]],
    fixed: Mapping[str, Any],
    postprocessing_selection: str,
    splits: Sequence[FoldSplit],
    parts: Sequence[tuple[SplitData, SplitData, SplitData]],
    bar: Any,
) -> tuple[dict[str, Any], list[FoldOutcome]]:
    """The grid search and the fits of :func:`search_and_train`, counted on ``bar``."""
    from hearbench.probes.torch_utils import seed_everything

    train0, valid0, _ = parts[0]
    objective0 = make_objective(task, valid0, postprocessing_selection)
    seed_everything(int(fixed.get("seed", 42)))
    fit_progress = BarProgress(bar, objective0)
    fitted = probe_cls.fit_grid(grid, train0.data, valid0.data, objective0, fixed, fit_progress)
    candidates = []
    for point, probe in zip(grid, fitted, strict=True):
        log.info("grid point %s: valid %s = %.4f", point, objective0.name, probe.valid_score_)
        candidates.append((probe.valid_score_, point, probe))
    ranked = sorted(
        candidates,
        key=lambda c: np.nan_to_num(c[0], nan=objective0.worst()),
        reverse=objective0.higher_is_better,
    )
    best_score, best_point, best_probe = ranked[0]
    bar.set_postfix_str(f"best valid {objective0.name} {best_score:.4f}")
    outcomes = []
    for i, (split, (train, valid, test)) in enumerate(zip(splits, parts, strict=True)):
        probe = (
            best_probe
            if i == 0
            else probe_cls(**{**fixed, **best_point}).fit(
                train.data, valid.data, make_objective(task, valid, postprocessing_selection), fit_progress
            )
        )
        if i > 0:
            fit_progress.point_done(len(grid) + i - 1, probe.valid_score_)
        outcomes.append(FoldOutcome(split, probe, test, probe.predict_proba(test.data)))
    return dict(best_point), outcomes
