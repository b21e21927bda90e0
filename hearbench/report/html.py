"""``index.html``: the whole report as one static, self-contained page.

The page holds the leaderboard (pandas ``Styler.to_html``; published rows, best, missing and
imputed cells carry classes), how each aggregate was computed, the probe-sensitivity tables,
the complexity figures, the sweeps and every plot as inline SVG. A small inline script sorts
the leaderboard by any column on a click on its header, or on load from ``#sort=<column>``
(``#sort=-<column>`` for descending), or by clicks replayed from ``#click=<column>,...``.
Nothing is fetched from the network.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import pandas as pd

from hearbench.report.frames import display_frame, num
from hearbench.report.notes import leaderboard_notes, task_set_note
from hearbench.report.sweeps import sweeps
from hearbench.report.tables import Leaderboard
from hearbench.results import Result
from hearbench.results.hear2021 import task_display_name

SWEEP_OPTIONS = ("layers", "hop_ms")
COMPLEXITY_KEYS = (("params", "Parameters"), ("macs_per_second", "MACs / s audio"), ("latency_ms", "Latency (ms)"))

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h2 { margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { background: #f4f4f4; vertical-align: bottom; text-align: right; }
table.leaderboard th { cursor: pointer; }
table.leaderboard th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.leaderboard th[aria-sort="descending"]::after { content: " \\25BC"; }
td { text-align: right; font-variant-numeric: tabular-nums; }
td.col0, th.col0 { text-align: left; }
td.best { font-weight: bold; }
td.missing { color: #999; text-align: center; }
td.imputed { color: #a05a00; font-style: italic; background: #fff4e0; }
td.published { background: #f3f3f8; color: #555; }
td.published.col0 { font-style: italic; }
ul.notes { font-size: 0.85em; color: #444; max-width: 70em; }
figure { margin: 2em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #444; max-width: 70em; }
""".strip()

_SCRIPT = """
(function () {
  var table = document.querySelector("table.leaderboard");
  if (!table) { return; }
  var heads = table.querySelectorAll("thead th");
  var body = table.tBodies[0];
  Array.prototype.forEach.call(body.rows, function (row, i) { row.dataset.order = i; });
  function value(cell) {
    var text = cell.textContent.replace(/[\\[\\]]/g, "").trim();
    var n = parseFloat(text);
    return isNaN(n) ? null : n;
  }
  function sortBy(col, descending) {
    var numeric = col > 0;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col], r;
      if (numeric) {
        var u = value(x), v = value(y);
        if (u === null || v === null) {
          r = (u === null) - (v === null);
          return r !== 0 ? r : a.dataset.order - b.dataset.order;
        }
        r = descending ? v - u : u - v;
      } else {
        var s = x.textContent, t = y.textContent;
        r = s < t ? -1 : (s > t ? 1 : 0);
        if (descending) { r = -r; }
      }
      return r !== 0 ? r : a.dataset.order - b.dataset.order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(heads, function (h, i) {
      if (i === col) { h.setAttribute("aria-sort", descending ? "descending" : "ascending"); }
      else { h.removeAttribute("aria-sort"); }
    });
    table.dataset.sorted = (descending ? "-" : "") + col;
  }
  Array.prototype.forEach.call(heads, function (h, i) {
    h.addEventListener("click", function () {
      var now = h.getAttribute("aria-sort");
      sortBy(i, now ? now === "ascending" : i > 0);
    });
  });
  var match = /sort=(-?)(\\d+)/.exec(window.location.hash);
  if (match && +match[2] < heads.length) { sortBy(+match[2], match[1] === "-"); }
  var clicks = /click=([\\d,]+)/.exec(window.location.hash);
  if (clicks) {
    clicks[1].split(",").forEach(function (i) { if (heads[+i]) { heads[+i].click(); } });
  }
})();
""".strip()


