"""The ``hearbench`` command line: each command a thin wrapper over a library function."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from hearbench.api import HearbenchError
from hearbench.cli_errors import debugging, friendly
from hearbench.cli_heareval import export_group, import_group
from hearbench.cli_results import results_group
from hearbench.options import parse_options

F = TypeVar("F", bound=Callable[..., Any])


def embedder_options(fn: F) -> F:
    """The shared ``--weights``, ``--option`` and ``--random-weights`` options."""
    fn = click.option("--random-weights", is_flag=True, help="Run on random weights (pretrained=False).")(fn)
    fn = click.option(
        "--option",
        "options",
        multiple=True,
        metavar="KEY=VALUE",
        help="Embedder option, repeatable (see 'hearbench list families').",
    )(fn)
    fn = click.option(
        "--weights",
        "weights",
        multiple=True,
        metavar="[NAME=]PATH",
        help="Local weights file; NAME=PATH gives one embedder its own (repeatable).",
    )(fn)
    return fn


def weights_by_embedder(names: Sequence[str], values: Sequence[str]) -> dict[str, str | None]:
    """Map each embedder name to its weights file from ``--weights`` values.

    ``NAME=PATH`` (NAME one of ``names``) sets one embedder's weights; a plain ``PATH`` is
    allowed with a single embedder only.

    Raises:
        HearbenchError: on a plain path with several embedders, or two files for one embedder.
    """
    out: dict[str, str | None] = dict.fromkeys(names)
    given: set[str] = set()
    for value in values:
        name, sep, path = value.partition("=")
        if not (sep and name in out):
            if len(out) != 1:
                raise HearbenchError(
                    f"--weights {value!r}: with several embedders write NAME=PATH, "
                    f"NAME one of {', '.join(out)}"
                )
            name, path = next(iter(out)), value
        if name in given:
            raise HearbenchError(f"--weights: two weights files for {name}")
        given.add(name)
        out[name] = path
    return out


def _create(name: str, weights: Sequence[str], options: Sequence[str], random_weights: bool) -> Any:
    from hearbench.registry import create_embedder

    path = weights_by_embedder([name], weights)[name]
    return create_embedder(name, weights=path, pretrained=not random_weights, **parse_options(options))


def check_probes(probes: Sequence[str]) -> None:
    """Refuse unknown probe names before any work starts."""
    from hearbench.probes import PROBES

    for probe in probes:
        if probe not in PROBES:
            raise HearbenchError(f"--probe {probe!r}: unknown probe; choose from {', '.join(PROBES)}")


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors (also HEARBENCH_DEBUG=1).")
@click.version_option(package_name="hearbench")
def main(verbose: int, debug: bool) -> None:
    """Evaluate audio representations the HEAR 2021 way and measure what they cost."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if debug or debugging():
        logging.getLogger("hearbench.executors").setLevel(logging.DEBUG)


@main.command("list")
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


@main.command()
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
        _create(embedder, weights, options, random_weights), selected, long_seconds=long_seconds
    )
    click.echo(report.format())
    if not report.passed:
        sys.exit(1)


@main.group()
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


@main.command()
@click.option("--embedder", "embedder_name", required=True, help="Registered embedder or hear:MODULE.")
@embedder_options
@click.option("--task", "task_path", required=True, type=click.Path(file_okay=False))
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Embedding cache folder.",
)
@friendly
def embed(
    embedder_name: str,
    weights: Sequence[str],
    options: Sequence[str],
    random_weights: bool,
    task_path: str,
    cache_dir: str | None,
) -> None:
    """Embed every split of a task into the cache."""
    from hearbench.cache import EmbeddingCache
    from hearbench.embed import embed_task
    from hearbench.tasks.format import load_task

    embedder = _create(embedder_name, weights, options, random_weights)
    _, report = embed_task(embedder, load_task(task_path), EmbeddingCache(cache_dir))
    click.echo(f"computed {list(report.computed)}, cached {list(report.cached)} in {report.seconds:.1f} s")


