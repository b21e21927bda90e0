"""``hearbench list``, ``check`` and ``cache verify|prune``: what is registered, an embedder's
contract and the embedding cache."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hearbench.cli_errors import friendly
from hearbench.cli_options import embedder_from_flags, embedder_options


@click.command("list")
@click.argument(
    "what", type=click.Choice(["embedders", "families", "tasks", "probes", "suites"]), default="embedders"
)
@friendly
def list_cmd(what: str) -> None:
    """List registered embedders, embedder families and their options, task cards, suites or
    probes and their options."""
    if what == "embedders":
        from hearbench.registry import all_cards

        for name, embedder_card in sorted(all_cards().items()):
            click.echo(f"{name:32s} {embedder_card.description}")
    elif what == "families":
        from hearbench.registry import all_cards, family_options

        seen: set[str] = set()
        for embedder_card in sorted(all_cards().values(), key=lambda c: c.name):
            declared = family_options(embedder_card)
            if embedder_card.family in seen:
                continue
            seen.add(embedder_card.family)
            click.echo(f"{embedder_card.family} (e.g. {embedder_card.name})")
            for line in declared.describe():
                click.echo(f"  {line}")
    elif what == "probes":
        from hearbench.probes import PROBES, probe_options

        for name in PROBES:
            click.echo(name)
            for line in probe_options(name).describe():
                click.echo(f"  {line}")
        from hearbench.robustness import AUGMENT_OPTIONS

        click.echo("every probe, with --dirs (DIR augmentation of the training folds)")
        for line in AUGMENT_OPTIONS.describe():
            click.echo(f"  {line}")
    else:
        from hearbench.tasks import cards

        if what == "tasks":
            for task_card in cards.list_task_cards():
                metrics = ",".join(task_card.evaluation)
                click.echo(
                    f"{task_card.name:40s} {task_card.embedding_type:6s} {task_card.split_mode:16s} {metrics}"
                )
        else:
            for suite in cards.list_suites():
                click.echo(f"{suite.name:10s} {len(suite.tasks):3d} tasks  {suite.description}")


@click.command()
@click.argument("embedder")
@embedder_options
@click.option(
    "--long-seconds",
    type=float,
    default=30.0,
    show_default=True,
    help="Length of the drift-check clip.",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    metavar="NAME",
    help="Run only this check (repeatable; e.g. check_finite). Default: every check.",
)
@friendly
def check(
    embedder: str,
    weights: Sequence[str],
    options: Sequence[str],
    random_weights: bool,
    long_seconds: float,
    checks: Sequence[str],
) -> None:
    """Check that EMBEDDER honours the embedder contract (HEAR validator rules and more).

    Every check runs; each failed one is printed by name with its reason, and the exit code is 1.
    """
    from hearbench.testing import check_embedder, select_checks

    selected = select_checks(checks or None)
    report = check_embedder(
        embedder_from_flags(embedder, weights, options, random_weights), selected, long_seconds=long_seconds
    )
    click.echo(report.format())
    if not report.passed:
        sys.exit(1)


@click.group()
def cache() -> None:
    """Inspect the embedding cache."""


@cache.command("verify")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None)
@friendly
def cache_verify(cache_dir: str | None) -> None:
    """Re-hash every cache entry; exit 1 when any is corrupt."""
    from hearbench.cache import EmbeddingCache

    store = EmbeddingCache(cache_dir)
    problems = store.verify()
    for problem in problems:
        click.echo(problem)
    click.echo(f"{len(store.entries())} entries, {len(problems)} problem(s)")
    if problems:
        sys.exit(1)


@cache.command("prune")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None)
@friendly
def cache_prune(cache_dir: str | None) -> None:
    """Remove leftovers of crashed runs and corrupt entries."""
    from hearbench.cache import EmbeddingCache

    for path in EmbeddingCache(cache_dir).prune():
        click.echo(f"removed {path}")
