"""Leaderboard tables: one row per embedder configuration, one column per task.

A cell is the task's primary score, mean ± std over folds (:class:`~hearbench.results.Score`);
a task a row has no result for is shown as missing ("—"), never as zero. Two aggregate columns
follow the label:

* **HEAR score**, the normalisation of the HEAR 2021 leaderboard (hearbenchmark/hear-leaderboard,
  ``leaderboard.py``; Turian et al., PMLR, 2022): missing cells of the rows × tasks matrix
  are imputed with scikit-learn's ``IterativeImputer(max_iter=10, random_state=0)``; each task
  column is standardised to zero mean and unit variance across the rows (``StandardScaler``,
  population std; a constant column becomes 0); the standardised values are clamped to
  [-1, +1]; a row's score is their mean over all tasks, every task weighted equally. HEAR 2021
  had no lower-is-better primary metric; here such columns (``segment_1s_er``) are negated
  first, so that higher is better everywhere. The score is relative to the rows in the table.
  ``missing="omit"`` is an alternative that skips imputation: standardise over the observed
  cells and average a row over the tasks it has.
* **Score/best**: each score divided by the best score on its task in the table (best ÷ score
  for lower-is-better metrics), averaged over the tasks the row has, shown with its task count.

Rows are sorted by HEAR score (descending), then label; columns by display name, then task
name; numbers are printed with fixed formats, so the same results give byte-identical files.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import math
import statistics
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hearbench.api import HearbenchError
from hearbench.metrics import get_metric
from hearbench.report.published import canonical_task_name, task_display_name
from hearbench.results import Result

logger = logging.getLogger(__name__)

RowKey = tuple[str, str, bool]
"""A row's identity: (embedder id, probe name, published)."""

Missing = Literal["impute", "omit"]
MISSING = "—"
PUBLISHED_MARK = "‡"
TIED_MARK = "†"
FORMATS = ("md", "csv", "tex", "html")


@dataclass(frozen=True)
class CellStats:
    """Uncertainty of one cell, computed from its stored test predictions.

    Attributes:
        ci_low: Lower end of the bootstrap confidence interval of the primary score.
        ci_high: Upper end of the same.
        same_as_best: ``True`` when the difference to the column's best row is not
            significant, ``False`` when it is, ``None`` when it was not tested.
    """

    ci_low: float = math.nan
    ci_high: float = math.nan
    same_as_best: bool | None = None


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
class Cell:
    """One score of the table.

    Attributes:
        mean: Mean over folds.
        std: Std over folds as the result records it (NaN when unknown, as for published
            scores).
        best: Whether it is the column's best score.
        stats: Confidence interval and significance, when computed.
    """

    mean: float
    std: float
    best: bool = False
    stats: CellStats | None = None


