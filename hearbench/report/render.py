"""A :class:`~hearbench.report.tables.Leaderboard` printed as Markdown, CSV or LaTeX with pandas.

Markdown goes through ``DataFrame.to_markdown`` (tabulate), LaTeX through ``Styler.to_latex``
(booktabs rules), CSV through ``DataFrame.to_csv``; the HTML page is
:mod:`hearbench.report.html`. Numbers are printed with fixed decimals, so the same results give
byte-identical files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from hearbench.api import HearbenchError
from hearbench.report.frames import CSV_DECIMALS, csv_frame, display_frame
from hearbench.report.notes import leaderboard_notes
from hearbench.report.tables import Leaderboard

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

FORMATS = ("md", "csv", "tex", "html")
TABLE_FORMATS = ("md", "csv", "tex")

_MD_SPECIAL = str.maketrans({"\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_"})
_TEX_UNICODE = {
    "±": r"$\pm$",
    "†": r"$^{\dagger}$",
    "‡": r"$^{\ddagger}$",
    "§": r"\S{}",
    "—": "---",
    "–": "--",
    "÷": r"$\div$",
    "×": r"$\times$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "′": "'",
}
_TEX_SPECIAL = str.maketrans(
    {
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
)


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.translate(_MD_SPECIAL)


def tex_unicode(text: str) -> str:
    """The non-ASCII marks of the tables as LaTeX (after pandas' ``escape="latex"``)."""
    for uni, tex in _TEX_UNICODE.items():
        text = text.replace(uni, tex)
    return text


def tex_escape(text: str) -> str:
    """Plain text (the notes) as LaTeX."""
    return tex_unicode(text.translate(_TEX_SPECIAL))


def to_markdown(board: Leaderboard) -> str:
    """The leaderboard as a GitHub-flavoured Markdown table followed by its footnotes."""
    text, kind = display_frame(board)
    body = text.map(md_escape)
    body = body.where(kind[text.columns] != "best", "**" + body + "**")
    body.columns = [md_escape(c) for c in text.columns]
    table = body.to_markdown(
        index=False,
        tablefmt="pipe",
        colalign=("left", *["right"] * (len(body.columns) - 1)),
        disable_numparse=True,
    )
    notes = "\n".join(f"- {md_escape(note)}" for note in leaderboard_notes(board))
    return f"{table}\n\n{notes}\n"


def to_csv(board: Leaderboard) -> str:
    """The leaderboard's numbers as CSV (:func:`hearbench.report.frames.csv_frame`)."""
    return str(
        csv_frame(board).to_csv(index=False, lineterminator="\n", float_format=f"%.{CSV_DECIMALS}f")
    )


def latex_styler(text: pd.DataFrame) -> Styler:
    """A text frame's LaTeX styler: no index, cells and headers escaped for LaTeX."""
    return (
        text.style.hide(axis="index")
        .format(escape="latex", formatter=tex_unicode)
        .format_index(escape="latex", formatter=tex_unicode, axis=1)
    )


def latex_table(tabular: str, notes: Sequence[str]) -> str:
    """A ``tabular`` in a LaTeX ``table`` (needs ``booktabs``), with ``notes`` below it."""
    lines = [
        r"\begin{table}",
        r"\centering",
        r"\footnotesize",
        tabular.rstrip("\n"),
        r"\par\smallskip",
        r"\begin{minipage}{\linewidth}\scriptsize",
        *(tex_escape(note) + r"\par" for note in notes),
        r"\end{minipage}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def to_latex(board: Leaderboard) -> str:
    """The leaderboard as a LaTeX ``table`` (needs ``booktabs``), footnotes below it."""
    text, kind = display_frame(board)
    bold = kind[text.columns].eq("best").map(lambda b: "textbf:--rwrap;" if b else "")
    styler = latex_styler(text).apply(lambda _: bold, axis=None)
    tabular = styler.to_latex(
        column_format="l" + "r" * (len(text.columns) - 1), hrules=True
    )
    return latex_table(tabular, leaderboard_notes(board))


def render(board: Leaderboard, fmt: str) -> str:
    """The leaderboard in one of :data:`TABLE_FORMATS`."""
    if fmt == "md":
        return to_markdown(board)
    if fmt == "csv":
        return to_csv(board)
    if fmt == "tex":
        return to_latex(board)
    raise HearbenchError(f"format {fmt!r} is unknown; choose from {', '.join(TABLE_FORMATS)}")


def frame_markdown(frame: pd.DataFrame) -> str:
    """A small DataFrame of text as a Markdown table (for the extra tables of a report)."""
    body = frame.astype(str).map(md_escape)
    body.columns = [md_escape(str(c)) for c in frame.columns]
    return str(body.to_markdown(index=False, tablefmt="pipe", disable_numparse=True))
