"""``hearbench results list|show|compare``: stored results as tables, CSV or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from hearbench.api import HearbenchError
from hearbench.cli_errors import friendly

if TYPE_CHECKING:
    import pandas as pd

OUTPUT_FORMATS = ("table", "csv", "json")


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        click.echo(frame.to_csv(index=False, lineterminator="\n"), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", indent=1, double_precision=15))
    else:
        click.echo(frame.to_markdown(index=False, tablefmt="simple", floatfmt=".4f") if len(frame) else "(none)")


def _load(dirs: Sequence[str], with_published: str | None) -> pd.DataFrame:
    from hearbench.results.frame import load_results

    frame = load_results(list(dirs), with_published=with_published)
    if frame.empty:
        raise HearbenchError(f"no results under {', '.join(dirs)}")
    return frame


def _common(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option(
        "--format", "fmt", type=click.Choice(OUTPUT_FORMATS), default="table", show_default=True
    )(fn)
    fn = click.option(
        "--with-published", default=None, help="Add published scores: hear2021 or a leaderboard CSV."
    )(fn)
    return click.argument("dirs", nargs=-1, required=True, type=click.Path(file_okay=False))(fn)


@click.group("results")
def results_group() -> None:
    """Inspect and maintain stored results (tidy pandas frames)."""


@results_group.command("list")
@_common
@friendly
def results_list(dirs: tuple[str, ...], with_published: str | None, fmt: str) -> None:
    """One line per embedder configuration and probe: its tasks and where it is stored."""
    frame = _load(dirs, with_published)
    primary = frame[frame["primary"]]
    rows = (
        primary.groupby(["source", "embedder_id", "probe"], sort=True)
        .agg(embedder=("embedder", "first"), tasks=("task", lambda t: len(set(t))),
             shortened=("shortened", "any"), results_dir=("results_dir", "first"))
        .reset_index()
    )
    _emit(rows, fmt)


@results_group.command("show")
@_common
@click.option("--embedder", "embedder_id", default=None, help="Only this embedder id.")
@click.option("--task", default=None, help="Only this task (key or name).")
@click.option("--all-metrics", is_flag=True, help="Every metric, not only the primary one.")
@friendly
def results_show(
    dirs: tuple[str, ...],
    with_published: str | None,
    fmt: str,
    embedder_id: str | None,
    task: str | None,
    all_metrics: bool,
) -> None:
    """The tidy rows (per fold) of the chosen results."""
    frame = _load(dirs, with_published)
    if embedder_id is not None:
        if embedder_id not in set(frame["embedder_id"]):
            raise HearbenchError(f"--embedder {embedder_id!r}: no such embedder id in the results")
        frame = frame[frame["embedder_id"] == embedder_id]
    if task is not None:
        chosen = (frame["task"] == task) | (frame["task_name"] == task)
        if not chosen.any():
            raise HearbenchError(f"--task {task!r}: no such task in the results")
        frame = frame[chosen]
    if not all_metrics:
        frame = frame[frame["primary"]]
    columns = ["source", "embedder_id", "probe", "task", "metric", "fold", "value", "probe_params"]
    _emit(frame[columns] if fmt == "table" else frame, fmt)


@results_group.command("compare")
@_common
@click.option("--metric", default=None, help="Metric to compare (default: each task's primary).")
@friendly
def results_compare(
    dirs: tuple[str, ...], with_published: str | None, fmt: str, metric: str | None
) -> None:
    """Rows × tasks: mean over folds of the primary (or chosen) metric."""
    from hearbench.results.frame import to_wide

    frame = _load(dirs, with_published)
    if metric is not None and metric not in set(frame["metric"]):
        raise HearbenchError(f"--metric {metric!r}: no result has it")
    _emit(to_wide(frame, metric).reset_index(), fmt)


@results_group.command("prune")
@click.argument("results_dir", type=click.Path(file_okay=False), default="results")
@friendly
def results_prune(results_dir: str) -> None:
    """Remove temporary files that killed writes left in RESULTS_DIR."""
    from hearbench.results import prune_results

    removed = prune_results(results_dir)
    for path in removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(removed)} leftover(s) removed")
