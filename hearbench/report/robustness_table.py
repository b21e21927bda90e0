"""The robustness table: clean against perturbed test scores, one row per robustness result.

Every result with a :class:`~hearbench.robustness_summary.RobustnessSummary` (``hearbench run
--robustness``) gives one row: embedder, probe (``+ DIR aug`` when its training folds had DIR
augmented copies), task, test conditions, primary metric, then the clean score, the mean and
worst over the unseen conditions, the drop (clean − unseen mean, positive = worse; the other
way for lower-is-better metrics), the relative drop and DG (population std over the unseen
conditions). Written as ``robustness.{md,csv,tex}`` and as a section of ``index.html``, only
when such results exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from hearbench.report.budget import budget_text, inside
from hearbench.report.frames import CSV_DECIMALS, num
from hearbench.report.render import frame_markdown, latex_styler, latex_table
from hearbench.report.tables import variant_names
from hearbench.results import Result

NUMBERS = (
    ("clean", "Clean"),
    ("unseen_mean", "Unseen mean"),
    ("unseen_worst", "Worst"),
    ("drop", "Drop"),
    ("relative_drop", "Rel. drop"),
    ("dg", "DG"),
)
NOTES = (
    "Probe trained and selected on clean train/valid embeddings; the same fitted probe of each "
    "fold scores its test fold under every test condition (mean over folds).",
    "Unseen mean / worst: over the unseen test conditions; drop = clean − unseen mean "
    "(positive = worse); rel. drop = drop / clean; DG = population std over the unseen "
    "conditions.",
    "+ DIR aug: training folds with DIR-augmented copies through the seen devices only "
    "(p = probability per clip and draw, n = draws).",
)


def robustness_results(results: Sequence[Result]) -> list[Result]:
    """The results that hold a robustness summary, sorted by task, embedder and run."""
    found = [r for r in results if r.robustness is not None]
    return sorted(
        found,
        key=lambda r: (str(r.task["name"]), r.embedder_id, "augment" in r.probe, r.run_name),
    )


def _conditions(result: Result) -> str:
    record = result.perturbation or {}
    assert result.robustness is not None
    text = f"{record.get('kind', '?')} × {len(result.robustness.unseen)}"
    if record.get("max_conditions"):
        text += f" (capped at {record['max_conditions']})"
    if record.get("level"):
        text += f", level {record['level']}"
    return text


def robustness_frame(
    results: Sequence[Result], budget: Mapping[str, float] | None = None
) -> pd.DataFrame | None:
    """The numbers of the table (``None`` when no result has a robustness summary)."""
    chosen = robustness_results(results)
    if not chosen:
        return None
    names = variant_names({r.embedder_id: r.embedder for r in chosen})
    records = []
    for result in chosen:
        summary = result.robustness
        assert summary is not None
        record: dict[str, object] = {
            "Embedder": names.get(result.embedder_id, result.embedder_id),
            "Probe": result.probe_label,
            "Task": str(result.task["name"]),
            "Conditions": _conditions(result),
            "Metric": summary.metric,
        }
        for key, title in NUMBERS:
            record[title] = round(float(summary.to_dict()[key]), CSV_DECIMALS) + 0.0
        if budget:
            complexity = {
                k: float(v) for k, v in (result.complexity or {}).items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
            record["Inside budget"] = "yes" if inside(complexity, budget) else "no"
        records.append(record)
    return pd.DataFrame.from_records(records)


def text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as text, numbers with fixed decimals (drop signed)."""
    out = frame.copy()
    for _, title in NUMBERS:
        signed = title in ("Drop", "Rel. drop")
        out[title] = [num(float(v), signed=signed, decimals=4) for v in frame[title]]
    return out.astype(str)


def notes(budget: Mapping[str, float] | None = None) -> list[str]:
    """The footnotes of the table."""
    extra = [f"Inside budget: {budget_text(budget)}."] if budget else []
    return [*NOTES, *extra]


def render_robustness(frame: pd.DataFrame, fmt: str, budget: Mapping[str, float] | None = None) -> str:
    """The table as ``md``, ``csv`` or ``tex``."""
    if fmt == "csv":
        return str(frame.to_csv(index=False, lineterminator="\n", float_format=f"%.{CSV_DECIMALS}f"))
    text = text_frame(frame)
    if fmt == "md":
        lines = "\n".join(f"- {note}" for note in notes(budget))
        return f"{frame_markdown(text)}\n\n{lines}\n"
    tabular = latex_styler(text).to_latex(
        column_format="llll" + "l" + "r" * (len(text.columns) - 5), hrules=True
    )
    return latex_table(tabular, notes(budget))
