"""heareval's MLP network and hyperparameter grid, shared by the plain and the stacked MLP loops.

Network: ``hidden_layers`` × (Linear(``hidden_dim``) → BatchNorm1d → Dropout → ReLU) →
Linear(n_labels); each Linear is built (PyTorch's own initialisation drawn first) and then
re-initialised with ``xavier_uniform_`` or ``xavier_normal_`` at the gain of the preceding
activation (linear, then ReLU), in that order, as heareval's ``FullyConnectedPrediction``.

Grid: hidden_layers {1, 2} × lr {3.2e-3, 1e-3, 3.2e-4, 1e-4} × init {xavier_uniform,
xavier_normal}, enumerated by scikit-learn's ``ParameterGrid``, shuffled with Python's ``random``
seeded 42 (heareval's ``seed_everything(42)`` then ``random.shuffle``), first 8 kept.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import torch
from sklearn.model_selection import ParameterGrid

HEAR_GRID: dict[str, list[Any]] = {
    "batch_size": [1024],
    "check_val_every_n_epoch": [3],
    "dropout": [0.1],
    "hidden_dim": [1024],
    "hidden_layers": [1, 2],
    "initialization": ["xavier_uniform", "xavier_normal"],
    "lr": [3.2e-3, 1e-3, 3.2e-4, 1e-4],
    "max_epochs": [500],
    "patience": [20],
}
GRID_SEED = 42
GRID_POINTS = 8
SUMMARY_BATCH = 64
"""Rows of the random batch heareval's model summary (``torchinfo``) draws for every network."""

INITIALIZERS = {
    "xavier_uniform": torch.nn.init.xavier_uniform_,
    "xavier_normal": torch.nn.init.xavier_normal_,
}


class MLPSpec(Protocol):
    """The hyperparameters that define one MLP probe's network and schedule."""

    prediction_type: str
    seed: int
    hidden_layers: int
    hidden_dim: int
    dropout: float
    lr: float
    initialization: str
    batch_size: int
    max_epochs: int
    check_val_every_n_epoch: int
    patience: int
    shuffle_train: bool
    precision: str
    model_: torch.nn.Sequential | None
    valid_score_: float
    valid_info_: Mapping[str, Any]
    best_epoch_: int

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as a dict."""
        ...


def parameter_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``grid``, in scikit-learn ``ParameterGrid`` order."""
    return [dict(point) for point in ParameterGrid({k: list(v) for k, v in grid.items()})]


def hear_grid_points(
    overrides: Mapping[str, list[Any]] | None = None, points: int = GRID_POINTS, seed: int = GRID_SEED
) -> list[dict[str, Any]]:
    """heareval's sampled grid: the full grid shuffled with ``random.Random(seed)``, first ``points``."""
    confs = parameter_grid({**HEAR_GRID, **(overrides or {})})
    random.Random(seed).shuffle(confs)
    return confs[: min(points, len(confs))]


def build_mlp(
    n_features: int,
    n_labels: int,
    hidden_layers: int,
    hidden_dim: int,
    dropout: float,
    initialization: str,
) -> torch.nn.Sequential:
    """The heareval prediction network (without its output activation), from the global stream."""
    init = INITIALIZERS[initialization]
    layers: list[torch.nn.Module] = []
    dim = n_features
    activation: Literal["linear", "relu"] = "linear"
    for _ in range(hidden_layers):
        linear = torch.nn.Linear(dim, hidden_dim)
        init(linear.weight, gain=torch.nn.init.calculate_gain(activation))
        layers += [
            linear,
            torch.nn.BatchNorm1d(hidden_dim),
            torch.nn.Dropout(dropout),
            torch.nn.ReLU(),
        ]
        dim, activation = hidden_dim, "relu"
    projection = torch.nn.Linear(dim, n_labels)
    init(projection.weight, gain=torch.nn.init.calculate_gain(activation))
    layers.append(projection)
    return torch.nn.Sequential(*layers)


def build_spec_mlp(spec: MLPSpec, n_features: int, n_labels: int) -> torch.nn.Sequential:
    """:func:`build_mlp` for the hyperparameters of ``spec``."""
    return build_mlp(
        n_features, n_labels, spec.hidden_layers, spec.hidden_dim, spec.dropout, spec.initialization
    )
