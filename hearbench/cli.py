"""The ``hearbench`` command line: each command a thin wrapper over a library function."""

from __future__ import annotations

import logging

import click

from hearbench.cli_errors import debugging
from hearbench.cli_heareval import export_group, import_group
from hearbench.cli_inspect import cache, check, list_cmd
from hearbench.cli_options import check_probes, embedder_options, weights_by_embedder
from hearbench.cli_report import bench, complexity, report
from hearbench.cli_results import results_group
from hearbench.cli_run import demo, embed, run
from hearbench.cli_tasks import tasks

__all__ = ["check_probes", "embedder_options", "main", "weights_by_embedder"]


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


for command in (list_cmd, check, tasks, embed, run, report, complexity, bench, cache, demo):
    main.add_command(command)
for group in (export_group, import_group, results_group):
    main.add_command(group)

if __name__ == "__main__":
    main()
