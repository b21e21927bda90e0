"""End-to-end time of the ``local`` suite for one embedder: embed, probe, score every task.

Each task found under ``suite_dir`` is evaluated with a fresh embedding cache, so the time
includes reading audio, embedding, the probe search and the scores, as a first run would.
"""

from __future__ import annotations

import logging
import time

from hearbench.bench.common import Row
from hearbench.bench.context import BenchContext

log = logging.getLogger(__name__)

SUITE = "local"
PROBE = "linear"


def run(context: BenchContext) -> None:
    """One row per task of the suite and one for the whole suite; nothing without ``suite_dir``."""
    from hearbench.cache import EmbeddingCache
    from hearbench.registry import create_embedder
    from hearbench.runner import evaluate
    from hearbench.tasks.cards import find_suite_tasks
    from hearbench.tasks.format import load_task

    settings = context.settings
    if settings.suite_dir is None:
        log.info("suite: skipped (no suite_dir)")
        return
    found, missing = find_suite_tasks(SUITE, settings.suite_dir)
    if missing:
        log.warning("suite %s: missing under %s: %s", SUITE, settings.suite_dir, ", ".join(missing))
    embedder = create_embedder(settings.suite_embedder).to(settings.device)
    cache = EmbeddingCache(context.scratch / "suite-cache")
    total = 0.0
    for name, path in found.items():
        start = time.perf_counter()
        result = evaluate(embedder, load_task(path), PROBE, cache=cache, progress=False)
        seconds = time.perf_counter() - start
        total += seconds
        score = result.scores[result.primary_metric].mean
        context.add(
            Row(
                section="suite",
                case=f"{settings.suite_embedder} + {PROBE} on {name}",
                ours=seconds,
                reference=None,
                ratio=None,
                ratio_label="",
                check=f"{result.primary_metric} {score:.4f}; embed {result.timing['embed_s']:.1f} s, "
                f"probe {result.timing['probe_s']:.1f} s",
                details={"timing": dict(result.timing), "score": score},
            )
        )
    context.add(
        Row(
            section="suite",
            case=f"{settings.suite_embedder} + {PROBE}, {SUITE} suite ({len(found)} tasks)",
            ours=total,
            reference=None,
            ratio=None,
            ratio_label="",
            check="missing: " + ", ".join(missing) if missing else "all tasks present",
            details={"missing": missing},
        )
    )
