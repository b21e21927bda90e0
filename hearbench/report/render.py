"""A :class:`~hearbench.report.tables.Leaderboard` printed as Markdown, CSV, LaTeX or HTML.

Numbers are printed with fixed formats, so the same results give byte-identical files.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence

from hearbench.api import HearbenchError
from hearbench.report.tables import (
    MISSING,
    TIED_MARK,
    Cell,
    Leaderboard,
    Row,
)

FORMATS = ("md", "csv", "tex", "html")


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
