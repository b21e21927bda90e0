"""A :class:`~hearbench.report.tables.Leaderboard` as pandas DataFrames, ready to render.

:func:`display_frame` gives the table as text (three decimals, ``±`` over folds, ``†``,
imputed cells in brackets) with a parallel frame of cell kinds (``best``, ``missing``,
``imputed``, ``published``...) that renderers turn into bold, classes or marks.
:func:`csv_frame` gives the numbers, rounded to :data:`CSV_DECIMALS` decimals so that noise in
the last bits of an input never changes a byte.
"""

from __future__ import annotations

import math

import pandas as pd

from hearbench.report.notes import IMPUTED_CLOSE, IMPUTED_OPEN
from hearbench.report.tables import MISSING, TIED_MARK, Cell, Leaderboard, Row

CSV_DECIMALS = 6
AGGREGATES = (("hear_score", "HEAR score"), ("score_over_best", "Score/best"), ("mean_rank", "Mean rank"))


def num(value: float, signed: bool = False, decimals: int = 3) -> str:
    """Fixed-decimal text of a number, ``—`` for NaN, never ``-0.000``.

    The value is first rounded to :data:`CSV_DECIMALS` decimals, so that a score on a display
    rounding boundary (0.3005) prints the same whatever noise its last bits carry.
    """
    if math.isnan(value):
        return MISSING
    value = round(float(value), CSV_DECIMALS)
    text = f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"
    zero = "0." + "0" * decimals
    return text.replace(f"-{zero}", zero).replace(f"+{zero}", zero)


def cell_text(cell: Cell) -> str:
    """``mean ± std`` (``mean`` alone when the std is unknown), ``†`` when tied with the best."""
    text = num(cell.mean) if math.isnan(cell.std) else f"{num(cell.mean)} ± {num(cell.std)}"
    if cell.stats is not None and cell.stats.same_as_best is True:
        text += TIED_MARK
    return text


def aggregate_columns(board: Leaderboard) -> list[tuple[str, str, str, str]]:
    """``(task set name, field, display title, csv name)`` of every aggregate column."""
    sets = [s for s in board.task_sets if s.tasks]
    out = []
    for task_set in sets:
        for field, title in AGGREGATES:
            if len(sets) == 1:
                out.append((task_set.name, field, title, field))
            else:
                out.append(
                    (task_set.name, field, f"{title} [{task_set.label}]", f"{field}:{task_set.name}")
                )
    return out


def _aggregate_text(row: Row, name: str, field: str) -> str:
    agg = row.aggregates.get(name)
    if agg is None:
        return MISSING
    value = float(getattr(agg, field))
    if field == "hear_score":
        return num(value, signed=True)
    return num(value, decimals=2 if field == "mean_rank" else 3)


def display_frame(board: Leaderboard) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table as text, and the kind of every cell (``""``, ``best``, ``missing``, ``imputed``).

    The kinds frame has the same shape and an extra boolean column ``published``.
    """
    aggs = aggregate_columns(board)
    titles = ["Embedder", *(a[2] for a in aggs), "Tasks", *(c.label for c in board.columns)]
    text_rows, kind_rows = [], []
    for row in board.rows:
        texts = [row.label, *(_aggregate_text(row, a[0], a[1]) for a in aggs)]
        texts.append(f"{len(row.cells)}/{len(board.columns)}")
        kinds = [""] * len(texts)
        for col in board.columns:
            cell = row.cells.get(col.task)
            imputed = row.imputed(col.task)
            if cell is not None:
                texts.append(cell_text(cell))
                kinds.append("best" if cell.best else "")
            elif imputed is not None:
                texts.append(f"{IMPUTED_OPEN}{num(imputed)}{IMPUTED_CLOSE}")
                kinds.append("imputed")
            else:
                texts.append(MISSING)
                kinds.append("missing")
        text_rows.append(texts)
        kind_rows.append(kinds)
    text = pd.DataFrame(text_rows, columns=titles, dtype=object)
    kind = pd.DataFrame(kind_rows, columns=titles, dtype=object)
    kind["published"] = [r.published for r in board.rows]
    return text, kind


def _round(value: float | None) -> float:
    if value is None or math.isnan(value):
        return math.nan
    return round(float(value), CSV_DECIMALS) + 0.0


def csv_frame(board: Leaderboard) -> pd.DataFrame:
    """The leaderboard's numbers, one row per leaderboard row.

    Columns: ``label, embedder, probe, published, shortened``, the aggregate columns
    (``hear_score``, ``score_over_best``, ``mean_rank``, suffixed ``:<task set>`` when there
    are several sets), ``n_tasks``, then per task ``<task>`` (mean), ``<task>:std``, when any
    interval was computed ``<task>:ci_low`` and ``<task>:ci_high``, and when any cell was
    imputed ``<task>:imputed``. Task columns use task keys; missing values are empty.
    """
    with_ci = any(c.stats is not None for r in board.rows for c in r.cells.values())
    with_imputed = any(a.imputed for r in board.rows for a in r.aggregates.values())
    records = []
    for row in board.rows:
        record: dict[str, object] = {
            "label": row.label,
            "embedder": row.key[0],
            "probe": row.key[1],
            "published": "true" if row.published else "false",
            "shortened": ";".join(row.shortened),
        }
        for name, field, _, csv_name in aggregate_columns(board):
            agg = row.aggregates.get(name)
            record[csv_name] = _round(getattr(agg, field) if agg is not None else None)
        record["n_tasks"] = len(row.cells)
        for col in board.columns:
            cell = row.cells.get(col.task)
            record[col.task] = _round(cell.mean if cell else None)
            record[f"{col.task}:std"] = _round(cell.std if cell else None)
            if with_ci:
                stats = cell.stats if cell else None
                record[f"{col.task}:ci_low"] = _round(stats.ci_low if stats else None)
                record[f"{col.task}:ci_high"] = _round(stats.ci_high if stats else None)
            if with_imputed:
                record[f"{col.task}:imputed"] = _round(row.imputed(col.task))
        records.append(record)
    return pd.DataFrame.from_records(records)
