"""Early stopping and best-checkpoint tracking, as heareval's Lightning callbacks do it.

heareval monitors the validation score with ``ModelCheckpoint`` and ``EarlyStopping``
(``min_delta=0``) in the metric's direction. Lightning logs the score as a float32 tensor, so
scores are compared after rounding to float32; a check improves only when strictly better; the
first check always becomes the best checkpoint; ``patience`` checks in a row without improvement
stop training; a non-finite score stops training at once (``check_finite``; the sequence probe,
which heareval does not have, turns this off so that a first check with no predicted events does
not end its training), and a NaN never becomes the best unless it is the first check (then it
counts as the worst score).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from hearbench.probes.base import Objective

S = TypeVar("S")


def logged_score(score: float) -> float:
    """``score`` as Lightning logs and compares it (rounded to float32)."""
    return float(np.float32(score))


@dataclass
class EarlyStopping(Generic[S]):
    """The state of one training run's validation checks.

    Attributes:
        objective: The validation objective (gives the direction).
        patience: Checks without strict improvement that stop training.
        stop_on_non_finite: A NaN or infinite score stops training at once.
    """

    objective: Objective
    patience: int
    stop_on_non_finite: bool = True
    best_score: float = field(init=False)
    best_state: S | None = field(default=None, init=False)
    best_info: Mapping[str, Any] = field(default_factory=dict, init=False)
    best_epoch: int = field(default=-1, init=False)
    waiting: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.best_score = self.objective.worst()

    def check(self, score: float, info: Mapping[str, Any], epoch: int, state: Callable[[], S]) -> bool:
        """Record one validation check; ``state()`` is called for a new best. True means stop."""
        value = logged_score(score)
        first = self.best_state is None
        if first or self.objective.improves(value, self.best_score):
            self.best_score = value if not math.isnan(value) else self.objective.worst()
            self.best_state, self.best_info, self.best_epoch = state(), dict(info), epoch
            self.waiting = 0
        else:
            self.waiting += 1
        if self.stop_on_non_finite and not math.isfinite(value):
            return True
        return self.waiting >= self.patience
