"""Run heareval 2021.1.3's own predictions runner on a heareval embeddings folder.

heareval (``heareval.predictions.runner``) trains its probe on what
:func:`hearbench.interop.heareval.write_embeddings` wrote and leaves its predictions and
``test.predicted-scores.json`` in the folder. Three shims let it run beside today's libraries,
none touching its arithmetic: ``numpy.Inf`` (removed in NumPy 2, read by Lightning 1.9),
``torch.load`` of its own checkpoints without ``weights_only``, and the epoch of its test-time
post-processing lookup (it sets ``trainer.fit_loop.current_epoch``, which Lightning 1.9 no
longer reads). Needs the ``parity`` extra and ``heareval`` installed with ``--no-deps``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from hearbench.api import HearbenchError

MODULE = "heareval.predictions.task_predictions"


def import_heareval() -> ModuleType:
    """heareval's ``task_predictions`` module (with the ``numpy.Inf`` shim in place).

    Raises:
        HearbenchError: heareval or one of its dependencies cannot be imported; the message
            names the module.
    """
    if not hasattr(np, "Inf"):
        np.Inf = np.inf  # type: ignore[attr-defined]
    try:
        return importlib.import_module(MODULE)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or MODULE
        raise HearbenchError(f"heareval 2021.1.3 cannot be imported: module {missing!r} is missing") from exc


@contextlib.contextmanager
def _working_dir(path: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_heareval(
    folder: str | Path,
    grid_points: int,
    overrides: Mapping[str, Sequence[Any]] | None = None,
    work_dir: str | Path | None = None,
) -> None:
    """heareval's predictions runner on ``folder`` for its first ``grid_points`` grid points.

    Args:
        folder: A heareval embeddings folder.
        grid_points: Points of heareval's shuffled grid to search.
        overrides: Values replacing entries of heareval's ``PARAM_GRID`` (lists of values;
            ``initialization`` by torch init name, e.g. ``["xavier_normal"]``).
        work_dir: Where heareval writes its logs and checkpoints (default: ``folder``'s parent).
    """
    tp: Any = import_heareval()
    runner = importlib.import_module("heareval.predictions.runner")
    root = Path(folder).resolve()
    grid = dict(tp.PARAM_GRID)
    for key, values in (overrides or {}).items():
        if key not in grid:
            raise HearbenchError(f"heareval grid: no parameter {key!r}; choose from {', '.join(grid)}")
        grid[key] = [getattr(torch.nn.init, f"{v}_") for v in values] if key == "initialization" else list(values)
    original_test = tp.task_predictions_test

    def test_at_checkpoint_epoch(embedding_path: Path, grid_point: Any, *args: Any, **kwargs: Any) -> Any:
        grid_point.trainer.fit_loop.epoch_progress.current.completed = grid_point.epoch
        return original_test(embedding_path, grid_point, *args, **kwargs)

    saved = (tp.PARAM_GRID, tp.task_predictions_test)
    deterministic = torch.are_deterministic_algorithms_enabled()
    threads = torch.get_num_threads()
    env = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    for name in ("lightning", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    tp.PARAM_GRID, tp.task_predictions_test = grid, test_at_checkpoint_epoch
    try:
        with _working_dir(Path(work_dir).resolve() if work_dir is not None else root.parent):
            runner.runner.main([str(root), "--grid-points", str(grid_points)], standalone_mode=False)
    finally:
        # Lightning's deterministic=True switches torch's deterministic algorithms on for good
        tp.PARAM_GRID, tp.task_predictions_test = saved
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
        if env is None:
            os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = env
