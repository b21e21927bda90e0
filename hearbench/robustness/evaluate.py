"""The robustness run: the clean protocol, then every test condition (package docstring)."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hearbench.api import Embedder, HearbenchError
from hearbench.cache import EmbeddingCache, SplitEmbeddings
from hearbench.embed import cache_key, embed_split
from hearbench.metrics import get_metric
from hearbench.perturb import Perturbation
from hearbench.protocol import FoldOutcome, assemble, heareval_file_order
from hearbench.results import Result
from hearbench.robustness.conditions import (
    Augmentation,
    AugmentSpec,
    Conditions,
    RobustnessSpec,
    variant_of,
)
from hearbench.robustness_summary import RobustnessSummary
from hearbench.runner import evaluate, test_scores
from hearbench.tasks.format import Task

log = logging.getLogger(__name__)


def _embed(
    embedder: Embedder,
    task: Task,
    split: str,
    cache: EmbeddingCache,
    perturbation: Perturbation,
    files: Sequence[str] | None,
    progress: bool,
) -> tuple[SplitEmbeddings, bool]:
    key = cache_key(embedder, task, split, perturbation, files)
    compute = functools.partial(
        embed_split, embedder, task, split, progress=progress, perturbation=perturbation, files=files
    )
    return cache.get_or_compute(key, compute)


def training_copies(
    embedder: Embedder,
    task: Task,
    augmentation: Augmentation,
    cache: EmbeddingCache,
    progress: bool = True,
) -> tuple[dict[str, list[SplitEmbeddings]], dict[str, int]]:
    """Embeddings of every draw's augmented copies, per split used for training.

    Returns the copies and counts (``copies``, ``computed`` and ``cached`` entries).
    """
    splits = sorted({s for fold in task.fold_splits() for s in fold.train})
    copies: dict[str, list[SplitEmbeddings]] = {}
    counts = {"copies": 0, "computed": 0, "cached": 0}
    for split in splits:
        for draw in augmentation.draws:
            files = [f for f in task.files(split) if draw.device(f"{split}/{f}") is not None]
            if not files:
                continue
            value, fresh = _embed(embedder, task, split, cache, draw, files, progress)
            copies.setdefault(split, []).append(value)
            counts["copies"] += len(files)
            counts["computed" if fresh else "cached"] += 1
    return copies, counts


def score_conditions(
    embedder: Embedder,
    task: Task,
    outcomes: Sequence[FoldOutcome],
    conditions: Conditions,
    cache: EmbeddingCache,
    progress: bool = True,
) -> tuple[dict[str, float], dict[str, Any]]:
    """The primary score (mean over folds) of each condition, with the same fitted probes.

    Returns the scores and a record of the work (per-condition fold scores, cache use,
    clips scaled to peak 1 in the embeddings computed now).
    """
    test_splits = sorted({s for o in outcomes for s in o.split.test})
    order = heareval_file_order(task)
    scores: dict[str, float] = {}
    folds: dict[str, list[float]] = {}
    computed: list[str] = []
    cached: list[str] = []
    for perturbation in conditions.perturbations:
        if hasattr(perturbation, "clipped"):
            perturbation.clipped = 0
        embeddings: dict[str, SplitEmbeddings] = {}
        fresh_any = False
        for split in test_splits:
            embeddings[split], fresh = _embed(embedder, task, split, cache, perturbation, None, progress)
            fresh_any |= fresh
        (computed if fresh_any else cached).append(perturbation.name)
        values = []
        for outcome in outcomes:
            test = assemble(task, outcome.split.test, embeddings, order)
            probs = outcome.probe.predict_proba(test.data)
            fold_scores, _ = test_scores(task, FoldOutcome(outcome.split, outcome.probe, test, probs))
            values.append(float(fold_scores[task.primary_metric]))
        folds[perturbation.name] = values
        scores[perturbation.name] = sum(values) / len(values)
        log.info("%s %s %s: %.4f", embedder.name, task.name, perturbation.name, scores[perturbation.name])
    clipped = {p.name: int(getattr(p, "clipped", 0)) for p in conditions.perturbations}
    record = {
        "condition_folds": folds,
        "conditions_computed": computed,
        "conditions_cached": cached,
        "clipped_clips": {k: v for k, v in clipped.items() if v},
    }
    return scores, record


def evaluate_robustness(
    embedder: Embedder,
    task: Task,
    probe: str = "linear",
    *,
    robustness: RobustnessSpec | Conditions | None = None,
    augment: AugmentSpec | Augmentation | None = None,
    cache: EmbeddingCache | None = None,
    out_dir: str | Path | None = None,
    seed: int = 42,
    probe_options: Mapping[str, Any] | None = None,
    complexity: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> Result:
    """Evaluate ``embedder`` on ``task`` with the clean protocol, then under test conditions.

    Args:
        embedder: The embedder.
        task: A loaded task.
        probe: Probe name.
        robustness: The test conditions (``None``: the clean test only, e.g. for augmentation).
        augment: DIR augmentation of the training folds, or ``None``.
        cache: Embedding cache (default: ``$HEARBENCH_CACHE``).
        out_dir: Results folder; ``None`` keeps the result in memory only.
        seed: Seed of every probe fit.
        probe_options: The probe's own options (as for :func:`hearbench.runner.evaluate`).
        complexity: Complexity figures to store in the result.
        progress: Show progress bars.

    Raises:
        HearbenchError: one line naming the file or option when the folder, a response or an
            SNR is not usable, before anything is embedded or written.
    """
    conditions = robustness.prepare() if isinstance(robustness, RobustnessSpec) else robustness
    augmentation = augment.prepare() if isinstance(augment, AugmentSpec) else augment
    if conditions is None and augmentation is None:
        raise HearbenchError("evaluate_robustness: give test conditions, an augmentation, or both")
    for prepared in (conditions, augmentation):
        if prepared is not None:
            prepared.check_task(task)
    cache = cache or EmbeddingCache()
    copies: dict[str, list[SplitEmbeddings]] | None = None
    augment_counts: dict[str, int] = {}
    start = time.perf_counter()
    if augmentation is not None:
        copies, augment_counts = training_copies(embedder, task, augmentation, cache, progress)
    augment_s = time.perf_counter() - start

    def finish(result: Result, outcomes: Sequence[FoldOutcome]) -> Result:
        timing = dict(result.timing)
        probe_record = dict(result.probe)
        if augmentation is not None:
            probe_record["augment"] = {**augmentation.identity(), "copies": augment_counts["copies"]}
            timing["augment_s"] = round(augment_s, 3)
            timing["augment_entries_computed"] = augment_counts["computed"]
            timing["augment_entries_cached"] = augment_counts["cached"]
        summary = None
        identity = None
        if conditions is not None:
            began = time.perf_counter()
            scores, record = score_conditions(embedder, task, outcomes, conditions, cache, progress)
            timing["robustness_s"] = round(time.perf_counter() - began, 3)
            timing.update({k: v for k, v in record.items() if k != "condition_folds"})
            metric = get_metric(task.primary_metric)
            summary = RobustnessSummary(
                task.primary_metric,
                metric.higher_is_better,
                result.primary.mean,
                scores,
                tuple(p.name for p in conditions.perturbations),
            )
            identity = {**conditions.identity(), "condition_folds": record["condition_folds"]}
        return dataclasses.replace(
            result,
            probe=probe_record,
            timing=timing,
            variant=variant_of(conditions, augmentation),
            robustness=summary,
            perturbation=identity,
        )

    return evaluate(
        embedder,
        task,
        probe,
        cache=cache,
        out_dir=out_dir,
        seed=seed,
        probe_options=probe_options,
        complexity=complexity,
        progress=progress,
        train_copies=copies,
        finish=finish,
    )
