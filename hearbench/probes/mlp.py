"""The heareval MLP probe and its grid, faithful to the HEAR 2021 protocol.

Network: ``hidden_layers`` × (Linear(``hidden_dim``) → BatchNorm1d → Dropout(0.1) → ReLU) →
Linear(n_labels); weights initialised with ``xavier_uniform_`` or ``xavier_normal_`` at the
gain of the preceding activation (linear, then ReLU). Adam at ``lr``, batch 1024, up to 500
epochs, the validation objective checked every 3 epochs, early stopping after 20 checks
without strict improvement, the best checkpoint kept. Training batches are shuffled only for
``trainvaltest`` tasks, as heareval's data loader does (``shuffle_train``).

The grid is heareval's: hidden_layers {1, 2} × lr {3.2e-3, 1e-3, 3.2e-4, 1e-4} × init
{xavier_uniform, xavier_normal}, enumerated as scikit-learn's ``ParameterGrid`` does (sorted
keys, last varying fastest), shuffled with Python's ``random`` seeded 42, first 8 kept.

Two ways to search the grid, with the same results in float32 (the protocol):
:meth:`MLPProbe.fit_grid` (the default, used by :func:`hearbench.protocol.search_and_train`)
trains the points of one architecture together as one stacked network
(:mod:`hearbench.probes.mlp_grid`); with the probe option ``sequential=True`` every point is
fitted on its own by :meth:`MLPProbe.fit`, heareval's loop as written.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from hearbench.api import HearbenchError
from hearbench.options import OptionSet
from hearbench.probes.base import Objective, Probe, ProbeData
from hearbench.probes.mlp_options import mlp_option_set
from hearbench.probes.torch_utils import (
    as_tensor,
    check_precision,
    logit_loss,
    matmul_precision,
    output_activation,
)

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

INITIALIZERS = {
    "xavier_uniform": torch.nn.init.xavier_uniform_,
    "xavier_normal": torch.nn.init.xavier_normal_,
}


def parameter_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination, keys sorted and the last key varying fastest (as ParameterGrid)."""
    keys = sorted(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def hear_grid_points(
    overrides: dict[str, list[Any]] | None = None, points: int = GRID_POINTS, seed: int = GRID_SEED
) -> list[dict[str, Any]]:
    """heareval's sampled grid: the full grid shuffled with ``random.Random(seed)``, first ``points``."""
    grid = {**HEAR_GRID, **(overrides or {})}
    confs = parameter_grid(grid)
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
    """The heareval prediction network (without its output activation)."""
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


@dataclass
class MLPProbe(Probe):
    """heareval's MLP probe (see module docstring).

    ``sequential`` only affects :meth:`fit_grid`: ``True`` fits the grid points one after the
    other instead of together (``--probe-option sequential=true`` on the command line).
    ``precision="bfloat16"`` (``--probe-option precision=bfloat16``) is a faster, non-default
    variant of the protocol: the stacked grid computes the network in bfloat16 with its own
    dropout stream and fused Adam (:mod:`hearbench.probes.mlp_grid`); a single :meth:`fit`
    runs its matrix products under CPU autocast
    (:func:`~hearbench.probes.torch_utils.matmul_precision`). Scores differ from float32 by
    training noise, and results record the choice.
    """

    name: ClassVar[str] = "mlp"
    OPTIONS: ClassVar[OptionSet] = mlp_option_set(HEAR_GRID, GRID_POINTS, INITIALIZERS)
    hidden_layers: int = 1
    hidden_dim: int = 1024
    dropout: float = 0.1
    lr: float = 1e-3
    initialization: str = "xavier_uniform"
    batch_size: int = 1024
    max_epochs: int = 500
    check_val_every_n_epoch: int = 3
    patience: int = 20
    shuffle_train: bool = True
    sequential: bool = False
    precision: str = "float32"
    model_: torch.nn.Sequential | None = field(default=None, init=False, repr=False)
    best_epoch_: int = field(default=-1, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.initialization not in INITIALIZERS:
            raise HearbenchError(
                f"mlp: initialization must be one of {', '.join(INITIALIZERS)}, got {self.initialization!r}"
            )
        check_precision("mlp", self.precision)

    @classmethod
    def param_grid(cls, **protocol: Any) -> list[dict[str, Any]]:
        """heareval's 8 sampled grid points; ``protocol`` may override grid lists or ``points``."""
        points = int(protocol.pop("points", GRID_POINTS))
        overrides = {k: v if isinstance(v, list) else [v] for k, v in protocol.items()}
        return hear_grid_points(overrides, points)

    @classmethod
    def fit_grid(
        cls,
        points: Sequence[Mapping[str, Any]],
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        fixed: Mapping[str, Any],
    ) -> list[MLPProbe]:
        """One fitted probe per grid point (``MLPProbe(**fixed, **point)``), in order.

        Points that share an architecture are trained together
        (:func:`hearbench.probes.mlp_grid.fit_mlp_probes`); each returned probe is what its own
        :meth:`fit` gives, up to float rounding. With ``sequential=True`` in ``fixed`` or a
        point, every probe is fitted by :meth:`fit` instead.
        """
        probes = [cls(**{**fixed, **point}) for point in points]
        if any(probe.sequential for probe in probes):
            return [probe.fit(train, valid, objective) for probe in probes]
        from hearbench.probes.mlp_grid import fit_mlp_probes

        return fit_mlp_probes(probes, train, valid, objective)

    def fit(self, train: ProbeData, valid: ProbeData, objective: Objective) -> MLPProbe:
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        X, Y = as_tensor(train.X), as_tensor(train.Y)
        model = build_mlp(
            X.shape[1],
            Y.shape[1],
            self.hidden_layers,
            self.hidden_dim,
            self.dropout,
            self.initialization,
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        best_score, best_state, best_info, best_epoch = objective.worst(), None, {}, -1
        checks_without_gain = 0
        n = X.shape[0]
        for epoch in range(self.max_epochs):
            model.train()
            order = torch.randperm(n, generator=generator) if self.shuffle_train else torch.arange(n)
            for start in range(0, n, self.batch_size):
                index = order[start : start + self.batch_size]
                if index.numel() < 2 and self.hidden_layers > 0:
                    continue
                optimizer.zero_grad(set_to_none=True)
                with matmul_precision(self.precision):
                    logits = model(X[index])
                loss = logit_loss(logits.float(), Y[index], self.prediction_type)
                loss.backward()
                optimizer.step()
            if (epoch + 1) % self.check_val_every_n_epoch:
                continue
            self.model_ = model
            score, info = objective.evaluate(self.predict_proba(valid))
            if best_state is None or objective.improves(score, best_score):
                best_score = score if not math.isnan(score) else best_score
                best_state, best_info, best_epoch = (
                    copy.deepcopy(model.state_dict()),
                    dict(info),
                    epoch,
                )
                checks_without_gain = 0
            else:
                checks_without_gain += 1
                if checks_without_gain >= self.patience:
                    break
        if best_state is None:
            raise HearbenchError(
                "mlp: max_epochs is smaller than check_val_every_n_epoch; nothing was validated"
            )
        model.load_state_dict(best_state)
        self.model_ = model
        self.valid_score_, self.valid_info_, self.best_epoch_ = (
            float(best_score),
            best_info,
            best_epoch,
        )
        return self

    def predict_proba(self, data: ProbeData) -> np.ndarray:
        if self.model_ is None:
            raise HearbenchError("mlp: call fit before predict_proba")
        self.model_.eval()
        outputs = []
        with torch.inference_mode(), matmul_precision(self.precision):
            X = as_tensor(data.X)
            for start in range(0, X.shape[0], 8192):
                logits = self.model_(X[start : start + 8192]).float()
                outputs.append(output_activation(logits, self.prediction_type))
        if not outputs:
            return np.zeros((0, 0), dtype=np.float32)
        return torch.cat(outputs).numpy()
