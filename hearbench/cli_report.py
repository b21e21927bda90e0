"""``hearbench report``, ``complexity`` and ``bench``: reports, cost figures and benchmarks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from hearbench.api import HearbenchError
from hearbench.cli_errors import friendly
from hearbench.cli_options import embedder_from_flags, embedder_options


@click.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Default: RESULTS_DIR/report.",
)
@click.option("--format", "formats", default="md,csv,tex,html", show_default=True)
@click.option(
    "--x",
    "x_axes",
    default="params,macs_per_second,latency_ms",
    show_default=True,
    help="Cost axes of the plots.",
)
@click.option("--with-published", default=None, help="Include published scores: hear2021 or a leaderboard CSV.")
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap/permutation resamples.")
@click.option("--no-stats", is_flag=True, help="Skip confidence intervals and significance marks.")
@click.option("--aggregate-over", multiple=True, help="Task set of an aggregate: hear2021, local, shared or TASK,TASK,... (repeatable; default: per group the tasks its rows share).")
@click.option("--impute", is_flag=True, help="Impute missing tasks of a set the HEAR 2021 way instead of leaving the row out.")
@click.option("--budget", "budget", multiple=True, metavar="KEY=VALUE", help="Complexity limit drawn on every complexity plot, rows inside marked (repeatable; e.g. params=128000, macs_per_second=30e6).")
@friendly
def report(
    results_dir: str,
    out_dir: str | None,
    formats: str,
    x_axes: str,
    with_published: str | None,
    n_boot: int,
    no_stats: bool,
    aggregate_over: tuple[str, ...],
    impute: bool,
    budget: tuple[str, ...],
) -> None:
    """Write leaderboard tables and score-versus-complexity plots from a results folder
    (and the robustness table and plots when it holds robustness results)."""
    from hearbench.report import write_report
    from hearbench.report.budget import parse_budget

    limits = parse_budget(budget)

    written = write_report(
        Path(results_dir),
        Path(out_dir) if out_dir else Path(results_dir) / "report",
        formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
        x=tuple(a.strip() for a in x_axes.split(",") if a.strip()),
        with_published=with_published,
        stats=not no_stats,
        n_boot=n_boot,
        aggregate_over=aggregate_over or None,
        impute=impute,
        budget=limits,
        on_stage=lambda text: click.echo(f"report: {text}", err=True),
    )
    for path in written:
        click.echo(str(path))


@click.command()
@click.argument("embedder")
@embedder_options
@click.option("--seconds", type=float, default=10.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def complexity(
    embedder: str,
    weights: Sequence[str],
    options: Sequence[str],
    random_weights: bool,
    seconds: float,
    as_json: bool,
) -> None:
    """Parameters, MACs per second of audio, latency and memory of EMBEDDER as configured.

    Counts need no trained weights: when the checkpoint is not on disk the figures are taken on
    random weights (parameters and MACs are those of the architecture), and the output says so.
    """
    from hearbench.complexity import format_complexity, measure_complexity

    note = None
    try:
        model = embedder_from_flags(embedder, weights, options, random_weights)
    except HearbenchError as exc:
        if weights or random_weights:
            raise
        try:
            model = embedder_from_flags(embedder, (), options, True)
        except HearbenchError:
            raise exc from None
        note = f"weights not available ({exc}); architecture-only counts, latency on random weights"
    figures = measure_complexity(model, seconds=seconds)
    if as_json:
        data = figures.to_dict()
        if note is not None:
            data["note"] = note
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(format_complexity(figures))
        if note is not None:
            click.echo(f"note: {note}")


@click.command()
@click.option("--quick", "level", flag_value="quick", help="Smoke run (a minute or two).")
@click.option("--default", "level", flag_value="default", help="The default level (about ten minutes).")
@click.option("--full", "level", flag_value="full", help="Every embedder on 10 s and 120 s, full MLP schedule.")
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(["windows", "modes", "mlp-grid", "gflops", "suite", "originals"]),
    help="Run only these benchmarks (repeatable; default all).",
)
@click.option("--threads", type=int, default=None, help="Torch threads (default: torch's setting).")
@click.option("--device", default="cpu", show_default=True, help="Device of the embedders.")
@click.option(
    "--weights-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder with mn04_as.pt / dymn04_random_seed0.pt (else random weights).",
)
@click.option("--fsdd", "fsdd_dir", type=click.Path(file_okay=False), default=None, help="FSDD source for the MLP grid.")
@click.option("--scores", "scores_dir", type=click.Path(file_okay=False), default=None, help="Tasks to score both modes on.")
@click.option("--suite-dir", type=click.Path(file_okay=False), default=None, help="Built local suite tasks.")
@click.option("--suite-embedder", default="mn04_as", show_default=True, help="Embedder of the suite timing.")
@click.option("--work-dir", type=click.Path(file_okay=False), default=None, help="Scratch folder (default: temporary).")
@click.option("--repeats", type=int, default=None, help="Timed runs per measurement.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the report as JSON.")
@friendly
def bench(
    level: str | None,
    sections: Sequence[str],
    threads: int | None,
    device: str,
    weights_dir: str | None,
    fsdd_dir: str | None,
    scores_dir: str | None,
    suite_dir: str | None,
    suite_embedder: str,
    work_dir: str | None,
    repeats: int | None,
    json_path: str | None,
) -> None:
    """Measure hearbench's fast paths against the straightforward ones and print the ratios."""
    from hearbench.bench import BenchSettings, format_rows, run_bench

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    settings = BenchSettings(
        level=level or "default",
        sections=tuple(sections) or BenchSettings.sections,
        device=device,
        threads=threads,
        weights_dir=path(weights_dir),
        fsdd_dir=path(fsdd_dir),
        scores_dir=path(scores_dir),
        suite_dir=path(suite_dir),
        suite_embedder=suite_embedder,
        work_dir=path(work_dir),
        repeats=repeats,
    )
    report = run_bench(settings, on_row=lambda row: click.echo(format_rows([row]).splitlines()[-1], err=True))
    click.echo(report.format())
    if json_path:
        click.echo(f"wrote {report.write_json(json_path)}")
