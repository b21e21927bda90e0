"""k-nearest-neighbour probe: cosine similarity on L2-normalised embeddings.

Probabilities are the (similarity-unweighted) label frequencies among the ``k`` nearest
training items; the protocol searches ``k`` on validation.
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

K_GRID = [1, 5, 10, 20, 50]
BLOCK = 4096


def _normalise(X: np.ndarray) -> np.ndarray:
    X = X.astype(np.float32)
    return X / (np.linalg.norm(X, axis=1, keepdims=True) + 1e-12)


@dataclass
class KNNProbe(Probe):
    """Cosine k-NN over the training embeddings."""

    name: ClassVar[str] = "knn"
    OPTIONS: ClassVar[OptionSet] = OptionSet(
        "knn",
        (Option("k", "int", K_GRID, "neighbour counts searched on validation", minimum=1, grid=True),),
    )
    k: int = 10
    train_X_: np.ndarray | None = field(default=None, init=False, repr=False)
    train_Y_: np.ndarray | None = field(default=None, init=False, repr=False)

    @classmethod
    def param_grid(cls, **protocol: Any) -> list[dict[str, Any]]:
        grid = protocol.get("k", K_GRID)
        return [{"k": int(v)} for v in (grid if isinstance(grid, list) else [grid])]

    def fit(
        self,
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        progress: FitProgress = NO_PROGRESS,
    ) -> KNNProbe:
        if self.k < 1:
            raise HearbenchError(f"knn: k must be at least 1, got {self.k}")
        self.train_X_ = _normalise(train.X)
        self.train_Y_ = train.Y.astype(np.float32)
        score, info = objective.evaluate(self.predict_proba(valid))
        self.valid_score_, self.valid_info_ = float(score), dict(info)
        progress.check(0, self.valid_score_)
        return self

    def head_forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Neighbour label frequencies; the stored training set is data, not parameters."""
        if self.train_X_ is None or self.train_Y_ is None:
            raise HearbenchError("knn: call fit before head_forward")
        k = min(self.k, self.train_X_.shape[0])
        x = frames.float()
        x = x / (torch.linalg.vector_norm(x, dim=1, keepdim=True) + 1e-12)
        nearest = (x @ torch.from_numpy(self.train_X_).T).topk(k, dim=1).indices
        return torch.from_numpy(self.train_Y_)[nearest].mean(dim=1)

    def predict_proba(self, data: ProbeData) -> np.ndarray:
        if self.train_X_ is None or self.train_Y_ is None:
            raise HearbenchError("knn: call fit before predict_proba")
        k = min(self.k, self.train_X_.shape[0])
        X = _normalise(data.X)
        out = np.empty((X.shape[0], self.train_Y_.shape[1]), dtype=np.float32)
        for start in range(0, X.shape[0], BLOCK):
            sims = X[start : start + BLOCK] @ self.train_X_.T
            nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            out[start : start + BLOCK] = self.train_Y_[nearest].mean(axis=1)
        return out
