"""The post-processing settings and the grid of them that validation searches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

DEFAULT_POSTPROCESSING_GRID: Mapping[str, Sequence[float]] = {
    "median_filter_ms": [250],
    "min_duration": [125, 250],
}
"""heareval's ``EVENT_POSTPROCESSING_GRID``, used unless a task names its own."""


@dataclass(frozen=True)
class PostProcessing:
    """One post-processing setting.

    Defaults are those of heareval's ``create_events_from_prediction``; they apply to every
    parameter a grid leaves out.

    Attributes:
        median_filter_ms: Median filter length in ms; 0 disables the filter.
        min_duration: Events with ``end - start < min_duration`` ms are dropped.
        threshold: A frame is active when its (filtered) probability is ``> threshold``.
    """

    median_filter_ms: float = 150.0
    min_duration: float = 60.0
    threshold: float = 0.5

    def to_dict(self) -> dict[str, float]:
        """The parameters as a plain dict (for result JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


GRID_KEYS = tuple(f.name for f in fields(PostProcessing))


def grid_from_evaluation_params(
    evaluation_params: Mapping[str, Any] | None,
) -> Mapping[str, Sequence[float]]:
    """The grid a task asks for: its ``event_postprocessing_grid`` or the default.

    Args:
        evaluation_params: The task metadata's ``evaluation_params`` (may be None).
    """
    if evaluation_params and "event_postprocessing_grid" in evaluation_params:
        grid: Mapping[str, Sequence[float]] = evaluation_params["event_postprocessing_grid"]
        return grid
    return DEFAULT_POSTPROCESSING_GRID


def postprocessing_grid(
    grid: Mapping[str, Sequence[float]] | None = None,
) -> list[PostProcessing]:
    """Every point of ``grid``, in scikit-learn ``ParameterGrid`` order (as heareval iterates).

    Args:
        grid: ``{parameter: [values]}`` over ``median_filter_ms``, ``min_duration`` and
            ``threshold``; None means :data:`DEFAULT_POSTPROCESSING_GRID`.

    Raises:
        ValueError: An unknown parameter or an empty or non-numeric list of values.
    """
    return [point for point, _ in _grid_points(grid)]


def _grid_points(
    grid: Mapping[str, Sequence[float]] | None,
) -> list[tuple[PostProcessing, tuple[float, ...]]]:
    spec = DEFAULT_POSTPROCESSING_GRID if grid is None else grid
    unknown = sorted(set(spec) - set(GRID_KEYS))
    if unknown:
        raise ValueError(
            f"post-processing grid: unknown parameter(s) {unknown}; allowed {GRID_KEYS}"
        )
    keys = sorted(spec)
    for key in keys:
        values = spec[key]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(
                f"post-processing grid: {key!r} needs a non-empty list, got {values!r}"
            )
    combos: list[tuple[float, ...]] = [()]
    for key in keys:
        combos = [(*c, float(v)) for c in combos for v in spec[key]]
    return [(PostProcessing(**dict(zip(keys, combo, strict=True))), combo) for combo in combos]
