"""A pytest entry point: one test case per (embedder, check), like scikit-learn's.

Example, in a plugin's test suite::

    from hearbench.testing import parametrize_with_checks

    @parametrize_with_checks([MyEmbedder(), lambda: MyEmbedder(hop_ms=10)])
    def test_contract(embedder, check):
        check(embedder)

An item is an :class:`~hearbench.api.Embedder` or a zero-argument callable that builds one;
a callable is built when its first check runs, and the embedder (with its shared outputs) is
released when the next item's checks start, so one large model is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hearbench.api import Embedder, HearbenchError
from hearbench.testing.checks import Check
from hearbench.testing.context import CheckContext
from hearbench.testing.report import _check_names, select_checks

EmbedderSource = Embedder | Callable[[], Embedder]


class _Subject:
    """One item of the parametrisation: the embedder (built on demand) and its shared outputs."""

    active: _Subject | None = None

    def __init__(self, source: EmbedderSource, context: CheckContext) -> None:
        self.source = source
        self.context = context
        self._built: Embedder | None = source if isinstance(source, Embedder) else None

    def get(self) -> Embedder:
        if _Subject.active is not None and _Subject.active is not self:
            _Subject.active.release()
        _Subject.active = self
        if self._built is None:
            if not callable(self.source):
                raise HearbenchError(f"parametrize_with_checks: {self.source!r} is not an embedder")
            made = self.source()
            if not isinstance(made, Embedder):
                raise HearbenchError(f"parametrize_with_checks: {self.source!r} did not return an Embedder")
            self._built = made
        return self._built

    def release(self) -> None:
        self.context.forget()
        if not isinstance(self.source, Embedder):
            self._built = None


class BoundCheck:
    """A check bound to its item's shared outputs; call it with the case's ``embedder``."""

    def __init__(self, check: Check, subject: _Subject) -> None:
        self.check = check
        self.subject = subject
        self.__name__ = check.__name__

    def __call__(self, embedder: Any = None) -> str:
        own = self.subject.get()
        if isinstance(embedder, Embedder) and embedder is not own:
            return self.check(embedder, self.subject.context.fresh())
        return self.check(own, self.subject.context)

    def __repr__(self) -> str:
        return self.__name__


def parametrize_with_checks(
    embedders: Sequence[EmbedderSource],
    checks: Sequence[Check | str] | None = None,
    known_failures: Mapping[str, str] | None = None,
    *,
    ids: Sequence[str] | None = None,
    seconds: float = 1.0,
    short_seconds: float = 0.01,
    long_seconds: float = 30.0,
    tolerance: float = 1e-4,
) -> Any:
    """A ``pytest.mark.parametrize`` over ``(embedder, check)``: one case per embedder and check.

    Args:
        embedders: Embedders, or zero-argument callables that build them.
        checks: Checks to run, as functions or names (default: every check).
        known_failures: Check name -> reason; those cases are marked ``xfail``.
        ids: Test ids of the embedders (default: an embedder's name, a callable's ``__name__``).
        seconds: Length of the standard clips.
        short_seconds: Length of the very short clip.
        long_seconds: Length of the long clip.
        tolerance: Largest relative gap between a clip embedded alone and in a batch.

    Returns:
        The pytest mark; the decorated test takes ``embedder`` and ``check`` and calls
        ``check(embedder)``.
    """
    import pytest

    selected = select_checks(checks)
    known = _check_names(known_failures)
    if ids is not None and len(ids) != len(embedders):
        raise HearbenchError(f"parametrize_with_checks: {len(ids)} ids for {len(embedders)} embedders")
    params = []
    for i, source in enumerate(embedders):
        if ids is not None:
            label = ids[i]
        elif isinstance(source, Embedder):
            label = source.name
        else:
            label = getattr(source, "__name__", f"embedder{i}")
        subject = _Subject(source, CheckContext(seconds, short_seconds, long_seconds, tolerance))
        for check in selected:
            marks = [pytest.mark.xfail(reason=known[check.__name__])] if check.__name__ in known else []
            params.append(
                pytest.param(source, BoundCheck(check, subject), id=f"{label}-{check.__name__}", marks=marks)
            )
    return pytest.mark.parametrize(("embedder", "check"), params)
