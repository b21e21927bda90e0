"""hearbench beside the original implementations a user would otherwise run.

* heareval 2021.1.3's probe runner (``heareval.predictions.runner``) against hearbench's ``mlp``
  probe: the same heareval grid on the same exported embeddings (``baseline`` on
  ``fsdd-digit``, else on the synthetic ``demo-pitch``), both timed, the winners and every test
  score compared (equal within :data:`PARITY_TOL`, the parity tests' tolerance). ``full`` runs
  heareval's 8 points with its schedule; ``default`` and ``quick`` shorten it (said in the row).
* The original HEAR wrappers ``hear21passt`` and EfficientAT_HEAR's ``hear_mn``
  (:mod:`~hearbench.bench.originals_wrappers`).

Nothing is installed here: an original that cannot be imported gives one row naming the
missing module, and the section goes on.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hearbench.bench.common import Row
from hearbench.bench.context import BenchContext
from hearbench.bench.originals_common import SECTION, missing_module, skipped_row
from hearbench.cache import SplitEmbeddings
from hearbench.tasks.format import Task

log = logging.getLogger(__name__)

PARITY_TOL = 1e-6
"""Largest difference of a test score between hearbench and heareval counted as equal."""
RATIO_TARGET = 3.0
HEAREVAL_MODULES = ("pytorch_lightning", "heareval.predictions.task_predictions")
SCHEDULES: dict[str, tuple[dict[str, Any], int]] = {
    "quick": ({"max_epochs": 30, "patience": 5}, 2),
    "default": ({"max_epochs": 45, "patience": 5}, 8),
    "full": ({}, 8),
}
"""Per level: overrides of heareval's grid and the number of grid points searched."""


def _close(a: float, b: float) -> bool:
    return (math.isinf(a) and a == b) or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= PARITY_TOL


def _same_point(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    keys = [key for key in ("hidden_layers", "lr", "hidden_dim") if key in theirs and key in ours]
    same_init = "initialization" not in ours or f"{ours['initialization']}_ " in f"{theirs.get('initialization')}"
    return bool(keys) and same_init and all(float(ours[key]) == float(theirs[key]) for key in keys)


def compare_heareval(
    task: Task,
    embeddings: Mapping[str, SplitEmbeddings],
    work: Path,
    schedule: Mapping[str, Any],
    points: int,
    full_grid: bool = False,
) -> Row:
    """Time heareval's runner and hearbench's ``mlp`` probe on the same exported embeddings.

    Args:
        task: The task the embeddings belong to.
        embeddings: Its embeddings per split.
        work: Scratch folder (the heareval embeddings folder and heareval's logs go there).
        schedule: Overrides of heareval's grid (single values, e.g. ``{"max_epochs": 30}``).
        points: Grid points searched by both.
        full_grid: The run is heareval's full grid and schedule (the speed target applies).
    """
    from hearbench.interop.heareval import (
        evaluate_embeddings,
        read_embeddings,
        stored_scores,
        write_embeddings,
    )
    from hearbench.interop.heareval_runner import run_heareval

    folder = write_embeddings(task, embeddings, work / f"{task.name}-heareval")
    exported, read_back = read_embeddings(folder)
    start = time.perf_counter()
    chosen, scores, _ = evaluate_embeddings(exported, read_back, "mlp", {**schedule, "points": points})
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    run_heareval(folder, points, {key: [value] for key, value in schedule.items()}, work_dir=work)
    theirs_s = time.perf_counter() - start
    theirs = stored_scores(folder, exported.evaluation)
    summary = json.loads((folder / "test.predicted-scores.json").read_text(encoding="utf-8"))
    hparams = summary.get("hparams", {})
    pairs = [
        (ours[m], theirs[fold][m]) for fold, ours in scores.items() for m in ours if m in theirs.get(fold, {})
    ]
    equal = set(scores) == set(theirs) and bool(pairs) and all(_close(a, b) for a, b in pairs)
    max_diff = max((abs(a - b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)), default=0.0)
    same_winner = _same_point(chosen, hparams)
    metric = exported.primary_metric
    mean_ours = sum(s[metric] for s in scores.values()) / len(scores)
    mean_theirs = sum(s[metric] for s in theirs.values() if metric in s) / max(1, len(theirs))
    ratio = theirs_s / ours_s
    features = next(iter(read_back.values())).embeddings.shape[1]
    shortened = "" if full_grid else f"; shortened: {dict(schedule) or 'heareval schedule'}"
    return Row(
        section=SECTION,
        case=f"heareval 2021.1.3 runner vs hearbench mlp, {task.name} baseline embeddings "
        f"({features} dims), {points} grid points{shortened}",
        ours=ours_s,
        reference=theirs_s,
        ratio=ratio,
        ratio_label="heareval/hearbench",
        check=(
            f"{'same' if same_winner else 'different'} winner; test scores "
            f"{'equal' if equal else 'differ'} (tol {PARITY_TOL:g}); {metric} {mean_ours:.6f} vs {mean_theirs:.6f}"
        ),
        target=f"≥{RATIO_TARGET:g}× at equal scores" if full_grid else None,
        met=bool(ratio >= RATIO_TARGET and equal and same_winner) if full_grid else None,
        details={
            "chosen": chosen,
            "heareval_hparams": hparams,
            "scores": scores,
            "heareval_scores": theirs,
            "equal": equal,
            "same_winner": same_winner,
            "max_score_diff": max_diff,
            "schedule": dict(schedule),
            "points": points,
        },
    )


def _task(context: BenchContext) -> Task:
    from hearbench.bench.probe_grid import fsdd_or_demo_task
    from hearbench.tasks.cards import find_suite_tasks
    from hearbench.tasks.format import load_task

    settings = context.settings
    if settings.suite_dir is not None:
        found, _ = find_suite_tasks("local", settings.suite_dir)
        if "fsdd-digit" in found:
            return load_task(found["fsdd-digit"])
    task: Task = fsdd_or_demo_task(context, use_fsdd=True)
    return task


def heareval_rows(context: BenchContext) -> None:
    """heareval's runner beside hearbench's ``mlp`` probe, or the row saying why it is skipped."""
    from hearbench.cache import EmbeddingCache
    from hearbench.embed import embed_task
    from hearbench.registry import create_embedder

    reason = missing_module(HEAREVAL_MODULES)
    if reason is not None:
        log.warning("originals: heareval skipped (%s)", reason)
        context.add(skipped_row("heareval 2021.1.3 runner", reason))
        return
    task = _task(context)
    embeddings, _ = embed_task(
        create_embedder("baseline"), task, EmbeddingCache(context.scratch / "originals-cache"), progress=False
    )
    schedule, points = SCHEDULES[context.settings.level]
    work = context.scratch / "originals-heareval"
    work.mkdir(parents=True, exist_ok=True)
    full = context.settings.level == "full"
    context.add(compare_heareval(task, embeddings, work, schedule, points, full_grid=full))


def run(context: BenchContext) -> None:
    """heareval's runner, then the original HEAR wrappers."""
    from hearbench.bench.originals_wrappers import wrapper_rows

    heareval_rows(context)
    wrapper_rows(context)
