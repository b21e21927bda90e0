"""``hearbench embed``, ``run`` and ``demo``: embed tasks and evaluate embedders on them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from hearbench.api import HearbenchError
from hearbench.cli_errors import friendly
from hearbench.cli_options import check_probes, embedder_from_flags, embedder_options, weights_by_embedder
from hearbench.options import parse_options


@click.command()
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

    embedder = embedder_from_flags(embedder_name, weights, options, random_weights)
    _, report = embed_task(embedder, load_task(task_path), EmbeddingCache(cache_dir))
    click.echo(f"computed {list(report.computed)}, cached {list(report.cached)} in {report.seconds:.1f} s")


@click.command()
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


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="demo-out", show_default=True)
@friendly
def demo(out_dir: str) -> None:
    """Baseline vs pretrained mn04_as (layers, hops) on synthetic tasks: results, table, plots."""
    from hearbench.demo import demo_summary, run_demo

    written = run_demo(Path(out_dir), echo=click.echo)
    click.echo(demo_summary(written).rstrip("\n"))
