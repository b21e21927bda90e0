"""``evaluate``: embed a task once, train a probe with the HEAR protocol, score, store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hearbench.api import Embedder, HearbenchError
from hearbench.cache import EmbeddingCache, SplitEmbeddings
from hearbench.complexity.head import HEAD_SECONDS, HeadComplexity, head_complexity, with_head
from hearbench.embed import embed_task
from hearbench.predictions import EventFold, SceneFold
from hearbench.probes import get_probe, resolve_probe_options
from hearbench.protocol import FoldOutcome, search_and_train
from hearbench.provenance import provenance
from hearbench.results import Result, Score, write_result
from hearbench.task_kinds import task_kind
from hearbench.tasks.format import Task

log = logging.getLogger(__name__)

TASK_SPECIFIC_MLP_GRID: dict[str, dict[str, Any]] = {
    "dcase2016_task2": {"check_val_every_n_epoch": [10]},
}


def embedder_id(embedder: Embedder) -> str:
    """The results id of the embedder's configuration (:func:`hearbench.registry.configuration_id`):
    a preset's name when it is that preset as it ships, else ``<name>-<digest>``."""
    from hearbench.registry import configuration_id

    options = embedder.user_options
    return configuration_id(embedder.config, options_given=options is None or bool(options))


def probe_grid(
    probe_name: str, task: Task, probe_options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The hyperparameter points the protocol searches for ``probe_name`` on ``task``."""
    probe_cls = get_probe(probe_name)
    protocol = resolve_probe_options(probe_name, probe_options)
    if probe_name == "mlp":
        protocol = {**TASK_SPECIFIC_MLP_GRID.get(task.name, {}), **protocol}
        protocol.update(task.evaluation_params.get("task_specific_param_grid", {}))
    return probe_cls.param_grid(**protocol)


def test_scores(task: Task, outcome: FoldOutcome) -> tuple[dict[str, float], SceneFold | EventFold]:
    """Every metric of the task on one split's test predictions, and the stored predictions."""
    from hearbench.tasks.durations import clip_durations

    return task_kind(task).score_fold(
        task,
        outcome.split.index,
        list(outcome.split.test),
        outcome.test,
        outcome.test_probs,
        outcome.probe.valid_info_,
        lambda splits: clip_durations(task, splits),
    )


def head_cost(task: Task, outcome: FoldOutcome) -> HeadComplexity:
    """The trained head's cost (:mod:`hearbench.complexity.head`): event heads on 10 s of frames
    at the test embeddings' frame rate, scene heads on one embedding per mean test-clip length."""
    from hearbench.tasks.durations import clip_durations

    test = outcome.test

    def mean_clip_seconds() -> float:
        durations = clip_durations(task, outcome.split.test)
        return sum(durations.values()) / len(durations)

    frames, seconds = task_kind(task).head_input(
        test.timestamps, test.data.offsets, mean_clip_seconds, HEAD_SECONDS
    )
    return head_complexity(outcome.probe, int(test.data.X.shape[1]), frames, seconds)


def evaluate(
    embedder: Embedder,
    task: Task,
    probe: str = "linear",
    *,
    cache: EmbeddingCache | None = None,
    out_dir: str | Path | None = None,
    seed: int = 42,
    probe_options: Mapping[str, Any] | None = None,
    complexity: Mapping[str, Any] | None = None,
    progress: bool = True,
    train_copies: Mapping[str, Sequence[SplitEmbeddings]] | None = None,
    finish: Callable[[Result, Sequence[FoldOutcome]], Result] | None = None,
) -> Result:
    """Evaluate ``embedder`` on ``task`` with ``probe``; writes the result when ``out_dir`` is set.

    Args:
        embedder: The embedder.
        task: A loaded task.
        probe: Probe name (``linear``, ``mlp``, ``knn``, ``sequence``).
        cache: Embedding cache (default: ``$HEARBENCH_CACHE``).
        out_dir: Results folder; ``None`` keeps the result in memory only.
        seed: Seed of every probe fit.
        probe_options: Overrides of the probe's grid (``{"max_epochs": 50}``) or settings.
        complexity: The embedder's complexity figures to store in the result; the head's cost
            and the embedder + head totals are added (:func:`head_cost`).
        progress: Show progress bars.
        train_copies: Augmented copies of training clips per split
            (:func:`hearbench.protocol.search_and_train`).
        finish: Called with the result and the fitted folds before the result is stored
            (the robustness protocol scores its test conditions there).
    """
    probe_cls = get_probe(probe)
    if probe == "sequence" and not task_kind(task).per_frame:
        raise HearbenchError(f"probe 'sequence' needs an event task; {task.name} is a scene task")
    probe_options = resolve_probe_options(probe, probe_options or {})
    cache = cache or EmbeddingCache()
    embeddings, report = embed_task(embedder, task, cache, progress=progress)
    start = time.perf_counter()
    options = dict(probe_options or {})
    selection = str(options.pop("postprocessing_selection", "heareval"))
    grid = probe_grid(probe, task, options)
    fixed: dict[str, Any] = {"prediction_type": task.prediction_type, "seed": seed}
    chosen, outcomes = search_and_train(
        probe_cls, task, embeddings, grid, fixed, selection,
        progress=progress, train_copies=train_copies,
    )
    per_fold: dict[str, list[float]] = {}
    folds = []
    for outcome in outcomes:
        scores, stored = test_scores(task, outcome)
        for metric, value in scores.items():
            per_fold.setdefault(metric, []).append(float(value))
        folds.append(stored)
    probe_seconds = time.perf_counter() - start
    if complexity is not None:
        complexity = with_head(complexity, head_cost(task, outcomes[0]), task.embedding_type)
    result = Result(
        embedder={**embedder.config.to_dict(), "id": embedder_id(embedder)},
        task={
            "name": task.name,
            "version": task.version,
            "embedding_type": task.embedding_type,
            "prediction_type": task.prediction_type,
            "split_mode": task.split_mode,
            "checksum": task.checksum(),
        },
        probe={
            "name": probe,
            "params": {**chosen, "seed": seed},
            "options": probe_options,
        },
        primary_metric=task.primary_metric,
        scores={m: Score.from_folds(v) for m, v in per_fold.items()},
        complexity=complexity,
        timing={
            "embed_s": round(report.seconds, 3),
            "probe_s": round(probe_seconds, 3),
            "embeddings_computed": list(report.computed),
            "embeddings_cached": list(report.cached),
        },
        provenance=provenance(seed, task.checksum()),
    )
    if finish is not None:
        result = finish(result, outcomes)
    if out_dir is not None:
        predictions = task_kind(task).predictions(folds, task.labels, task.prediction_type)
        path = write_result(out_dir, result, predictions)
        log.info("wrote %s", path)
    return result