def _leaderboard_table(board: Leaderboard) -> str:
    text, kind = display_frame(board)
    published = kind.pop("published")
    classes = kind.copy()
    for i, is_published in enumerate(published):
        if is_published:
            classes.iloc[i] = [f"{c} published".strip() for c in classes.iloc[i]]
    styler = (
        text.style.hide(axis="index")
        .set_uuid("leaderboard")
        .set_td_classes(classes)
        .set_table_attributes('class="leaderboard"')
        .format(escape="html")
        .format_index(escape="html", axis=1)
    )
    return str(styler.to_html(doctype_html=False))


def _plain_table(frame: pd.DataFrame) -> str:
    return str(frame.to_html(index=False, escape=True, border=0, na_rep="—"))


def _complexity_frame(board: Leaderboard) -> pd.DataFrame | None:
    records = []
    for row in board.rows:
        if row.published or not row.complexity:
            continue
        record = {"Embedder": row.label}
        for key, title in COMPLEXITY_KEYS:
            value = row.complexity.get(key)
            record[title] = "—" if value is None else f"{value:.4g}"
        records.append(record)
    return pd.DataFrame.from_records(records) if records else None


def _sweep_frames(results: Sequence[Result]) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for option in SWEEP_OPTIONS:
        for task, curves in sweeps(results, option).items():
            records = [
                {"Curve": label, **{p.value: f"{num(p.mean)} ± {num(p.std)}" for p in points}}
                for label, points in curves.items()
            ]
            frame = pd.DataFrame.from_records(records).fillna("—")
            out.append((f"{option} on {task_display_name(task)}", frame))
    return out


def _svg_body(svg: str) -> str:
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    return re.sub(r"\s*<metadata>.*?</metadata>", "", body, flags=re.DOTALL).strip()


def report_page(
    board: Leaderboard,
    figures: Sequence[tuple[str, str]] = (),
    results: Sequence[Result] = (),
    sensitivity: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    robustness: tuple[pd.DataFrame, Sequence[str]] | None = None,
) -> str:
    """The report as a self-contained HTML page.

    Args:
        board: The leaderboard.
        figures: ``(caption, svg text)`` of every plot, inlined in order.
        results: The results, for the sweep tables.
        sensitivity: The probe-sensitivity tables, when several probes were run.
        robustness: The robustness table (as text) and its notes, when robustness results
            exist.
    """
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>hearbench report</title>',
        f"<style>\n{_CSS}\n</style></head>",
        "<body>",
        "<h1>hearbench report</h1>",
        f"<p>{len(board.rows)} rows ({sum(r.published for r in board.rows)} published), "
        f"{len(board.columns)} tasks. Click a column header to sort.</p>",
        "<h2>Leaderboard</h2>",
        _leaderboard_table(board),
        '<ul class="notes">',
        *(f"<li>{esc(note)}</li>" for note in leaderboard_notes(board)),
        "</ul>",
        '<h2 id="aggregates">How the aggregates were computed</h2>',
        '<ul class="notes">',
        *(f"<li>{esc(task_set_note(board, s))}</li>" for s in board.task_sets),
        "</ul>",
    ]
    if sensitivity is not None:
        ranks, taus = sensitivity
        out += [
            "<h2>Probe sensitivity</h2>",
            "<p>Rank of each embedder per probe on each aggregate, and Kendall τ between "
            "probes over the embedders both scored.</p>",
            _plain_table(ranks),
            _plain_table(taus),
        ]
    if robustness is not None:
        table, notes = robustness
        out += [
            '<h2 id="robustness">Device robustness</h2>',
            _plain_table(table),
            '<ul class="notes">',
            *(f"<li>{esc(note)}</li>" for note in notes),
            "</ul>",
        ]
    complexity = _complexity_frame(board)
    if complexity is not None:
        out += ["<h2>Complexity</h2>", _plain_table(complexity)]
    sweep_tables = _sweep_frames(results)
    if sweep_tables:
        out.append("<h2>Sweeps</h2>")
        for title, frame in sweep_tables:
            out += [f"<h3>{esc(title)}</h3>", _plain_table(frame)]
    if figures:
        out.append("<h2>Plots</h2>")
        for caption, svg in figures:
            out.append(f"<figure>{_svg_body(svg)}<figcaption>{esc(caption)}</figcaption></figure>")
    out += [f"<script>\n{_SCRIPT}\n</script>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
