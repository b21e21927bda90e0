"""The footnotes of a leaderboard: what every number is and how each aggregate was computed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hearbench.report.aggregates import COMPARE_DECIMALS, IMPUTE_MIN_FRACTION, TaskSet

if TYPE_CHECKING:
    from hearbench.report.tables import Leaderboard

IMPUTED_OPEN, IMPUTED_CLOSE = "[", "]"
"""An imputed cell is shown between these, e.g. ``[0.512]``."""


def task_set_note(board: Leaderboard, task_set: TaskSet) -> str:
    """How the aggregates over ``task_set`` were computed, and which rows they leave out."""
    labels = {c.task: c.label for c in board.columns}
    if not task_set.tasks:
        return (
            f"No {task_set.label} aggregate: no {task_set.label} task is shared by every row "
            "that ran one (--aggregate-over names a set, e.g. one task)."
        )
    names = ", ".join(labels.get(t, t) for t in task_set.tasks)
    text = (
        f"Aggregates [{task_set.label}] over {len(task_set.tasks)} task(s), {task_set.rule}: "
        f"{names}."
    )
    if task_set.impute:
        text += (
            f" Rows that ran at least {IMPUTE_MIN_FRACTION:.0%} of them enter; their missing "
            "cells are imputed as the HEAR 2021 leaderboard did (scikit-learn "
            "IterativeImputer(max_iter=10, random_state=0) over the rows that enter) and shown "
            f"as {IMPUTED_OPEN}value{IMPUTED_CLOSE}."
        )
    else:
        text += " Only rows that ran every one of them enter; nothing is imputed."
    partial = [r.label for r in board.rows if task_set.name not in r.aggregates and any(t in r.cells for t in task_set.tasks)]
    none = [r for r in board.rows if not any(t in r.cells for t in task_set.tasks)]
    if partial:
        text += f" Left out for not running all of them: {', '.join(partial)}."
    if none and all(r.published for r in none) and len(none) > 3:
        text += f" The {len(none)} published rows ran none of them."
    elif none:
        text += f" Left out for running none of them: {', '.join(r.label for r in none)}."
    if not partial and not none:
        text += " No row is left out."
    return text


def leaderboard_notes(board: Leaderboard) -> list[str]:
    """Footnotes of ``board``, in display order."""
    from hearbench.report.tables import MISSING, PUBLISHED_MARK, SHORT_MARK, TIED_MARK

    notes = [
        "Cells: primary metric on the test folds, mean ± std over folds as the result "
        f"records them; {MISSING} = no result (never counted as zero).",
    ]
    if any(r.published for r in board.rows):
        notes.append(
            f"{PUBLISHED_MARK} Published HEAR 2021 leaderboard score "
            "(hearbenchmark/hear-leaderboard; fold mean only, no std)."
        )
    shortened = [f"{r.label} ({', '.join(r.shortened)})" for r in board.rows if r.shortened]
    if shortened:
        notes.append(
            f"{SHORT_MARK} Shortened probe schedule (probe options below the protocol's): "
            + "; ".join(shortened)
            + "."
        )
    notes += [task_set_note(board, s) for s in board.task_sets]
    if any(s.tasks for s in board.task_sets):
        notes.append(
            "HEAR score: the HEAR 2021 leaderboard normalisation (hear-leaderboard "
            "leaderboard.py; Turian et al., PMLR, 2022): each task standardised to zero mean "
            "and unit variance over the rows in the aggregate (population std), clamped to "
            "[-1, +1], averaged over the set's tasks with equal weight; lower-is-better metrics "
            "negated first. Relative to the rows in the aggregate. Score/best: score ÷ best "
            "score on the task among those rows (best ÷ score for lower-is-better metrics), "
            "averaged over the set. Mean rank: rank on each task among those rows (1 = best, "
            f"ties averaged; scores compared at {COMPARE_DECIMALS} decimals), averaged over the "
            "set. Tasks: tasks the row ran, of the table's columns."
        )
    marks = "Bold: best on the task."
    if board.significance:
        marks += f" {TIED_MARK} not significantly different from the best ({board.significance})."
    notes.append(marks)
    if any(c.stats is not None for r in board.rows for c in r.cells.values()):
        notes.append("95% bootstrap confidence intervals over test items are in the CSV.")
    metrics = "; ".join(
        f"{c.label}: {c.metric} ({'higher' if c.higher_is_better else 'lower'} is better)"
        for c in board.columns
    )
    notes.append(f"Primary metrics: {metrics}.")
    return notes
