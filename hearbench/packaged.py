"""Checkpoints shipped inside the package, used when no other copy is found.

Only small official checkpoints whose licence allows redistribution are shipped (today the
EfficientAT ``mn04_as`` checkpoint, MIT licence; notice in
``hearbench/packaged_weights/LICENSE-EfficientAT.md``), so that the demo and a first
evaluation run offline. A shipped file is used only when its sha256 equals the preset's
published checksum.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE = "hearbench.packaged_weights"


def packaged_checkpoint(filename: str, sha256: str | None) -> Path | None:
    """The shipped copy of ``filename`` when there is one with the expected ``sha256``.

    Args:
        filename: The checkpoint's file name as its preset card gives it.
        sha256: The card's published checksum; without one nothing shipped is trusted.

    Returns:
        The path of the shipped file, or ``None``.
    """
    from hearbench.weights import sha256_file

    if sha256 is None:
        return None
    candidate = Path(str(resources.files(PACKAGE).joinpath(filename)))
    if not candidate.is_file():
        return None
    if sha256_file(candidate) != sha256:
        log.warning("%s: shipped checkpoint does not match sha256 %s; ignored", candidate, sha256)
        return None
    return candidate
