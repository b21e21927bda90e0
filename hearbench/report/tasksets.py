"""The task sets a leaderboard's aggregates are computed over.

Task columns fall into two groups: the HEAR 2021 tasks (official task names,
:data:`hearbench.results.hear2021.HEAR2021_TASKS`) and the local tasks (every other column).
When both are in a table they get separate aggregates. A set is chosen by one of:

* nothing (the default): per group, the tasks that all of the group's rows share (the rows
  with at least one task of the group); with imputation, every task of the group;
* ``hear2021``: the HEAR 2021 tasks in the table; ``local``: the local tasks in the table;
  ``shared``: the tasks every row of the table ran;
* ``TASK,TASK,...``: those tasks (task keys or column titles).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hearbench.api import HearbenchError
from hearbench.report.aggregates import Column, TaskSet
from hearbench.results.hear2021 import HEAR2021_TASKS, SUITE

GROUPS = ("local", SUITE)
GROUP_LABELS = {"local": "local", SUITE: "HEAR 2021", "shared": "shared"}
OFFICIAL = frozenset(t.name for t in HEAR2021_TASKS)


def group_of(task: str) -> str:
    """``"hear2021"`` for an official HEAR 2021 task key, else ``"local"``."""
    return SUITE if task in OFFICIAL else "local"


def _shared(idx: Sequence[int], observed: npt.NDArray[np.bool_]) -> list[int]:
    rows = observed[:, idx].any(axis=1) if idx else np.zeros(observed.shape[0], dtype=bool)
    if not rows.any():
        return []
    return [j for j in idx if observed[rows, j].all()]


def _named(spec: str, columns: Sequence[Column]) -> list[int]:
    keys = {c.task: j for j, c in enumerate(columns)}
    keys.update({c.label: j for j, c in enumerate(columns)})
    out = []
    for name in (n.strip() for n in spec.split(",")):
        if not name:
            continue
        if name not in keys:
            raise HearbenchError(
                f"--aggregate-over: {name!r} is not a task of the table; choose hear2021, "
                f"local, shared or tasks among {', '.join(c.task for c in columns)}"
            )
        if keys[name] not in out:
            out.append(keys[name])
    if not out:
        raise HearbenchError("--aggregate-over: an empty task list")
    return sorted(out)


def resolve_task_sets(
    columns: Sequence[Column],
    observed: npt.NDArray[np.bool_],
    aggregate_over: Sequence[str] | None = None,
    impute: bool = False,
) -> list[TaskSet]:
    """The task sets of a table's aggregates, in display order (local first).

    Args:
        columns: The table's task columns.
        observed: ``(rows, columns)`` mask of the cells rows ran.
        aggregate_over: Set specifications (see module docstring); ``None`` or empty for the
            default.
        impute: Whether the aggregates impute (changes the default sets).

    Returns:
        One set per aggregate; a set may have no tasks (nothing shared), which the notes
        report and renderers skip.

    Raises:
        HearbenchError: if a specification names an unknown task.
    """
    by_group = {g: [j for j, c in enumerate(columns) if group_of(c.task) == g] for g in GROUPS}
    sets: list[TaskSet] = []
    if not aggregate_over:
        for group in GROUPS:
            idx = by_group[group]
            if not idx:
                continue
            label = GROUP_LABELS[group]
            if impute:
                chosen, rule = idx, f"every {label} task in the table"
            else:
                chosen = _shared(idx, observed)
                rule = f"the {label} tasks shared by every row that ran a {label} task"
            sets.append(_make(group, label, chosen, columns, rule, impute))
        return sets
    seen: set[str] = set()
    for spec in aggregate_over:
        if spec in by_group:
            name, label = spec, GROUP_LABELS[spec]
            chosen, rule = by_group[spec], f"every {label} task in the table"
        elif spec == "shared":
            name, label = "shared", GROUP_LABELS["shared"]
            chosen = [j for j in range(len(columns)) if observed[:, j].all()]
            rule = "the tasks every row ran"
        else:
            name, label = "tasks", "selected"
            chosen, rule = _named(spec, columns), "the tasks named by --aggregate-over"
        base, n = name, 2
        while name in seen:
            name, n = f"{base}{n}", n + 1
        seen.add(name)
        sets.append(_make(name, label if name == base else f"{label} {n - 1}", chosen, columns, rule, impute))
    return sets


def _make(
    name: str, label: str, idx: Sequence[int], columns: Sequence[Column], rule: str, impute: bool
) -> TaskSet:
    return TaskSet(name, label, tuple(columns[j].task for j in idx), rule, impute)
