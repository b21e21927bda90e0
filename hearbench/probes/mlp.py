"""The heareval MLP probe, faithful to heareval 2021.1.3's training loop.

Network and grid: :mod:`hearbench.probes.mlp_net`. Training, as heareval's Lightning run:
Adam at ``lr``, batches of ``batch_size`` rows in the order the protocol hands them over (never
shuffled: heareval's training loader is sequential for every split mode), the last partial
batch kept (a one-row batch, which BatchNorm cannot train on, is skipped), up to
``max_epochs`` epochs, the validation objective computed every ``check_val_every_n_epoch``
epochs (after epochs ``k - 1, 2k - 1, ...``), early stopping and the best checkpoint as
:mod:`hearbench.probes.stopping` describes.

Random streams (``seeding="task"``, the default): the protocol seeds Python, NumPy and torch
once per task with ``seed`` (heareval's ``seed_everything(42)``) and every fit continues torch's
global stream in heareval's order: the layers' initialisation, the random batch of heareval's
model summary, one 64-bit draw per data-loader iteration (each training epoch and each
validation check) and the dropout masks. So a grid point's result depends on the points fitted
before it, exactly as in heareval. ``seeding="point"`` seeds torch with ``seed`` at the start of
every fit instead (each point reproducible on its own, no summary or loader draws).

Named variants (``--probe-option KEY=VALUE``), none of them the protocol:

* ``grid=stacked`` trains the grid points of one architecture together as one stacked network
  (:mod:`hearbench.probes.mlp_grid`), each point seeded on its own (it implies
  ``seeding=point``, also for the winner's fits on the other splits);
* ``precision=bfloat16`` runs the matrix products in bfloat16 (stacked: the whole network);
* ``shuffle_train=true`` reshuffles the training rows every epoch (generator seeded ``seed``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from hearbench.api import HearbenchError
from hearbench.options import OptionSet
from hearbench.probes.base import Objective, Probe, ProbeData
from hearbench.probes.mlp_net import (
    GRID_POINTS,
    HEAR_GRID,
    INITIALIZERS,
    SUMMARY_BATCH,
    build_spec_mlp,
    hear_grid_points,
)
from hearbench.probes.mlp_options import GRID_MODES, SEEDINGS, mlp_option_set
from hearbench.probes.progress import NO_PROGRESS, FitProgress
from hearbench.probes.stopping import EarlyStopping
from hearbench.probes.torch_utils import (
    as_tensor,
    check_precision,
    draw_loader_seed,
    loss_targets,
    matmul_precision,
    output_activation,
    prepared_loss,
)


@dataclass
class MLPProbe(Probe):
    """heareval's MLP probe (see module docstring)."""

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
    shuffle_train: bool = False
    grid: str = "plain"
    seeding: str = "task"
    precision: str = "float32"
    model_: torch.nn.Sequential | None = field(default=None, init=False, repr=False)
    best_epoch_: int = field(default=-1, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        for key, allowed in (
            ("initialization", tuple(INITIALIZERS)),
            ("grid", GRID_MODES),
            ("seeding", SEEDINGS),
        ):
            if getattr(self, key) not in allowed:
                raise HearbenchError(
                    f"mlp: {key} must be one of {', '.join(allowed)}, got {getattr(self, key)!r}"
                )
        check_precision("mlp", self.precision)
        if self.max_epochs < self.check_val_every_n_epoch:
            raise HearbenchError(
                "mlp: max_epochs is smaller than check_val_every_n_epoch; nothing would be validated"
            )

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
        progress: FitProgress = NO_PROGRESS,
    ) -> list[MLPProbe]:
        """One fitted probe per grid point (``MLPProbe(**fixed, **point)``), in order.

        The plain loop fits the points one after the other (heareval); with ``grid=stacked``
        the points that share an architecture train together
        (:func:`hearbench.probes.mlp_grid.fit_stacked`). ``progress`` hears every validation
        check and every finished point (:mod:`hearbench.probes.progress`).
        """
        probes = [cls(**{**fixed, **point}) for point in points]
        if all(probe.grid == "plain" for probe in probes):
            for index, probe in enumerate(probes):
                probe.fit(train, valid, objective, progress)
                progress.point_done(index, probe.valid_score_)
            return probes
        from hearbench.probes.mlp_grid import fit_stacked

        fit_stacked(probes, train, valid, objective, progress)
        return probes

    def fit(
        self,
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        progress: FitProgress = NO_PROGRESS,
    ) -> MLPProbe:
        heareval_draws = self.seeding == "task" and self.grid == "plain"
        if not heareval_draws:
            torch.manual_seed(self.seed)
        shuffler = torch.Generator().manual_seed(self.seed)
        X, Y = as_tensor(train.X), as_tensor(train.Y)
        model = build_spec_mlp(self, X.shape[1], Y.shape[1])
        if heareval_draws:
            torch.rand(SUMMARY_BATCH, X.shape[1])
        # foreach: one kernel per update step over all tensors; on the CPU it computes what the
        # default per-tensor loop computes, bit for bit (tests/test_probe_speed.py)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, foreach=True)
        targets = loss_targets(Y, self.prediction_type)
        stopping: EarlyStopping[dict[str, torch.Tensor]] = EarlyStopping(objective, self.patience)
        n = X.shape[0]
        for epoch in range(self.max_epochs):
            if heareval_draws:
                draw_loader_seed()
            model.train()
            order = torch.randperm(n, generator=shuffler) if self.shuffle_train else None
            for start in range(0, n, self.batch_size):
                stop = min(start + self.batch_size, n)
                if stop - start < 2 and self.hidden_layers > 0:
                    continue
                rows = slice(start, stop) if order is None else order[start:stop]
                optimizer.zero_grad(set_to_none=True)
                with matmul_precision(self.precision):
                    logits = model(X[rows])
                loss = prepared_loss(logits.float(), targets[rows], self.prediction_type)
                loss.backward()
                optimizer.step()
            if (epoch + 1) % self.check_val_every_n_epoch:
                continue
            if heareval_draws:
                draw_loader_seed()
            self.model_ = model
            score, info = objective.evaluate(self.predict_proba(valid))
            progress.check(epoch, score)
            if stopping.check(score, info, epoch, lambda: copy.deepcopy(model.state_dict())):
                break
        assert stopping.best_state is not None
        model.load_state_dict(stopping.best_state)
        self.model_ = model.eval()
        self.valid_score_, self.valid_info_, self.best_epoch_ = (
            stopping.best_score,
            stopping.best_info,
            stopping.best_epoch,
        )
        return self

    def head_module(self) -> torch.nn.Sequential:
        if self.model_ is None:
            raise HearbenchError("mlp: call fit before head_module")
        return self.model_

    def head_forward(self, frames: torch.Tensor) -> torch.Tensor:
        model = self.head_module().eval()
        with matmul_precision(self.precision):
            return output_activation(model(frames.float()).float(), self.prediction_type)

    def predict_proba(self, data: ProbeData) -> np.ndarray:
        """Probabilities in evaluation mode, ``batch_size`` rows at a time (as heareval's loaders)."""
        if self.model_ is None:
            raise HearbenchError("mlp: call fit before predict_proba")
        self.model_.eval()
        outputs = []
        with torch.inference_mode(), matmul_precision(self.precision):
            X = as_tensor(data.X)
            for start in range(0, X.shape[0], self.batch_size):
                logits = self.model_(X[start : start + self.batch_size]).float()
                outputs.append(output_activation(logits, self.prediction_type))
        if not outputs:
            return np.zeros((0, 0), dtype=np.float32)
        return torch.cat(outputs).numpy()
