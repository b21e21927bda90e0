"""The declared options of the MLP probe (``--probe-option`` keys of ``mlp``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hearbench.options import Option, OptionSet
from hearbench.probes.torch_utils import PRECISIONS

GRID_MODES = ("plain", "stacked")
"""How a grid is fitted: one point after another (heareval), or points stacked per architecture."""
SEEDINGS = ("task", "point")
"""One random stream per task (heareval) or a fresh seed per grid point."""

_GRID_HELP: dict[str, tuple[str, str, float | None, bool]] = {
    "batch_size": ("int", "training batch size", 1, False),
    "check_val_every_n_epoch": ("int", "epochs between validation checks", 1, False),
    "dropout": ("float", "dropout probability", 0.0, False),
    "hidden_dim": ("int", "width of each hidden layer", 1, False),
    "hidden_layers": ("int", "number of hidden layers", 0, False),
    "lr": ("float", "Adam learning rate", 0.0, True),
    "max_epochs": ("int", "upper bound on training epochs", 1, False),
    "patience": ("int", "validation checks without improvement before stopping", 1, False),
}


def mlp_option_set(
    grid: Mapping[str, list[Any]], points: int, initializers: Iterable[str]
) -> OptionSet:
    """The MLP probe's options: every key of the heareval ``grid``, ``points`` and the variants.

    Args:
        grid: The heareval grid (its lists are the defaults).
        points: Grid points kept by default.
        initializers: Allowed ``initialization`` names.
    """
    options = []
    for key in sorted(grid):
        if key == "initialization":
            options.append(
                Option(key, "str", grid[key], "weight initialisation",
                       choices=tuple(initializers), grid=True)
            )
            continue
        kind, text, minimum, exclusive = _GRID_HELP[key]
        options.append(
            Option(key, kind, grid[key], text, minimum=minimum, exclusive=exclusive, grid=True)
        )
    options += [
        Option("points", "int", points, "grid points kept after heareval's shuffle", minimum=1),
        Option("grid", "str", "plain", "plain: points one by one (heareval); stacked: together",
               choices=GRID_MODES),
        Option("seeding", "str", "task", "task: heareval's one random stream; point: seed per point",
               choices=SEEDINGS),
        Option("shuffle_train", "bool", False, "shuffle training batches (heareval does not)"),
        Option("precision", "str", "float32", "arithmetic of training", choices=PRECISIONS),
    ]
    return OptionSet("mlp", tuple(options))
