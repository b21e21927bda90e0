"""Provenance of a run: versions, git commit, seed and time."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

import hearbench


def git_commit() -> str | None:
    """The commit of the hearbench checkout in use, or ``None`` for an installed package."""
    root = Path(hearbench.__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(seed: int, task_checksum: str | None = None) -> dict[str, Any]:
    """A JSON-able record of where and how a result was produced.

    ``torch_threads`` is recorded because reductions in torch (the linear probe's L-BFGS, the
    MLP's matrix products) sum in an order that depends on the thread count: the same run on 1
    and 2 threads can differ in the last digits of a score.
    """
    return {
        "hearbench_version": hearbench.__version__,
        "git_commit": git_commit(),
        "seed": seed,
        "task_checksum": task_checksum,
        "time": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
