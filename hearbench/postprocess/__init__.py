"""Frame probabilities to sound events: heareval's default event post-processing.

For each clip and class: a median filter over time (``median_filter_ms`` wide, in frames
``round(median_filter_ms / mean hop)``, half to even, as heareval rounds; scipy's
``median_filter`` with ``size=(width, 1)`` and ``reflect`` edges), a strict ``> threshold``,
and every run of consecutive active frames becomes one event from the first to the last active
frame's timestamp (frame centres; a one-frame run lasts 0 ms). Events shorter than
``min_duration`` ms are dropped. :func:`select_postprocessing` picks the grid point with the
best primary score on validation, :func:`apply_postprocessing` applies it to test predictions.

The filter is computed on the thresholded frames: the median of a window exceeds the
threshold exactly when at least ``width - width // 2`` of its values do (scipy's median is the
element of rank ``width // 2``, also for even widths), so a running count gives bit-identical
results at a fraction of the cost. (For windows longer than about eight times the clip, scipy
reads past its edge buffer and its output is undefined; here the ``reflect`` extension simply
continues. heareval never meets such clips: 250 ms is 25 frames at a 10 ms hop.)

A clip with fewer than two frames has no hop, so it is not filtered (heareval would fail).

The parts: :mod:`.grid` (the settings and the grid), :mod:`.frames` (one setting applied to
frames), :mod:`.select` (the choice on validation).
"""

from __future__ import annotations

from hearbench.postprocess.frames import (
    active_frames,
    apply_postprocessing,
    events_from_active_frames,
    events_from_predictions,
    median_filter_width,
    split_frames,
)
from hearbench.postprocess.grid import (
    DEFAULT_POSTPROCESSING_GRID,
    GRID_KEYS,
    PostProcessing,
    grid_from_evaluation_params,
    postprocessing_grid,
)
from hearbench.postprocess.select import PostProcessingSelection, select_postprocessing

__all__ = [
    "DEFAULT_POSTPROCESSING_GRID",
    "GRID_KEYS",
    "PostProcessing",
    "PostProcessingSelection",
    "active_frames",
    "apply_postprocessing",
    "events_from_active_frames",
    "events_from_predictions",
    "grid_from_evaluation_params",
    "median_filter_width",
    "postprocessing_grid",
    "select_postprocessing",
    "split_frames",
]
