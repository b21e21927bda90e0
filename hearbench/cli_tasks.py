"""``hearbench tasks build|fetch|validate``: tasks in the HEAR format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from hearbench.api import HearbenchError
from hearbench.cli_errors import friendly


@click.group()
def tasks() -> None:
    """Build, fetch and validate tasks in the HEAR format."""


@tasks.command("build")
@click.argument("name")
@click.option(
    "--source",
    type=click.Path(file_okay=False),
    help="Raw dataset folder (not needed for demo-* tasks).",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Task directory to write.")
@click.option("--sample-rate", "sample_rates", type=int, multiple=True, default=(16000,), show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing task directory (an empty one is always used).")
@friendly
def tasks_build(
    name: str, source: str | None, out: str, sample_rates: Sequence[int], overwrite: bool
) -> None:
    """Build task NAME in the HEAR format from a raw dataset (or a built-in synthetic task)."""
    from hearbench.tasks.synthetic import BUILDERS as SYNTHETIC
    from hearbench.tasks.synthetic import build_synthetic_task

    if name in SYNTHETIC:
        path = build_synthetic_task(name, out, sample_rates=sample_rates, overwrite=overwrite)
        click.echo(f"wrote {path}")
        return
    from hearbench.tasks.builders import BUILDERS

    if name not in BUILDERS:
        raise HearbenchError(f"no builder {name!r}; choose from {', '.join(sorted([*BUILDERS, *SYNTHETIC]))}")
    if source is None:
        raise HearbenchError(f"--source is required to build {name}")
    report = BUILDERS[name].build(Path(source), Path(out), sample_rates, overwrite=overwrite)
    click.echo(str(report))


@tasks.command("fetch")
@click.argument("name")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder to extract into.")
@click.option("--sha256", default=None, help="Expected archive checksum (overrides the card's).")
@click.option(
    "--max-extract-bytes",
    type=click.IntRange(min=0),
    default=None,
    help="Refuse archives whose members add up to more (default: 100x the archive, 256 MiB to 200 GiB).",
)
@friendly
def tasks_fetch(name: str, out: str, sha256: str | None, max_extract_bytes: int | None) -> None:
    """Download (or unpack a local) HEAR 2021 task archive NAME into --out."""
    from hearbench.tasks.fetch import fetch_task

    path = fetch_task(name, Path(out), sha256=sha256, max_bytes=max_extract_bytes)
    click.echo(f"extracted to {path}")


@tasks.command("validate")
@click.argument("path", type=click.Path(file_okay=False))
@friendly
def tasks_validate(path: str) -> None:
    """Check a task directory against everything the loader relies on."""
    from hearbench.tasks.validate import validate_task

    problems = validate_task(Path(path))
    for problem in problems:
        click.echo(problem)
    if problems:
        raise HearbenchError(f"{path}: {len(problems)} problem(s)")
    click.echo(f"{path}: valid")
