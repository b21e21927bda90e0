"""Progress of probe fits: a callback each fit reports its validation checks and finished points to.

Every probe's ``fit`` and ``fit_grid`` take a ``progress`` (:class:`FitProgress`, default
:data:`NO_PROGRESS`). ``check(epoch, score)`` is called at each validation check of a training
run (``epoch`` counted from 0, as ``best_epoch_``), ``point_done(index, score)`` once per grid
point when its fit ends (``index`` in grid order, ``score`` its selected validation score).
The stacked MLP grid reports each check of its stack with the best score of the points checked
and each point as it leaves the stack. :class:`BarProgress` shows them on a tqdm bar.
"""

from __future__ import annotations

import math
from typing import Any, Protocol


class Direction(Protocol):
    """What :class:`BarProgress` needs of an objective (:class:`~hearbench.probes.base.Objective`)."""

    @property
    def name(self) -> str:
        """The metric's name."""

    def worst(self) -> float:
        """The worst possible score."""

    def improves(self, new: float, best: float) -> bool:
        """Whether ``new`` is strictly better than ``best``."""


class FitProgress(Protocol):
    """Receives the validation checks and finished grid points of probe fits."""

    def check(self, epoch: int, score: float) -> None:
        """A validation check after epoch ``epoch`` (from 0) scored ``score``."""

    def point_done(self, index: int, score: float) -> None:
        """Grid point ``index`` finished with selected validation score ``score``."""


class NoProgress:
    """A :class:`FitProgress` that ignores everything."""

    def check(self, epoch: int, score: float) -> None:
        """Ignore a validation check."""

    def point_done(self, index: int, score: float) -> None:
        """Ignore a finished point."""


NO_PROGRESS: FitProgress = NoProgress()


class BarProgress:
    """A :class:`FitProgress` on a tqdm bar: one step per finished fit, the running fit's last
    epoch and best validation score in the postfix.

    Args:
        bar: A ``tqdm`` bar counting fits.
        objective: The validation objective (its name and direction).
    """

    def __init__(self, bar: Any, objective: Direction) -> None:
        self.bar = bar
        self.objective = objective
        self.best = objective.worst()

    def check(self, epoch: int, score: float) -> None:
        """Show the epoch and the best score since the last finished fit."""
        if self.objective.improves(score, self.best):
            self.best = score
        best = "n/a" if math.isinf(self.best) else f"{self.best:.4f}"
        self.bar.set_postfix_str(f"epoch {epoch + 1} best valid {self.objective.name} {best}")

    def point_done(self, index: int, score: float) -> None:
        """Advance the bar by one fit."""
        self.best = self.objective.worst()
        self.bar.update(1)
