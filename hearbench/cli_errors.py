"""How every ``hearbench`` command reports an error: one line, exit code 1, tracebacks on request."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from hearbench.api import HearbenchError, exception_line

F = TypeVar("F", bound=Callable[..., Any])


def debugging() -> bool:
    """Whether ``--debug`` was given (or ``HEARBENCH_DEBUG=1`` is set)."""
    if os.environ.get("HEARBENCH_DEBUG", "") not in ("", "0"):
        return True
    context = click.get_current_context(silent=True)
    return bool(context is not None and context.find_root().params.get("debug"))


def friendly(fn: F) -> F:
    """Turn any error into a one-line ``error: ...`` message and exit code 1.

    A :class:`HearbenchError` is shown as it is; any other exception (from a third-party
    module, a plugin or a library) as ``Type: first line``. With ``--debug`` the traceback
    is printed first.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HearbenchError as exc:
            if debugging():
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:
            if debugging():
                traceback.print_exc()
            hint = "" if debugging() else " (--debug shows the traceback)"
            click.echo(f"error: {exception_line(exc)}{hint}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
