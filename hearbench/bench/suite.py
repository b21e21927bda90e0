"""End-to-end time of the ``local`` suite for one embedder and its probes: embed, probe, score.

Every task found under ``suite_dir`` is evaluated with each probe of ``suite_probes`` (the
linear and MLP probes by default) on the embedder ``suite_embedder`` (``mn04_as`` on its
reference weights from ``weights_dir``). The embedding cache starts empty, so the first probe of
a task pays for reading audio and embedding and the later ones read the cache, as a first run
of ``hearbench run --suite local`` would. A row per task and probe, one per probe over the
suite, and the total against the target: the whole suite with the linear and MLP probes on
``mn04_as`` in under :data:`TARGET_S` seconds on two CPU cores.
"""

from __future__ import annotations

import logging
import time

from hearbench.bench.common import Row, make_embedder, weights_label
from hearbench.bench.context import BenchContext

log = logging.getLogger(__name__)

SUITE = "local"
TARGET_S = 600.0
TARGET_EMBEDDER = "mn04_as"
TARGET_PROBES = ("linear", "mlp")


def target_applies(embedder: str, probes: tuple[str, ...], cpus: int) -> bool:
    """Whether a run of ``probes`` on ``embedder`` with ``cpus`` CPUs is the target's setting."""
    return embedder == TARGET_EMBEDDER and set(TARGET_PROBES) <= set(probes) and cpus <= 2


def run(context: BenchContext) -> None:
    """Rows per task and probe, per probe and for the whole suite; nothing without ``suite_dir``."""
    from hearbench.cache import EmbeddingCache
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
    name = settings.suite_embedder
    embedder = make_embedder(name, settings)
    label = f"{name} ({weights_label(settings, name)})"
    cache = EmbeddingCache(context.scratch / "suite-cache")
    per_probe = dict.fromkeys(settings.suite_probes, 0.0)
    for task_name, path in found.items():
        task = load_task(path)
        for probe in settings.suite_probes:
            start = time.perf_counter()
            result = evaluate(embedder, task, probe, cache=cache, progress=False)
            seconds = time.perf_counter() - start
            per_probe[probe] += seconds
            score = result.scores[result.primary_metric].mean
            context.add(
                Row(
                    section="suite",
                    case=f"{label} + {probe} on {task_name}",
                    ours=seconds,
                    reference=None,
                    ratio=None,
                    ratio_label="",
                    check=f"{result.primary_metric} {score:.4f}; embed {result.timing['embed_s']:.1f} s, "
                    f"probe {result.timing['probe_s']:.1f} s",
                    details={"timing": dict(result.timing), "score": score, "probe": probe},
                )
            )
            log.info("suite %s %s: %.1f s", task_name, probe, seconds)
    for probe, seconds in per_probe.items():
        context.add(
            Row(
                section="suite",
                case=f"{label} + {probe}, {SUITE} suite ({len(found)} tasks)",
                ours=seconds,
                reference=None,
                ratio=None,
                ratio_label="",
                check="missing: " + ", ".join(missing) if missing else "all tasks present",
                details={"missing": missing},
            )
        )
    total = sum(per_probe.values())
    probes = "+".join(settings.suite_probes)
    applies = target_applies(name, settings.suite_probes, context.machine.cpus) and not missing
    context.add(
        Row(
            section="suite",
            case=f"{SUITE} suite, {label} {probes} ({len(found)} tasks, {context.machine.cpus} CPUs)",
            ours=total,
            reference=TARGET_S,
            ratio=total / TARGET_S,
            ratio_label="of the target time",
            check="missing: " + ", ".join(missing) if missing else "all tasks present",
            target=f"{SUITE} suite, {TARGET_EMBEDDER} linear+MLP, < {TARGET_S / 60:g} min on 2 cores",
            met=bool(total < TARGET_S) if applies else None,
            details={"per_probe_s": per_probe, "missing": missing, "target_applies": applies},
        )
    )
