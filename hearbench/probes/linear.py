"""Linear probe: L2-regularised logistic regression, the L2 strength chosen on validation.

Softmax regression (multiclass) or one sigmoid per label (multilabel) on standardised
embeddings (mean and std of the training set), fitted full-batch with L-BFGS to convergence.
The protocol searches ``l2`` over a log grid and keeps the value with the best validation
objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from hearbench.api import HearbenchError
from hearbench.options import Option, OptionSet
from hearbench.probes.base import Objective, Probe, ProbeData
from hearbench.probes.progress import NO_PROGRESS, FitProgress
from hearbench.probes.torch_utils import logit_loss, output_activation

L2_GRID = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]


@dataclass
class LinearProbe(Probe):
    """Logistic regression with L2 penalty ``l2`` (see module docstring)."""

    name: ClassVar[str] = "linear"
    OPTIONS: ClassVar[OptionSet] = OptionSet(
        "linear",
        (Option("l2", "float", L2_GRID, "L2 strengths searched on validation", minimum=0.0, grid=True),),
    )
    l2: float = 1e-3
    max_iter: int = 200
    weight_: np.ndarray | None = field(default=None, init=False, repr=False)
    bias_: np.ndarray | None = field(default=None, init=False, repr=False)
    mean_: np.ndarray | None = field(default=None, init=False, repr=False)
    scale_: np.ndarray | None = field(default=None, init=False, repr=False)

    @classmethod
    def param_grid(cls, **protocol: Any) -> list[dict[str, Any]]:
        grid = protocol.get("l2", L2_GRID)
        return [{"l2": float(v)} for v in (grid if isinstance(grid, list) else [grid])]

    def fit(
        self,
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        progress: FitProgress = NO_PROGRESS,
    ) -> LinearProbe:
        torch.manual_seed(self.seed)
        X = train.X.astype(np.float64)
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-8
        Xs = torch.from_numpy((X - self.mean_) / self.scale_)
        Y = torch.from_numpy(train.Y.astype(np.float64))
        weight = torch.zeros(Xs.shape[1], Y.shape[1], dtype=torch.float64, requires_grad=True)
        bias = torch.zeros(Y.shape[1], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [weight, bias],
            lr=1.0,
            max_iter=self.max_iter,
            tolerance_grad=1e-7,
            tolerance_change=1e-10,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = logit_loss(Xs @ weight + bias, Y, self.prediction_type)
            loss = loss + 0.5 * self.l2 * (weight**2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        self.weight_ = weight.detach().numpy()
        self.bias_ = bias.detach().numpy()
        score, info = objective.evaluate(self.predict_proba(valid))
        self.valid_score_, self.valid_info_ = float(score), dict(info)
        progress.check(0, self.valid_score_)
        return self

    def head_module(self) -> torch.nn.Linear:
        """The fitted logistic regression as a ``Linear(D, C)`` (float64, as it is fitted)."""
        if self.weight_ is None or self.bias_ is None:
            raise HearbenchError("linear: call fit before head_module")
        n_features, n_labels = self.weight_.shape
        layer = torch.nn.Linear(n_features, n_labels, dtype=torch.float64)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(self.weight_.T))
            layer.bias.copy_(torch.from_numpy(self.bias_))
        return layer

    def head_forward(self, frames: torch.Tensor) -> torch.Tensor:
        if self.mean_ is None or self.scale_ is None:
            raise HearbenchError("linear: call fit before head_forward")
        x = (frames.double() - torch.from_numpy(self.mean_)) / torch.from_numpy(self.scale_)
        return output_activation(self.head_module()(x), self.prediction_type)

    def predict_proba(self, data: ProbeData) -> np.ndarray:
        if self.weight_ is None or self.bias_ is None or self.mean_ is None or self.scale_ is None:
            raise HearbenchError("linear: call fit before predict_proba")
        X = (data.X.astype(np.float64) - self.mean_) / self.scale_
        logits = torch.from_numpy(X @ self.weight_ + self.bias_)
        return output_activation(logits, self.prediction_type).numpy().astype(np.float32)
