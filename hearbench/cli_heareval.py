"""``hearbench export heareval`` and ``hearbench import heareval``: move between the two tools."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from hearbench.cli_errors import friendly
from hearbench.options import parse_options

F = TypeVar("F", bound=Callable[..., Any])


@click.group("export")
def export_group() -> None:
    """Write hearbench data in another tool's layout."""


@export_group.command("heareval")
@click.option("--embedder", "embedder_name", required=True, help="Embedder (preset name).")
@click.option("--weights", type=click.Path(dir_okay=False), default=None, help="Local weights file.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Embedder option, repeatable.")
@click.option("--random-weights", is_flag=True, help="Run on random weights (pretrained=False).")
@click.option("--task", "task_path", required=True, type=click.Path(file_okay=False, exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None)
@friendly
def export_heareval(
    embedder_name: str,
    weights: str | None,
    options: Sequence[str],
    random_weights: bool,
    task_path: str,
    out_dir: str,
    cache_dir: str | None,
) -> None:
    """Embed TASK (through the cache) and write heareval's embeddings folder OUT.

    ``python -m heareval.predictions.runner OUT`` then trains heareval's probe on it.
    """
    from hearbench.cache import EmbeddingCache
    from hearbench.embed import embed_task
    from hearbench.interop.heareval import write_embeddings
    from hearbench.registry import create_embedder
    from hearbench.tasks.format import load_task

    embedder = create_embedder(
        embedder_name, weights=weights, pretrained=not random_weights, **parse_options(options)
    )
    task = load_task(task_path)
    embeddings, _ = embed_task(embedder, task, EmbeddingCache(cache_dir), progress=False)
    folder = write_embeddings(task, embeddings, out_dir)
    click.echo(f"wrote heareval embeddings of {task.name} ({', '.join(task.split_names)}) to {folder}")


@click.group("import")
def import_group() -> None:
    """Read another tool's embeddings or predictions."""


@import_group.command("heareval")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--probe", default=None, help="Also evaluate the embeddings with this hearbench probe.")
@click.option("--probe-option", "probe_options", multiple=True, metavar="KEY=VALUE", help="Probe option.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Write the scores.")
@friendly
def import_heareval(
    folder: str, probe: str | None, probe_options: Sequence[str], seed: int, json_out: str | None
) -> None:
    """Read heareval's embeddings (or predictions) folder FOLDER.

    Stored heareval test predictions (``<fold>.predictions.pkl``) are scored with hearbench's
    metrics beside heareval's own numbers; with ``--probe`` the embeddings are evaluated by
    hearbench's protocol; otherwise the splits are listed.
    """
    from hearbench.interop.heareval import (
        evaluate_embeddings,
        read_embeddings,
        read_predictions,
        read_task,
        score_predictions,
        stored_scores,
    )

    root = Path(folder)
    task = read_task(root)
    out: dict[str, Any] = {"task": task.name}
    if any(root.glob("*.predictions.pkl")):
        ours = score_predictions(read_predictions(root), task.evaluation)
        theirs = stored_scores(root, task.evaluation)
        out.update(hearbench=ours, heareval=theirs)
        _table("heareval predictions", {"hearbench": ours, "heareval": theirs})
    if probe is not None:
        _, embeddings = read_embeddings(root)
        chosen, scores, _ = evaluate_embeddings(task, embeddings, probe, parse_options(probe_options), seed)
        out.update(probe=probe, chosen=chosen, probe_scores=scores)
        _table(f"hearbench {probe} probe", {"hearbench": scores})
    if len(out) == 1:
        _, embeddings = read_embeddings(root)
        for split, emb in embeddings.items():
            click.echo(f"{split}: {len(emb.files)} files, {emb.embeddings.shape[0]} x {emb.embeddings.shape[1]}")
    if json_out is not None:
        Path(json_out).write_text(json.dumps(out, indent=1, default=float), encoding="utf-8")


def _table(title: str, columns: Mapping[str, Mapping[str, Mapping[str, float]]]) -> None:
    names = list(columns)
    click.echo(title)
    click.echo("  ".join(["fold", "metric", *names]))
    first = next(iter(columns.values()))
    for fold, metrics in first.items():
        for metric in metrics:
            values = [columns[n].get(fold, {}).get(metric, float("nan")) for n in names]
            click.echo("  ".join([fold, metric, *(f"{v:.6f}" for v in values)]))
