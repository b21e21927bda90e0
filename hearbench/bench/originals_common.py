"""What the ``originals`` benchmarks share: the section's name and the rows of skipped originals."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from hearbench.api import exception_line
from hearbench.bench.common import Row

SECTION = "originals"


def _reason(name: str, exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError):
        return f"module {exc.name or name!r} is missing"
    return f"importing {name} failed ({exception_line(exc)})"


def missing_module(modules: Sequence[str]) -> str | None:
    """Why the first of ``modules`` that cannot be imported fails, or ``None`` when all import.

    ``module 'timm' is missing`` for an absent module, ``importing X failed (Error: ...)`` for
    a module that is there but fails on import.
    """
    for name in modules:
        try:
            if name == "heareval.predictions.task_predictions":
                from hearbench.interop.heareval_runner import import_heareval  # its numpy shim first

                import_heareval()
            else:
                importlib.import_module(name)
        except Exception as exc:  # any failure to import is a reason to skip
            cause = exc.__cause__ if isinstance(exc.__cause__, ImportError) else exc
            return _reason(name, cause)
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
