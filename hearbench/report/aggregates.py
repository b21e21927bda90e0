"""Aggregate columns over a declared task set: HEAR score, score ÷ best and mean rank.

Every aggregate is taken over a named set of task columns, and only over rows that ran every
task of the set. With ``impute=True`` a row that ran at least half of the set also enters, its
missing cells filled the way the HEAR 2021 leaderboard did (scikit-learn
``IterativeImputer(max_iter=10, random_state=0)`` over the members × tasks matrix); the filled
cells are reported, so that every format can mark them.

* **HEAR score** (hearbenchmark/hear-leaderboard ``leaderboard.py``; Turian et al., PMLR,
  2022): each task column is standardised to zero mean and unit variance over the members
  (population std; a constant column becomes 0), clamped to [-1, +1], and a row's score is the
  mean over the set. Lower-is-better metrics are negated first.
* **Score/best**: score ÷ the members' best score on the task (best ÷ score for lower-is-better
  metrics), averaged over the set.
* **Mean rank**: rank on each task among the members (1 = best, ties share the average rank),
  averaged over the set.

Comparisons (best, ranks) use values rounded to :data:`COMPARE_DECIMALS` decimals, so that
noise in the last bits of a score never breaks or makes a tie.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

logger = logging.getLogger(__name__)

COMPARE_DECIMALS = 6
"""Decimals kept when scores are compared (best of a task, ranks, sort order)."""

IMPUTE_MIN_FRACTION = 0.5
"""With imputation, the least fraction of a set's tasks a row must have run to enter."""


@dataclass(frozen=True)
class Column:
    """One task column.

    Attributes:
        task: Task key (the official HEAR name for HEAR 2021 tasks, else the task name).
        label: Display name.
        metric: Primary metric.
        higher_is_better: Direction of the metric.
    """

    task: str
    label: str
    metric: str
    higher_is_better: bool


@dataclass(frozen=True)
class TaskSet:
    """A named set of task columns that one aggregate is computed over.

    Attributes:
        name: Short name (``"hear2021"``, ``"local"``, ``"shared"``, ``"tasks"``).
        label: Display name (``"HEAR 2021"``, ``"local"``).
        tasks: Task keys of the set, in column order.
        rule: How the set was chosen, in words, for the notes.
        impute: Whether rows missing some tasks are imputed rather than left out.
    """

    name: str
    label: str
    tasks: tuple[str, ...]
    rule: str
    impute: bool = False


@dataclass(frozen=True)
class RowAggregate:
    """One row's aggregates over one task set.

    Attributes:
        hear_score: HEAR normalised score.
        score_over_best: Mean of score ÷ best.
        mean_rank: Mean rank over the set's tasks.
        imputed: Imputed value by task key, for tasks the row did not run.
    """

    hear_score: float
    score_over_best: float
    mean_rank: float
    imputed: Mapping[str, float]


