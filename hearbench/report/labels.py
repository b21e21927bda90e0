"""Point labels that overlap neither each other nor the points, placed deterministically."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.transforms import Bbox

_OFFSETS = [(4, 4), (4, -9), (-4, 4), (-4, -9), (4, 13), (4, -18), (-4, 13), (-4, -18)]
_OFFSETS += [(dx, dy) for k in range(2, 8) for dy in (9 * k + 4, -9 * k - 9) for dx in (8, -8)]


def place_labels(ax: Axes, items: Sequence[tuple[float, float, str, float]], renderer: Any) -> None:
    """Annotate points with their labels, each at the first offset free of overlaps.

    Candidates are tried in a fixed order (near the point first, then further up or down
    with a leader line), so placement is deterministic. A label that fits nowhere goes at the
    first offset.

    Args:
        ax: Axes whose layout is final (the figure was drawn).
        items: ``(x, y, label, font size)`` in data coordinates, in labelling order.
        renderer: The canvas renderer that measures text.
    """
    transform = ax.transData
    taken = []
    for collection in ax.collections:
        for xy in np.asarray(collection.get_offsets()):
            x, y = transform.transform(xy)
            taken.append(Bbox.from_extents(x - 3, y - 3, x + 3, y + 3))
    frame = ax.get_window_extent(renderer)
    for x_data, y_data, label, size in items:
        chosen = None
        for dx, dy in _OFFSETS:
            far = abs(dy) > 13
            text = ax.annotate(
                label,
                (x_data, y_data),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=size,
                color="0.15",
                ha="left" if dx > 0 else "right",
                arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.5} if far else None,
            )
            box = text.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(t) for t in taken):
                chosen = box
                break
            text.remove()
        if chosen is None:
            dx, dy = _OFFSETS[0]
            text = ax.annotate(
                label, (x_data, y_data), xytext=(dx, dy),
                textcoords="offset points", fontsize=size, color="0.15",
            )
            chosen = text.get_window_extent(renderer)
        taken.append(chosen)
