"""What the ``originals`` benchmarks share: the section's name and the rows of skipped originals."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from hearbench.api import exception_line
from hearbench.bench.common import Row

SECTION = "originals"


def missing_module(modules: Sequence[str]) -> str | None:
    """Why the first of ``modules`` that cannot be imported fails, or ``None`` when all import."""
    for name in modules:
        if name == "heareval.predictions.task_predictions":
            from hearbench.interop.heareval_runner import import_heareval  # its numpy shim first

            try:
                import_heareval()
            except Exception as exc:  # any failure to import is a reason to skip
                cause = exc.__cause__
                missing = getattr(cause, "name", None) or name
                return f"module {missing!r} is missing ({exception_line(cause or exc)})"
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:  # any failure to import is a reason to skip
            missing = getattr(exc, "name", None) or name
            return f"module {missing!r} is missing ({exception_line(exc)})"
    return None


def skipped_row(original: str, reason: str) -> Row:
    """The row of an original that is not measured in this run."""
    return Row(
        section=SECTION,
        case=f"{original}: skipped",
        ours=None,
        reference=None,
        ratio=None,
        ratio_label="",
        check=f"not measured here: {reason}",
        details={"skipped": reason},
    )