def rounded(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Values rounded to :data:`COMPARE_DECIMALS` decimals, ``-0.0`` made ``0.0``."""
    return np.asarray(np.round(np.asarray(values, dtype=np.float64), COMPARE_DECIMALS) + 0.0)


def impute_hear(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Missing cells filled as the HEAR 2021 leaderboard did (``IterativeImputer``)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        filled = IterativeImputer(max_iter=10, random_state=0).fit_transform(matrix)
    for warning in caught:
        logger.info("HEAR score imputation: %s", warning.message)
    return np.asarray(filled, dtype=np.float64)


def hear_normalized_score(
    values: npt.ArrayLike, higher_is_better: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """The HEAR normalised score of each row of a complete ``(rows, tasks)`` matrix.

    Raises:
        ValueError: if the shapes disagree or a cell is missing.
    """
    from sklearn.preprocessing import StandardScaler

    x = _checked(values, higher_is_better)
    if np.isnan(x).any():
        raise ValueError("the HEAR score needs a complete matrix (impute or leave rows out)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        return np.full(x.shape[0], np.nan)
    x = x * np.where(np.asarray(higher_is_better, dtype=bool), 1.0, -1.0)
    z = np.asarray(StandardScaler().fit_transform(x), dtype=np.float64)
    return np.asarray(np.clip(z, -1.0, 1.0).mean(axis=1), dtype=np.float64)


def score_over_best(
    values: npt.ArrayLike, higher_is_better: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """Each row's mean over its tasks of score ÷ best score on the task (NaN-aware).

    For lower-is-better tasks the ratio is best ÷ score, so 1 is the best row either way; a
    ratio with a zero denominator is left out.
    """
    x = _checked(values, higher_is_better)
    ratios = np.full_like(x, np.nan)
    for j, hib in enumerate(higher_is_better):
        col = x[:, j]
        if np.isnan(col).all():
            continue
        best = np.nanmax(col) if hib else np.nanmin(col)
        num, den = (col, np.full_like(col, best)) if hib else (np.full_like(col, best), col)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[:, j] = np.where(den != 0, num / den, np.nan)
    out = np.full(x.shape[0], np.nan)
    has = ~np.isnan(ratios).all(axis=1)
    out[has] = np.nanmean(ratios[has], axis=1)
    return out


def mean_rank(values: npt.ArrayLike, higher_is_better: Sequence[bool]) -> npt.NDArray[np.float64]:
    """Each row's mean over tasks of its rank on the task (1 = best, ties averaged)."""
    x = _checked(values, higher_is_better)
    frame = pd.DataFrame(rounded(x))
    ranks = pd.concat(
        [
            frame[j].rank(method="average", ascending=not hib)
            for j, hib in enumerate(higher_is_better)
        ],
        axis=1,
    )
    return np.asarray(ranks.mean(axis=1, skipna=True), dtype=np.float64)


def _checked(values: npt.ArrayLike, higher_is_better: Sequence[bool]) -> npt.NDArray[np.float64]:
    x = np.array(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(higher_is_better):
        raise ValueError(f"values {x.shape} must be (rows, {len(higher_is_better)})")
    return x


def members(observed: npt.NDArray[np.bool_], impute: bool) -> npt.NDArray[np.bool_]:
    """Rows that enter an aggregate, from the rows × set-tasks mask of cells they ran."""
    if observed.shape[1] == 0:
        return np.zeros(observed.shape[0], dtype=bool)
    have = observed.sum(axis=1)
    if not impute:
        return np.asarray(have == observed.shape[1])
    return np.asarray((have >= 1) & (have >= IMPUTE_MIN_FRACTION * observed.shape[1]))


def aggregate(
    matrix: npt.ArrayLike,
    tasks: Sequence[str],
    higher_is_better: Sequence[bool],
    impute: bool = False,
) -> list[RowAggregate | None]:
    """The aggregates of every row of a ``(rows, set tasks)`` matrix (NaN = not run).

    Args:
        matrix: Primary scores of every row on the set's tasks.
        tasks: Task key of each column (the keys of :attr:`RowAggregate.imputed`).
        higher_is_better: Direction of each task's metric.
        impute: Admit rows with at least half of the tasks, imputing the rest.

    Returns:
        Per row, its aggregates, or ``None`` for a row left out.
    """
    x = _checked(matrix, higher_is_better)
    inside = members(~np.isnan(x), impute)
    out: list[RowAggregate | None] = [None] * x.shape[0]
    if not inside.any():
        return out
    sub = x[inside]
    filled = impute_hear(sub) if np.isnan(sub).any() else sub
    hear = hear_normalized_score(filled, higher_is_better)
    ratio = score_over_best(filled, higher_is_better)
    rank = mean_rank(filled, higher_is_better)
    for k, i in enumerate(np.flatnonzero(inside)):
        missing = np.isnan(sub[k])
        out[int(i)] = RowAggregate(
            hear_score=float(hear[k]),
            score_over_best=float(ratio[k]),
            mean_rank=float(rank[k]),
            imputed={tasks[int(j)]: float(filled[k, j]) for j in np.flatnonzero(missing)},
        )
    return out
