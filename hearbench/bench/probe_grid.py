"""The MLP probe grid: stacked training (hearbench) against fitting each point on its own.

Every side searches the same heareval grid with the same seeds on the first split of a real
task (``fsdd-digit`` built from the FSDD folder, embedded by ``baseline``) or, without one, of
the synthetic ``demo-pitch`` task. The reference is :meth:`MLPProbe.fit` per point in float32
(the plain loop, each point seeded on its own: ``seeding=point``). Two rows compare with it:

* the stacked grid in float32 (``grid=stacked``, a named variant): the same
  arithmetic, so the same validation scores, winner and test score; on a CPU its gain is only
  the shared per-step work, since the matrix products, which dominate, are the same;
* the stacked grid with ``precision=bfloat16`` (a named, non-default variant): the network in
  bfloat16, which CPUs with bfloat16 units multiply several times faster, with cheaper dropout
  masks and fused Adam (:mod:`hearbench.probes.mlp_arithmetic`); its winner and test score are
  set beside the float32 ones (the target asks for an equal or better test score).

Schedules: ``quick`` and ``default`` cap ``max_epochs`` (30 and 45) and use ``patience`` 5 so
that early stopping happens within the cap; ``full`` runs heareval's schedule (500 epochs,
patience 20).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hearbench.bench.common import Row
from hearbench.bench.context import BenchContext
from hearbench.probes.base import Objective, Probe

log = logging.getLogger(__name__)

TARGET = 5.0
SCHEDULES: dict[str, dict[str, Any]] = {
    "quick": {"max_epochs": 30, "patience": 5},
    "default": {"max_epochs": 45, "patience": 5},
    "full": {},
}


def winner(points: Sequence[Mapping[str, Any]], probes: Sequence[Probe], objective: Objective) -> int:
    """Index of the point :func:`hearbench.protocol.search_and_train` would choose."""
    order = sorted(
        range(len(points)),
        key=lambda i: np.nan_to_num(probes[i].valid_score_, nan=objective.worst()),
        reverse=objective.higher_is_better,
    )
    return order[0]


def _task(context: BenchContext) -> Any:
    return fsdd_or_demo_task(context, context.settings.level != "quick")


def fsdd_or_demo_task(context: BenchContext, use_fsdd: bool) -> Any:
    """``fsdd-digit`` built from ``fsdd_dir`` into the scratch folder when given and ``use_fsdd``,
    else the synthetic ``demo-pitch``; built once per scratch folder."""
    from hearbench.tasks.builders import BUILDERS
    from hearbench.tasks.format import load_task
    from hearbench.tasks.synthetic import build_synthetic_task

    settings = context.settings
    if settings.fsdd_dir is not None and use_fsdd:
        out = context.scratch / "tasks" / "fsdd-digit"
        if not (out / "task_metadata.json").is_file():
            BUILDERS["fsdd-digit"].build(settings.fsdd_dir, out, progress=False, overwrite=True)
        return load_task(out)
    out = context.scratch / "tasks" / "demo-pitch"
    if not (out / "task_metadata.json").is_file():
        build_synthetic_task("demo-pitch", out, overwrite=True)
    return load_task(out)


def run(context: BenchContext) -> None:
    """Time both grid searches and compare what they chose."""
    from hearbench.cache import EmbeddingCache
    from hearbench.embed import embed_task
    from hearbench.metrics import get_metric
    from hearbench.probes.mlp import MLPProbe
    from hearbench.protocol import assemble, make_objective
    from hearbench.registry import create_embedder
    from hearbench.runner import probe_grid

    task = _task(context)
    embeddings, _ = embed_task(
        create_embedder("baseline"), task, EmbeddingCache(context.scratch / "grid-cache"), progress=False
    )
    split = task.fold_splits()[0]
    train, valid, test = (assemble(task, part, embeddings) for part in (split.train, split.valid, split.test))
    objective = make_objective(task, valid)
    schedule = SCHEDULES[context.settings.level]
    points = probe_grid("mlp", task, schedule)
    fixed = {
        "prediction_type": task.prediction_type,
        "seed": 42,
        "seeding": "point",
    }
    def search(**extra: Any) -> tuple[list[Probe], float]:
        start = time.perf_counter()
        fitted = MLPProbe.fit_grid(points, train.data, valid.data, objective, {**fixed, **extra})
        return list(fitted), time.perf_counter() - start

    sequential, sequential_s = search()
    metric = get_metric(task.primary_metric)
    chosen_seq = winner(points, sequential, objective)
    test_seq = float(metric(sequential[chosen_seq].predict_proba(test.data), test.data.Y))
    rows, features = train.data.X.shape
    case = (
        f"{task.name} baseline embeddings ({rows}×{features}), {len(points)} points, "
        f"max_epochs {points[0]['max_epochs']}, patience {points[0]['patience']}"
    )
    for precision in ("float32", "bfloat16"):
        stacked, stacked_s = search(grid="stacked", precision=precision)
        chosen = winner(points, stacked, objective)
        test_stacked = float(metric(stacked[chosen].predict_proba(test.data), test.data.Y))
        valid_diff = max(
            (
                abs(a.valid_score_ - b.valid_score_)
                for a, b in zip(stacked, sequential, strict=True)
                if not (math.isnan(a.valid_score_) and math.isnan(b.valid_score_))
            ),
            default=0.0,
        )
        same = chosen == chosen_seq
        speedup = sequential_s / stacked_s
        exact = precision == "float32"
        context.add(
            Row(
                section="mlp-grid",
                case=f"{case}; stacked {precision} vs sequential float32",
                ours=stacked_s,
                reference=sequential_s,
                ratio=speedup,
                ratio_label="sequential/stacked",
                check=(
                    f"{'same' if same else 'different'} winner; valid Δmax {valid_diff:.1e}; "
                    f"test {task.primary_metric} {test_stacked:.4f} vs {test_seq:.4f}"
                ),
                target=None if exact else f"≥{TARGET:g}×, test score ≥",
                met=None if exact else bool(test_stacked >= test_seq - 1e-9 and speedup >= TARGET),
                details={
                    "precision": precision,
                    "points": [dict(p) for p in points],
                    "valid_stacked": [p.valid_score_ for p in stacked],
                    "valid_sequential": [p.valid_score_ for p in sequential],
                    "best_epoch_stacked": [getattr(p, "best_epoch_", None) for p in stacked],
                    "best_epoch_sequential": [getattr(p, "best_epoch_", None) for p in sequential],
                    "chosen": dict(points[chosen]),
                    "chosen_sequential": dict(points[chosen_seq]),
                    "test_stacked": test_stacked,
                    "test_sequential": test_seq,
                },
            )
        )
        log.info("mlp grid %s: stacked %.1f s, sequential %.1f s", precision, stacked_s, sequential_s)