@main.command()
@click.option("--embedder", "embedder_names", multiple=True, required=True, help="Embedder(s); repeatable.")
@embedder_options
@click.option(
    "--task",
    "task_paths",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Task directory; repeatable.",
)
@click.option("--suite", default=None, help="Run every task of a suite found under --tasks-dir.")
@click.option("--tasks-dir", type=click.Path(file_okay=False), default=None)
@click.option(
    "--probe",
    "probes",
    multiple=True,
    default=("linear",),
    show_default=True,
    help="Probe(s); repeatable.",
)
@click.option(
    "--probe-option",
    "probe_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Probe option, repeatable (see 'hearbench list probes').",
)
@click.option(
    "--sweep",
    default=None,
    metavar="KEY=V1;V2;...",
    help="Run one embedder per value of an option.",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results", show_default=True)
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), default=None)
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (with --executor ray).")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--no-complexity", is_flag=True, help="Skip measuring complexity.")
@click.option("--no-resume", is_flag=True, help="Recompute results that already exist.")
@click.option("--robustness", "robustness", default=None, metavar="KIND", help="Also score test conditions: dir (unseen devices of --dirs), room (--dirs) or noise (--noise, --snr).")
@click.option("--dirs", default=None, type=click.Path(file_okay=False), help="Folder of impulse responses (dir, room, and the dir_augment_* probe options).")
@click.option("--noise", "noise_dir", default=None, type=click.Path(file_okay=False), help="Folder of noise recordings (--robustness noise).")
@click.option("--snr", "snrs", multiple=True, metavar="DB", help="SNR of --robustness noise in dB (repeatable).")
@click.option("--level", default="rms", show_default=True, help="Level after an impulse response: rms (clean clip's RMS) or raw.")
@click.option("--max-conditions", default=None, metavar="N", help="Keep N test conditions, evenly spread over the sorted list.")
@friendly
def run(
    embedder_names: Sequence[str],
    weights: Sequence[str],
    options: Sequence[str],
    random_weights: bool,
    task_paths: Sequence[str],
    suite: str | None,
    tasks_dir: str | None,
    probes: Sequence[str],
    probe_options: Sequence[str],
    sweep: str | None,
    out_dir: str,
    cache_dir: str | None,
    executor: str,
    address: str | None,
    seed: int,
    no_complexity: bool,
    no_resume: bool,
    robustness: str | None,
    dirs: str | None,
    noise_dir: str | None,
    snrs: Sequence[str],
    level: str,
    max_conditions: str | None,
) -> None:
    """Evaluate embedders on tasks with probes; write one result per (embedder, task, probe).

    With --robustness the probe trained on clean embeddings also scores the test clips under
    each test condition; the dir_augment_* probe options add DIR-augmented training copies.
    """
    from hearbench.executors import (
        EmbedderSpec,
        Job,
        JobOutcome,
        RunSettings,
        outcome_line,
        run_local,
        summarise,
    )
    from hearbench.probes import split_probe_options
    from hearbench.robustness import prepare_run, split_augment_options

    check_probes(probes)
    augment_options, own_options = split_augment_options(parse_options(probe_options))
    split_probe_options(probes, own_options)
    weights_of = weights_by_embedder(embedder_names, weights)
    paths = list(task_paths)
    if suite is not None:
        from hearbench.tasks.cards import find_suite_tasks

        if tasks_dir is None:
            raise HearbenchError("--suite needs --tasks-dir")
        found, missing = find_suite_tasks(suite, Path(tasks_dir))
        if missing:
            click.echo(f"suite {suite}: missing under {tasks_dir}: {', '.join(missing)}", err=True)
        paths.extend(str(p) for p in found.values())
    if not paths:
        raise HearbenchError("no task given: use --task DIR or --suite NAME --tasks-dir DIR")
    conditions, augmentation = None, None
    if robustness or dirs or noise_dir or snrs or max_conditions or augment_options:
        from hearbench.tasks.format import load_task

        if executor != "local":
            raise HearbenchError("--robustness and dir_augment_* options run with --executor local")
        conditions, augmentation = prepare_run(
            robustness, dirs, noise_dir, snrs, level, max_conditions, augment_options, seed,
            [load_task(p) for p in paths],
        )
    base_options = parse_options(options)
    variants = [base_options]
    if sweep is not None:
        key, _, values = sweep.partition("=")
        if not values:
            raise HearbenchError(f"--sweep {sweep!r}: expected KEY=V1;V2;...")
        variants = [{**base_options, **parse_options([f"{key}={v}"])} for v in values.split(";")]
    specs = [
        EmbedderSpec(name, weights_of[name], variant, not random_weights)
        for name in embedder_names
        for variant in variants
    ]
    jobs = [Job(spec, path, probe) for spec in specs for path in paths for probe in probes]
    settings = RunSettings(
        out_dir=out_dir,
        cache_dir=cache_dir,
        seed=seed,
        probe_options=own_options,
        with_complexity=not no_complexity,
        resume=not no_resume,
        robustness=conditions,
        augment=augmentation,
    )
    def announce(outcome: JobOutcome) -> None:
        from tqdm.auto import tqdm

        tqdm.write(outcome_line(outcome))

    if executor == "ray":
        from hearbench.ray_executor import run_ray

        outcomes = run_ray(jobs, settings, address=address, on_outcome=announce)
    else:
        outcomes = run_local(jobs, settings, on_outcome=announce)
    click.echo(summarise(outcomes, lines=False))
    if not all(o.ok for o in outcomes):
        sys.exit(1)


@main.command()
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


@main.command()
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
        model = _create(embedder, weights, options, random_weights)
    except HearbenchError as exc:
        if weights or random_weights:
            raise
        try:
            model = _create(embedder, (), options, True)
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


@main.command()
@click.option("--quick", "level", flag_value="quick", help="Smoke run (a minute or two).")
@click.option("--default", "level", flag_value="default", help="The default level (about ten minutes).")
@click.option("--full", "level", flag_value="full", help="Every embedder on 10 s and 120 s, full MLP schedule.")
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(["windows", "modes", "mlp-grid", "gflops", "suite"]),
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
@click.option("--suite-embedder", default="baseline", show_default=True)
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


@main.group()
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


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="demo-out", show_default=True)
@friendly
def demo(out_dir: str) -> None:
    """Baseline vs pretrained mn04_as (layers, hops) on synthetic tasks: results, table, plots."""
    from hearbench.demo import demo_summary, run_demo

    written = run_demo(Path(out_dir), echo=click.echo)
    click.echo(demo_summary(written).rstrip("\n"))


main.add_command(export_group)
main.add_command(import_group)
main.add_command(results_group)

if __name__ == "__main__":
    main()
