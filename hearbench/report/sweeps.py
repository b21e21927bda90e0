"""Layer and hop sweeps: results that differ only in one embedder option, as curves per task.

:func:`sweeps` groups stored results into the curves that
:func:`hearbench.report.sweep_plots.plot_sweep` draws (one panel per task, one curve per embedder
configuration, the swept option on the x axis).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hearbench.report.tables import SHORT_MARK, SHORTENING_OPTIONS, option_label, task_key
from hearbench.results import Result


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value (``layers=4`` before ``layers=12``)."""
    parts = re.split(r"(\d+)", text)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def label_order(label: str) -> tuple[int, tuple[float, ...], tuple[tuple[int, int | str], ...]]:
    """Numbers by value; names with numbers in them naturally (``b5`` before ``b11``)."""
    try:
        return (0, tuple(float(p) for p in label.split(",")), ())
    except ValueError:
        return (1, (), natural_key(label))


@dataclass(frozen=True)
class SweepPoint:
    """One value of a swept option on one task."""

    value: str
    mean: float
    std: float


def sweeps(results: Sequence[Result], option: str) -> dict[str, dict[str, list[SweepPoint]]]:
    """Results that differ only in ``option``, as curves.

    Results are grouped by embedder name, probe, weights, pretrained flag and every option
    but ``option``; a group with at least two values of ``option`` on a task is a curve.

    Returns:
        ``{task key: {curve label: points in option order}}`` (labels name the embedder,
        probe and the other options that differ between curves).
    """
    groups: dict[str, dict[str, dict[str, Result]]] = {}
    shortened: set[str] = set()
    others: dict[str, dict[str, Any]] = {}
    for result in results:
        if result.published:
            continue
        options = dict(result.embedder.get("options") or {})
        if option not in options:
            continue
        value = option_label(options.pop(option))
        ident = json.dumps(
            [
                result.embedder.get("name"),
                result.probe.get("name"),
                result.embedder.get("weights_sha256"),
                result.embedder.get("pretrained"),
                options,
            ],
            sort_keys=True,
            default=str,
        )
        if any(k in (result.probe.get("options") or {}) for k in SHORTENING_OPTIONS):
            shortened.add(ident)
        others[ident] = {
            "embedder": result.embedder.get("name"),
            "probe": result.probe.get("name"),
            **{k: option_label(v) for k, v in options.items()},
        }
        task_curves = groups.setdefault(task_key(result), {}).setdefault(ident, {})
        task_curves[value] = result
    curve_idents = {i for curves in groups.values() for i, values in curves.items() if len(values) > 1}

    def varying_among(name: Any) -> list[str]:
        """Options whose values differ between the curves of embedder ``name``."""
        infos = [o for i, o in others.items() if o["embedder"] == name and i in curve_idents]
        keys = {k for o in infos for k in o if k not in ("embedder", "probe")}
        return sorted(k for k in keys if len({str(o.get(k)) for o in infos}) > 1)

    def curve_label(ident: str) -> str:
        info = others[ident]
        extra = ", ".join(f"{k}={info.get(k, '')}" for k in varying_among(info["embedder"]))
        base = f"{info['embedder']} ({info['probe']})"
        mark = f" {SHORT_MARK}" if ident in shortened else ""
        return (f"{base}, {extra}" if extra else base) + mark

    out: dict[str, dict[str, list[SweepPoint]]] = {}
    for task in sorted(groups):
        curves = {}
        for ident in sorted(groups[task]):
            by_value = groups[task][ident]
            if len(by_value) < 2:
                continue
            curves[curve_label(ident)] = [
                SweepPoint(v, by_value[v].primary.mean, by_value[v].primary.std)
                for v in sorted(by_value, key=label_order)
            ]
        if curves:
            out[task] = {k: curves[k] for k in sorted(curves, key=natural_key)}
    return out
