"""Probes: shallow models trained on frozen embeddings, as scikit-learn-style estimators.

A probe takes its hyperparameters in ``__init__``; ``fit`` learns from training data, selects
its checkpoint on the validation :class:`Objective` (the task's primary metric) and returns
``self``; learned state carries a trailing underscore; ``predict_proba`` gives per-label
probabilities (softmax for multiclass, sigmoid for multilabel). ``param_grid`` lists the
hyperparameter settings the protocol searches. ``OPTIONS`` declares the keys ``param_grid``
accepts (:class:`~hearbench.options.OptionSet`); :func:`hearbench.probes.resolve_probe_options`
validates them before any work starts.

For its cost (:mod:`hearbench.complexity.head`), a fitted probe exposes ``head_module`` (the
trained network, whose parameters are the head's) and ``head_forward`` (the computation
``predict_proba`` runs on one clip's frames, in torch, so that its multiply-accumulates can be
traced like an embedder's).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hearbench.api import HearbenchError
from hearbench.options import OptionSet
from hearbench.probes.progress import NO_PROGRESS, FitProgress

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ProbeData:
    """Embeddings and multi-hot targets; ``offsets`` marks clip boundaries of frame data."""

    X: np.ndarray
    Y: np.ndarray
    offsets: np.ndarray | None = None


@dataclass(frozen=True)
class Objective:
    """The validation criterion: a score of validation probabilities, and its direction.

    ``evaluate`` returns ``(score, info)``; ``info`` carries choices made while scoring (the
    event post-processing, say) that the test predictions must reuse.
    """

    evaluate: Callable[[np.ndarray], tuple[float, Mapping[str, Any]]]
    higher_is_better: bool = True
    name: str = "score"

    def worst(self) -> float:
        """A score every real score beats."""
        return -math.inf if self.higher_is_better else math.inf

    def improves(self, new: float, best: float) -> bool:
        """Strict improvement (heareval's early stopping uses ``min_delta=0``); NaN never improves."""
        if math.isnan(new):
            return False
        return new > best if self.higher_is_better else new < best


@dataclass
class Probe(abc.ABC):
    """Base class of probes.

    Attributes:
        prediction_type: ``"multiclass"`` or ``"multilabel"``.
        seed: Seed of every random choice made by ``fit``.
    """

    name: ClassVar[str] = "probe"
    #: The options the probe takes (``--probe-option``), declared once.
    OPTIONS: ClassVar[OptionSet] = OptionSet("probe", ())
    prediction_type: str = "multiclass"
    seed: int = 42
    valid_score_: float = field(default=math.nan, init=False)
    valid_info_: Mapping[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.prediction_type not in ("multiclass", "multilabel"):
            raise HearbenchError(
                f"prediction_type must be multiclass or multilabel, got {self.prediction_type!r}"
            )

    @classmethod
    @abc.abstractmethod
    def param_grid(cls, **protocol: Any) -> list[dict[str, Any]]:
        """Hyperparameter settings the protocol searches, in search order."""

    @classmethod
    def fit_grid(
        cls,
        points: Sequence[Mapping[str, Any]],
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        fixed: Mapping[str, Any],
        progress: FitProgress = NO_PROGRESS,
    ) -> Sequence[Probe]:
        """One fitted probe per grid point (``cls(**fixed, **point)``), fitted in order."""
        fitted: list[Probe] = []
        for index, point in enumerate(points):
            fitted.append(cls(**{**fixed, **point}).fit(train, valid, objective, progress))
            progress.point_done(index, fitted[-1].valid_score_)
        return fitted

    @abc.abstractmethod
    def fit(
        self,
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        progress: FitProgress = NO_PROGRESS,
    ) -> Probe:
        """Train, select on ``objective`` over ``valid``, reporting each validation check to
        ``progress``; returns ``self``."""

    @abc.abstractmethod
    def predict_proba(self, data: ProbeData) -> np.ndarray:
        """Per-label probabilities ``(n, C)``."""

    def head_module(self) -> torch.nn.Module | None:
        """The trained network whose parameters are the head's; ``None`` when it learns none."""
        return None

    @abc.abstractmethod
    def head_forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Scores of one clip's frames ``(T, D)`` (or of one scene embedding, ``T = 1``),
        computed as :meth:`predict_proba` computes them, in torch, for tracing the head's cost."""

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters (the ``__init__`` fields), JSON-able."""
        out = {}
        for key, value in self.__dict__.items():
            if not key.endswith("_") and not key.startswith("_"):
                out[key] = (
                    value
                    if isinstance(value, int | float | str | bool | type(None))
                    else str(value)
                )
        return out