@dataclass(frozen=True)
class Row:
    """One embedder configuration (with its probe).

    Attributes:
        key: (embedder id, probe name, published).
        label: Display label.
        cells: Cell by task key; absent tasks are missing.
        hear_score: HEAR normalised score (see module docstring).
        score_over_best: Mean of score ÷ best over the row's tasks.
        complexity: Numeric complexity figures (median over the row's results).
        embedder: The embedder record of the row's first result.
    """

    key: RowKey
    label: str
    cells: Mapping[str, Cell]
    hear_score: float
    score_over_best: float
    complexity: Mapping[str, float] = field(default_factory=dict)
    embedder: Mapping[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        """Whether the row holds published scores."""
        return self.key[2]


@dataclass(frozen=True)
class Leaderboard:
    """A rows × tasks table with its aggregates, ready to render.

    Attributes:
        columns: Task columns in display order.
        rows: Rows in display order.
        missing: How the HEAR score treated missing cells.
        significance: How ``†`` was decided, or ``None`` when it was not.
    """

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    missing: Missing = "impute"
    significance: str | None = None

    def notes(self) -> list[str]:
        """Footnotes that say what the numbers are."""
        notes = [
            "Cells: primary metric on the test folds, mean ± std over folds as the result "
            f"records them; {MISSING} = no result (never counted as zero).",
        ]
        if any(r.published for r in self.rows):
            notes.append(
                f"{PUBLISHED_MARK} Published HEAR 2021 leaderboard score "
                "(hearbenchmark/hear-leaderboard; fold mean only, no std)."
            )
        if self.missing == "impute":
            notes.append(
                "HEAR score: the HEAR 2021 leaderboard normalisation (hear-leaderboard "
                "leaderboard.py; Turian et al., PMLR, 2022). Missing cells are imputed with "
                "scikit-learn IterativeImputer(max_iter=10, random_state=0); each task is "
                "standardised to zero mean and unit variance across the rows of this table "
                "(population std), clamped to [-1, +1] and averaged over all tasks with equal "
                "weight. Lower-is-better metrics are negated first. Relative to the rows shown."
            )
        else:
            notes.append(
                "HEAR score: each task standardised to zero mean and unit variance over the "
                "rows that have it (population std), clamped to [-1, +1] and averaged over the "
                "tasks the row has (no imputation). Lower-is-better metrics are negated first. "
                "Relative to the rows shown."
            )
        notes.append(
            "Score/best: score ÷ best score on the task in this table (best ÷ score for "
            "lower-is-better metrics), averaged over the tasks the row has; Tasks: how many."
        )
        marks = "Bold: best on the task."
        if self.significance:
            marks += (
                f" {TIED_MARK} not significantly different from the best ({self.significance})."
            )
        notes.append(marks)
        if any(c.stats is not None for r in self.rows for c in r.cells.values()):
            notes.append("95% bootstrap confidence intervals over test items are in the CSV.")
        metrics = "; ".join(
            f"{c.label}: {c.metric} ({'higher' if c.higher_is_better else 'lower'} is better)"
            for c in self.columns
        )
        notes.append(f"Primary metrics: {metrics}.")
        return notes


def task_key(result: Result) -> str:
    """The column a result belongs to (:func:`.published.canonical_task_name`)."""
    return canonical_task_name(result.task)


def row_key(result: Result) -> RowKey:
    """The row a result belongs to."""
    return (result.embedder_id, str(result.probe["name"]), result.published)


def metric_direction(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better."""
    return get_metric(metric).higher_is_better


def _impute(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        filled = IterativeImputer(max_iter=10, random_state=0).fit_transform(matrix)
    for warning in caught:
        logger.info("HEAR score imputation: %s", warning.message)
    return np.asarray(filled, dtype=np.float64)


def _standardize(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    from sklearn.preprocessing import StandardScaler

    return np.asarray(StandardScaler().fit_transform(matrix), dtype=np.float64)


def hear_normalized_score(
    values: npt.ArrayLike, higher_is_better: Sequence[bool], missing: Missing = "impute"
) -> npt.NDArray[np.float64]:
    """The HEAR 2021 leaderboard's normalised score of each row.

    Args:
        values: ``(rows, tasks)`` primary scores, NaN where a row has no result.
        higher_is_better: Direction of each task's metric; lower-is-better columns are negated.
        missing: ``"impute"`` (the leaderboard's procedure) or ``"omit"`` (see module docstring).

    Returns:
        ``(rows,)`` scores in [-1, 1].

    Raises:
        ValueError: if the shapes disagree or a task has no score at all.
    """
    x = np.array(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(higher_is_better):
        raise ValueError(f"values {x.shape} must be (rows, {len(higher_is_better)})")
    if x.shape[0] == 0 or x.shape[1] == 0:
        return np.full(x.shape[0], np.nan)
    x = x * np.where(np.asarray(higher_is_better, dtype=bool), 1.0, -1.0)
    observed = ~np.isnan(x)
    if not observed.any(axis=0).all():
        raise ValueError("every task needs at least one score")
    if missing == "impute":
        if not observed.all():
            x = _impute(x)
        return np.asarray(np.clip(_standardize(x), -1.0, 1.0).mean(axis=1), dtype=np.float64)
    if missing == "omit":
        z = np.clip(_standardize(x), -1.0, 1.0)
        return np.asarray(np.nanmean(z, axis=1), dtype=np.float64)
    raise ValueError(f"missing must be 'impute' or 'omit', got {missing!r}")


def score_over_best(
    values: npt.ArrayLike, higher_is_better: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """Each row's mean over its tasks of score ÷ best score on the task.

    For lower-is-better tasks the ratio is best ÷ score, so 1 is the best row either way. A
    ratio with a zero denominator is NaN and left out. Meant for non-negative scores.

    Args:
        values: ``(rows, tasks)`` primary scores, NaN where a row has no result.
        higher_is_better: Direction of each task's metric.

    Returns:
        ``(rows,)`` mean ratios; NaN for a row with no usable task.
    """
    x = np.array(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(higher_is_better):
        raise ValueError(f"values {x.shape} must be (rows, {len(higher_is_better)})")
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


def option_label(value: Any) -> str:
    """Text of an option value (lists joined by commas, integral floats without ``.0``)."""
    if isinstance(value, list | tuple):
        return ",".join(option_label(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def variant_names(embedders: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Readable names of embedder ids that share a registered name.

    Ids of one name (``mn04_as``, ``mn04_as-1a2b3c4d``, ...) are told apart by the options whose
    values differ between them, e.g. ``mn04_as [mode=frames, hop_ms=20]``, plus the weights
    (``weights 9f3d947b``) or ``random weights`` where those differ. An id alone under its
    name keeps the id.

    Args:
        embedders: ``{embedder id: the result's embedder record}``.
    """
    groups: dict[str, list[str]] = {}
    for ident, record in embedders.items():
        groups.setdefault(str(record.get("name", ident)), []).append(ident)
    names = {ident: ident for ident in embedders}
    for name, idents in groups.items():
        if len(idents) < 2:
            continue
        options = {i: dict(embedders[i].get("options") or {}) for i in idents}
        keys = sorted({k for opts in options.values() for k in opts})
        differing = [
            k for k in keys if len({json.dumps(options[i].get(k), sort_keys=True) for i in idents}) > 1
        ]
        weights = {embedders[i].get("weights_sha256") for i in idents}
        pretrained = {bool(embedders[i].get("pretrained", True)) for i in idents}
        for ident in idents:
            record = embedders[ident]
            parts = [f"{k}={option_label(options[ident].get(k))}" for k in differing]
            if len(pretrained) > 1 and not record.get("pretrained", True):
                parts.append("random weights")
            elif len(weights) > 1 and record.get("weights_sha256"):
                parts.append(f"weights {str(record['weights_sha256'])[:8]}")
            if parts:
                names[ident] = f"{name} [{', '.join(parts)}]"
    return names


def _row_label(
    key: RowKey, embedder: Mapping[str, Any], with_probe: bool, names: Mapping[str, str]
) -> str:
    embedder_id, probe, published = key
    if published:
        return f"{embedder.get('name', embedder_id)} {PUBLISHED_MARK}"
    name = names.get(embedder_id, embedder_id)
    return f"{name} ({probe})" if with_probe else name


def _row_complexity(results: Sequence[Result]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for result in results:
        for key, value in (result.complexity or {}).items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and math.isfinite(float(value)):
                values.setdefault(str(key), []).append(float(value))
    return {k: float(statistics.median(v)) for k, v in sorted(values.items())}


def build_leaderboard(
    results: Sequence[Result],
    cell_stats: Mapping[tuple[RowKey, str], CellStats] | None = None,
    missing: Missing = "impute",
    significance: str | None = None,
) -> Leaderboard:
    """Arrange results into a leaderboard with its aggregates.

    Args:
        results: Local and published results; one per (row, task).
        cell_stats: Confidence intervals and significance by (row key, task key).
        missing: How the HEAR score treats missing cells (``"impute"`` is HEAR's).
        significance: Description of the test behind ``same_as_best``, for the footnote.

    Raises:
        HearbenchError: if two results claim the same cell, or one task has results with
            different primary metrics.
    """
    by_cell: dict[tuple[RowKey, str], Result] = {}
    metrics: dict[str, str] = {}
    displays: dict[str, str] = {}
    for result in results:
        key, task = row_key(result), task_key(result)
        if (key, task) in by_cell:
            raise HearbenchError(
                f"two results for embedder {key[0]!r}, probe {key[1]!r} on task {task!r}"
            )
        by_cell[(key, task)] = result
        metric = metrics.setdefault(task, result.primary_metric)
        if metric != result.primary_metric:
            raise HearbenchError(
                f"task {task!r}: results disagree on the primary metric "
                f"({metric!r} and {result.primary_metric!r})"
            )
        displays.setdefault(task, task_display_name(task))

    columns = tuple(
        Column(task, displays[task], metrics[task], metric_direction(metrics[task]))
        for task in sorted(metrics, key=lambda t: (displays[t], t))
    )
    keys = sorted({k for k, _ in by_cell})
    local_probes = {k[1] for k in keys if not k[2]}
    grouped: dict[RowKey, list[Result]] = {k: [] for k in keys}
    for (key, _), result in sorted(by_cell.items()):
        grouped[key].append(result)
    names = variant_names({k[0]: grouped[k][0].embedder for k in keys if not k[2]})
    labels = {k: _row_label(k, grouped[k][0].embedder, len(local_probes) > 1, names) for k in keys}
    keys.sort(key=lambda k: (labels[k], k))

    matrix = np.full((len(keys), len(columns)), np.nan)
    for i, key in enumerate(keys):
        for j, col in enumerate(columns):
            if (key, col.task) in by_cell:
                matrix[i, j] = by_cell[(key, col.task)].primary.mean
    directions = [c.higher_is_better for c in columns]
    hear = hear_normalized_score(matrix, directions, missing) if keys else np.zeros(0)
    ratio = score_over_best(matrix, directions) if keys else np.zeros(0)

    best: dict[str, float] = {}
    for j, col in enumerate(columns):
        observed = matrix[~np.isnan(matrix[:, j]), j]
        if observed.size:
            best[col.task] = float(observed.max() if col.higher_is_better else observed.min())

    stats = cell_stats or {}
    rows = []
    for i, key in enumerate(keys):
        cells = {}
        for col in columns:
            found = by_cell.get((key, col.task))
            if found is None:
                continue
            score = found.primary
            cells[col.task] = Cell(
                mean=float(score.mean),
                std=float(score.std),
                best=float(score.mean) == best.get(col.task),
                stats=stats.get((key, col.task)),
            )
        rows.append(
            Row(
                key=key,
                label=labels[key],
                cells=cells,
                hear_score=float(hear[i]),
                score_over_best=float(ratio[i]),
                complexity=_row_complexity(grouped[key]),
                embedder=dict(grouped[key][0].embedder),
            )
        )
    rows.sort(
        key=lambda r: (
            math.isnan(r.hear_score),
            -r.hear_score if not math.isnan(r.hear_score) else 0.0,
            r.label,
            r.key,
        )
    )
    return Leaderboard(tuple(columns), tuple(rows), missing, significance)


def _num(value: float, signed: bool = False) -> str:
    if math.isnan(value):
        return MISSING
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    return text.replace("-0.000", "0.000").replace("+0.000", "0.000")


def _cell_text(cell: Cell | None) -> str:
    if cell is None:
        return MISSING
    if math.isnan(cell.std):
        return _num(cell.mean)
    return f"{_num(cell.mean)} ± {_num(cell.std)}"


def _tied(cell: Cell | None) -> bool:
    return cell is not None and cell.stats is not None and cell.stats.same_as_best is True


def _coverage(row: Row, n_columns: int) -> str:
    return f"{len(row.cells)}/{n_columns}"


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def to_markdown(board: Leaderboard) -> str:
    """The leaderboard as a GitHub-flavoured Markdown table followed by its footnotes."""
    header = [
        "Embedder",
        "HEAR score",
        "Score/best",
        "Tasks",
        *(_md_escape(c.label) for c in board.columns),
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|",
    ]
    for row in board.rows:
        cells = [
            _md_escape(row.label),
            _num(row.hear_score, signed=True),
            _num(row.score_over_best),
            _coverage(row, len(board.columns)),
        ]
        for col in board.columns:
            cell = row.cells.get(col.task)
            text = _cell_text(cell)
            if cell is not None and cell.best:
                text = f"**{text}**"
            if _tied(cell):
                text += TIED_MARK
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"- {_md_escape(note)}" for note in board.notes())
    return "\n".join(lines) + "\n"


def _csv_float(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def to_csv(board: Leaderboard) -> str:
    """The leaderboard as CSV with full-precision numbers (``repr``), empty where missing.

    Columns: ``label, embedder, probe, published, hear_score, score_over_best, n_tasks``, then
    per task ``<task>`` (mean), ``<task>:std`` and, when any interval was computed,
    ``<task>:ci_low`` and ``<task>:ci_high``. Task columns use task keys, not display names.
    """
    with_ci = any(c.stats is not None for r in board.rows for c in r.cells.values())
    header = ["label", "embedder", "probe", "published", "hear_score", "score_over_best", "n_tasks"]
    for col in board.columns:
        header += [col.task, f"{col.task}:std"]
        if with_ci:
            header += [f"{col.task}:ci_low", f"{col.task}:ci_high"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in board.rows:
        values = [
            row.label,
            row.key[0],
            row.key[1],
            "true" if row.published else "false",
            _csv_float(row.hear_score),
            _csv_float(row.score_over_best),
            str(len(row.cells)),
        ]
        for col in board.columns:
            cell = row.cells.get(col.task)
            values += [
                _csv_float(cell.mean) if cell else "",
                _csv_float(cell.std) if cell else "",
            ]
            if with_ci:
                stats = cell.stats if cell else None
                values += [
                    _csv_float(stats.ci_low) if stats else "",
                    _csv_float(stats.ci_high) if stats else "",
                ]
        writer.writerow(values)
    return buffer.getvalue()


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_UNICODE = {
    "±": r"$\pm$",
    "†": r"$^{\dagger}$",
    "‡": r"$^{\ddagger}$",
    "—": "---",
    "–": "--",
    "÷": r"$\div$",
    "×": r"$\times$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "′": "'",
}


def _tex(text: str) -> str:
    out = "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)
    for uni, tex in _TEX_UNICODE.items():
        out = out.replace(uni, tex)
    return out


def to_latex(board: Leaderboard) -> str:
    """The leaderboard as a LaTeX ``table`` (needs ``booktabs``), footnotes below it."""
    n = len(board.columns)
    lines = [
        r"\begin{table}",
        r"\centering",
        r"\footnotesize",
        r"\begin{tabular}{l" + "r" * (3 + n) + "}",
        r"\toprule",
        " & ".join(
            [
                "Embedder",
                "HEAR score",
                "Score/best",
                "Tasks",
                *(_tex(c.label) for c in board.columns),
            ]
        )
        + r" \\",
        r"\midrule",
    ]
    for row in board.rows:
        cells = [
            _tex(row.label),
            _tex(_num(row.hear_score, signed=True)),
            _tex(_num(row.score_over_best)),
            _coverage(row, n),
        ]
        for col in board.columns:
            cell = row.cells.get(col.task)
            text = _tex(_cell_text(cell))
            if cell is not None and cell.best:
                text = r"\textbf{" + text + "}"
            if _tied(cell):
                text += _tex(TIED_MARK)
            cells.append(text)
        lines.append(" & ".join(cells) + r" \\")
    lines += [
        r"\bottomrule",
        r"\end{tabular}",
        r"\par\smallskip",
        r"\begin{minipage}{\linewidth}\scriptsize",
        *(_tex(note) + r"\par" for note in board.notes()),
        r"\end{minipage}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { background: #f4f4f4; vertical-align: bottom; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: bold; }
td.missing { color: #999; text-align: center; }
tr.published td:first-child { font-style: italic; }
.metric { font-weight: normal; color: #666; font-size: 0.85em; }
ol.notes { font-size: 0.8em; color: #444; max-width: 60em; }
figure { margin: 2em 0; }
figure svg { max-width: 100%; height: auto; }
""".strip()


def _svg_body(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def to_html(board: Leaderboard, figures: Sequence[tuple[str, str]] = ()) -> str:
    """The leaderboard as a self-contained static HTML page (no scripts).

    Args:
        board: The leaderboard.
        figures: ``(caption, svg_text)`` pairs to inline below the table.
    """
    esc = html.escape
    head = "".join(
        f'<th>{esc(c.label)}<br><span class="metric">{esc(c.metric)} '
        f"{'↑' if c.higher_is_better else '↓'}</span></th>"
        for c in board.columns
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>hearbench leaderboard</title>',
        f"<style>\n{_CSS}\n</style></head>",
        "<body>",
        "<h1>Leaderboard</h1>",
        "<table>",
        "<thead><tr><th>Embedder</th><th>HEAR score</th><th>Score/best</th><th>Tasks</th>"
        f"{head}</tr></thead>",
        "<tbody>",
    ]
    for row in board.rows:
        tds = [
            f"<td>{esc(row.label)}</td>",
            f'<td class="num">{esc(_num(row.hear_score, signed=True))}</td>',
            f'<td class="num">{esc(_num(row.score_over_best))}</td>',
            f'<td class="num">{_coverage(row, len(board.columns))}</td>',
        ]
        for col in board.columns:
            cell = row.cells.get(col.task)
            if cell is None:
                tds.append(f'<td class="missing">{MISSING}</td>')
                continue
            classes = "num best" if cell.best else "num"
            title = ""
            if cell.stats is not None and not math.isnan(cell.stats.ci_low):
                title = f' title="95% CI [{_num(cell.stats.ci_low)}, {_num(cell.stats.ci_high)}]"'
            mark = TIED_MARK if _tied(cell) else ""
            tds.append(f'<td class="{classes}"{title}>{esc(_cell_text(cell))}{mark}</td>')
        css = ' class="published"' if row.published else ""
        out.append(f"<tr{css}>" + "".join(tds) + "</tr>")
    out += ["</tbody>", "</table>", '<ol class="notes">']
    out += [f"<li>{esc(note)}</li>" for note in board.notes()]
    out.append("</ol>")
    for caption, svg in figures:
        out.append(
            f"<figure>{_svg_body(svg).strip()}<figcaption>{esc(caption)}</figcaption></figure>"
        )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(board: Leaderboard, fmt: str, figures: Sequence[tuple[str, str]] = ()) -> str:
    """The leaderboard in one of :data:`FORMATS` (``figures`` are used by ``html`` only)."""
    if fmt == "md":
        return to_markdown(board)
    if fmt == "csv":
        return to_csv(board)
    if fmt == "tex":
        return to_latex(board)
    if fmt == "html":
        return to_html(board, figures)
    raise HearbenchError(f"format {fmt!r} is unknown; choose from {', '.join(FORMATS)}")
