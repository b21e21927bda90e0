"""Probe sensitivity: does the choice of probe change how embedders rank?

When local results exist for several probes, :func:`probe_sensitivity` gives each embedder's
rank per probe on every aggregate (by HEAR score over the aggregate's task set), and the rank
correlation between every pair of probes (Kendall's τ-b, :func:`scipy.stats.kendalltau`) over
the embedders both probes scored, per aggregate and per task. Published rows take no part.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import pandas as pd
from scipy.stats import kendalltau

from hearbench.report.aggregates import rounded
from hearbench.report.frames import num
from hearbench.report.tables import MISSING, SHORT_MARK, Leaderboard, Row


def _embedder_name(row: Row) -> str:
    return row.label.removesuffix(f" {SHORT_MARK}").removesuffix(f" ({row.key[1]})")


def _ranks(scores: Mapping[str, float]) -> dict[str, float]:
    series = pd.Series({k: float(rounded([v])[0]) for k, v in scores.items()}, dtype=float)
    return {str(k): float(v) for k, v in series.rank(ascending=False, method="average").items()}


def _tau(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[int, float]:
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return len(common), math.nan
    x = rounded([a[k] for k in common])
    y = rounded([b[k] for k in common])
    return len(common), float(kendalltau(x, y).statistic)


def probe_sensitivity(board: Leaderboard) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The rank table and the Kendall τ table, or ``None`` with fewer than two probes or embedders.

    With one embedder every rank is 1 and no τ exists, so there is nothing to tabulate (a sweep
    of probe options on one embedder, for instance).

    Returns:
        ``(ranks, taus)``: ``ranks`` has one row per embedder and a column
        ``<task set> rank (<probe>)`` per aggregate and probe; ``taus`` has one row per task
        set (aggregates first, then single tasks) and probe pair, with the embedders compared
        (``n``) and τ.
    """
    local = [r for r in board.rows if not r.published]
    probes = sorted({r.key[1] for r in local})
    if len(probes) < 2:
        return None
    names = sorted({_embedder_name(r) for r in local})
    if len(names) < 2:
        return None
    sets: list[tuple[str, dict[str, dict[str, float]]]] = []
    for task_set in board.task_sets:
        if not task_set.tasks:
            continue
        by_probe: dict[str, dict[str, float]] = {p: {} for p in probes}
        for row in local:
            agg = row.aggregates.get(task_set.name)
            if agg is not None:
                by_probe[row.key[1]][_embedder_name(row)] = agg.hear_score
        if sum(bool(v) for v in by_probe.values()) > 1:
            sets.append((f"{task_set.label} aggregate", by_probe))
    aggregate_sets = len(sets)
    for col in board.columns:
        by_probe = {p: {} for p in probes}
        for row in local:
            cell = row.cells.get(col.task)
            if cell is not None:
                score = cell.mean if col.higher_is_better else -cell.mean
                by_probe[row.key[1]][_embedder_name(row)] = score
        if sum(bool(v) for v in by_probe.values()) > 1:
            sets.append((col.label, by_probe))

    rank_columns: dict[str, list[str]] = {"Embedder": names}
    for label, by_probe in sets[:aggregate_sets]:
        for probe in probes:
            ranks = _ranks(by_probe[probe])
            rank_columns[f"{label} rank ({probe})"] = [
                num(ranks[n], decimals=1) if n in ranks else MISSING for n in names
            ]
    records = []
    for label, by_probe in sets:
        for a, b in itertools.combinations(probes, 2):
            n, tau = _tau(by_probe[a], by_probe[b])
            records.append({"Task set": label, "Probes": f"{a} vs {b}", "n": n, "Kendall τ": num(tau)})
    return pd.DataFrame(rank_columns), pd.DataFrame.from_records(records)
