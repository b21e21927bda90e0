"""Figures as byte-reproducible PNG and SVG.

Figures are drawn on the Agg canvas without :mod:`matplotlib.pyplot`, written without dates or
software versions (PNG ``Software``, SVG ``Date``/``Creator`` metadata dropped) and with a fixed
``svg.hashsalt``, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hearbench.api import HearbenchError
from hearbench.atomic import write_bytes_atomic

IMAGE_FORMATS = ("png", "svg")

_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}


def drawing_style() -> AbstractContextManager[None]:
    """Fixed settings every figure is drawn and saved under."""
    return matplotlib.rc_context(
        {"svg.hashsalt": "hearbench", "svg.fonttype": "path", "font.size": 8.0}
    )


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """Render ``fig`` as ``png`` or ``svg`` bytes without dates or version stamps."""
    if fmt not in IMAGE_FORMATS:
        raise HearbenchError(f"image format {fmt!r} is unknown; choose from png, svg")
    buffer = io.BytesIO()
    with drawing_style():
        FigureCanvasAgg(fig)
        fig.savefig(buffer, format=fmt, dpi=150, metadata=_METADATA[fmt])
    return buffer.getvalue()


def save_figure(fig: Figure, stem: Path, formats: Sequence[str] = IMAGE_FORMATS) -> list[Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, atomically; returns the paths."""
    return [
        write_bytes_atomic(stem.with_suffix(f".{fmt}"), figure_bytes(fig, fmt)) for fmt in formats
    ]


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` x ``height`` inches with a constrained layout."""
    with drawing_style():
        return Figure(figsize=(width, height), layout="constrained")

