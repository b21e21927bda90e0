"""What a robustness evaluation reports: the clean score against the scores under perturbations.

A probe trained and selected on clean embeddings scores the clean test folds and, with the
same fitted models, every test condition (one device impulse response, one room, one SNR).
From the primary metric's fold means:

* ``clean``: the clean test score;
* ``conditions``: the score under each condition;
* ``unseen_mean`` / ``unseen_worst``: mean and worst over the unseen conditions (worst is the
  minimum for higher-is-better metrics, the maximum otherwise);
* ``drop``: how much worse the unseen mean is than clean (``clean - unseen_mean`` for
  higher-is-better metrics, ``unseen_mean - clean`` otherwise; positive = worse);
* ``relative_drop``: ``drop / |clean|`` (NaN when clean is 0);
* ``dg``: device generalisation, the population standard deviation of the unseen conditions'
  scores (ddof = 0): how unevenly the representation holds up across devices.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hearbench.api import HearbenchError


@dataclass(frozen=True)
class RobustnessSummary:
    """The clean score, the per-condition scores and the figures derived from them."""

    metric: str
    higher_is_better: bool
    clean: float
    conditions: Mapping[str, float]
    unseen: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.unseen:
            raise HearbenchError("a robustness summary needs at least one unseen condition")
        missing = [c for c in self.unseen if c not in self.conditions]
        if missing:
            raise HearbenchError(f"unseen condition(s) without a score: {', '.join(missing)}")

    def _unseen_scores(self) -> list[float]:
        return [float(self.conditions[c]) for c in self.unseen]

    @property
    def unseen_mean(self) -> float:
        """Mean score over the unseen conditions."""
        return statistics.fmean(self._unseen_scores())

    @property
    def unseen_worst(self) -> float:
        """Worst score over the unseen conditions."""
        scores = self._unseen_scores()
        return min(scores) if self.higher_is_better else max(scores)

    @property
    def drop(self) -> float:
        """How much worse the unseen mean is than the clean score (positive = worse)."""
        delta = self.clean - self.unseen_mean
        return delta if self.higher_is_better else -delta

    @property
    def relative_drop(self) -> float:
        """``drop / |clean|``."""
        return self.drop / abs(self.clean) if self.clean != 0 else math.nan

    @property
    def dg(self) -> float:
        """Population standard deviation of the unseen conditions' scores."""
        return statistics.pstdev(self._unseen_scores())

    def to_dict(self) -> dict[str, Any]:
        """The stored form: inputs and every derived figure."""
        return {
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "clean": self.clean,
            "conditions": dict(sorted(self.conditions.items())),
            "unseen": list(self.unseen),
            "unseen_mean": self.unseen_mean,
            "unseen_worst": self.unseen_worst,
            "drop": self.drop,
            "relative_drop": self.relative_drop,
            "dg": self.dg,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobustnessSummary:
        """Read the stored form back (derived figures are recomputed)."""
        return cls(
            metric=str(data["metric"]),
            higher_is_better=bool(data["higher_is_better"]),
            clean=float(data["clean"]),
            conditions={str(k): float(v) for k, v in data["conditions"].items()},
            unseen=tuple(str(c) for c in data["unseen"]),
        )


def summarise(
    metric: str,
    higher_is_better: bool,
    clean: float,
    conditions: Mapping[str, float],
    unseen: Sequence[str] | None = None,
) -> RobustnessSummary:
    """A :class:`RobustnessSummary`; every condition counts as unseen unless ``unseen`` says."""
    return RobustnessSummary(
        metric,
        higher_is_better,
        float(clean),
        {k: float(v) for k, v in conditions.items()},
        tuple(sorted(conditions) if unseen is None else unseen),
    )
