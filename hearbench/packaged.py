"""Checkpoints shipped inside the package, used when no other copy is found.

Only small official checkpoints whose licence allows redistribution are shipped (today the
EfficientAT ``mn04_as`` checkpoint, MIT licence; notice in
``hearbench/packaged_weights/LICENSE-EfficientAT.md``), so that the demo and a first
evaluation run offline. :func:`hearbench.weights.resolve_weights` uses a shipped file only
when its sha256 equals the preset's published checksum.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "hearbench.packaged_weights"


def packaged_checkpoint(filename: str) -> Path | None:
    """The shipped copy of the checkpoint ``filename``, or ``None`` when none is shipped."""
    candidate = Path(str(resources.files(PACKAGE).joinpath(filename)))
    return candidate if candidate.is_file() else None
