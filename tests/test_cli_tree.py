"""The command tree: every command and subcommand with its options, in declaration order."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from hearbench.cli import main

# Command path -> its parameters (options by their flags, arguments by their metavar).
TREE: dict[str, tuple[str, ...]] = {
    "": ("-v/--verbose", "--debug", "--version"),
    "bench": (
        "--quick", "--default", "--full", "--section", "--threads", "--device", "--weights-dir", "--fsdd",
        "--scores", "--suite-dir", "--suite-embedder", "--work-dir", "--repeats", "--json",
    ),
    "cache": (),
    "cache prune": ("--cache",),
    "cache verify": ("--cache",),
    "check": ("EMBEDDER", "--weights", "--option", "--random-weights", "--long-seconds", "--check"),
    "complexity": ("EMBEDDER", "--weights", "--option", "--random-weights", "--seconds", "--json"),
    "demo": ("--out",),
    "embed": ("--embedder", "--weights", "--option", "--random-weights", "--task", "--cache"),
    "export": (),
    "export heareval": ("--embedder", "--weights", "--option", "--random-weights", "--task", "--out", "--cache"),
    "import": (),
    "import heareval": ("FOLDER", "--probe", "--probe-option", "--seed", "--json"),
    "list": ("WHAT",),
    "report": (
        "RESULTS_DIR", "--out", "--format", "--x", "--with-published", "--n-boot", "--no-stats",
        "--aggregate-over", "--impute", "--budget",
    ),
    "results": (),
    "results compare": ("DIRS", "--with-published", "--format", "--metric"),
    "results list": ("DIRS", "--with-published", "--format"),
    "results prune": ("RESULTS_DIR",),
    "results show": ("DIRS", "--with-published", "--format", "--embedder", "--task", "--all-metrics"),
    "run": (
        "--embedder", "--weights", "--option", "--random-weights", "--task", "--suite", "--tasks-dir", "--probe",
        "--probe-option", "--sweep", "--out", "--cache", "--executor", "--address", "--seed", "--no-complexity",
        "--no-resume", "--robustness", "--dirs", "--noise", "--snr", "--level", "--max-conditions",
    ),
    "tasks": (),
    "tasks build": ("NAME", "--source", "--out", "--sample-rate", "--overwrite"),
    "tasks fetch": ("NAME", "--out", "--sha256", "--max-extract-bytes"),
    "tasks validate": ("PATH",),
}


def _tree(command: click.Command, path: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    params = tuple(
        "/".join([*p.opts, *p.secondary_opts]) if isinstance(p, click.Option) else (p.name or "").upper()
        for p in command.params
    )
    out = {" ".join(path): params}
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            out.update(_tree(command.commands[name], (*path, name)))
    return out


def test_command_tree_is_unchanged() -> None:
    assert _tree(main) == TREE


@pytest.mark.parametrize("path", sorted(TREE))
def test_every_command_has_help(path: str) -> None:
    result = CliRunner().invoke(main, [*path.split(), "--help"], prog_name="hearbench")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: hearbench {path}".rstrip())


def test_module_entry_point_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hearbench.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {path for path in TREE if path and " " not in path}
