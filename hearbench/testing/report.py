"""Run contract checks on an embedder and report every outcome (``check_embedder``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from hearbench.api import Embedder, HearbenchError, exception_line
from hearbench.testing.checks import ALL_CHECKS, CHECKS, Check
from hearbench.testing.context import CheckContext
from hearbench.testing.rules import ContractError

Status = Literal["pass", "fail", "xfail", "xpass"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: The check's function name (``"check_finite"``).
        status: ``pass``, ``fail``, ``xfail`` (a known failure that failed) or ``xpass`` (a
            known failure that passed).
        message: What the check saw, or why it failed (one line).
    """

    name: str
    status: Status
    message: str = ""

    @property
    def failed(self) -> bool:
        """True for an unexpected failure."""
        return self.status == "fail"


@dataclass
class CheckReport:
    """Every check run on one embedder."""

    embedder: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no check failed unexpectedly."""
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        """The checks that failed unexpectedly, in run order."""
        return [r for r in self.results if r.failed]

    def format(self) -> str:
        """One line per check, then the verdict naming every failed check."""
        lines = [
            f"{r.status.upper():5s} {r.name}" + (f": {r.message}" if r.message else "") for r in self.results
        ]
        known = sum(r.status == "xfail" for r in self.results)
        note = f" ({known} known failure{'s' if known != 1 else ''})" if known else ""
        if self.passed:
            verdict = f"all checks passed{note}"
        else:
            names = ", ".join(r.name for r in self.failures)
            verdict = f"{len(self.failures)} of {len(self.results)} checks failed: {names}{note}"
        return "\n".join([*lines, f"{self.embedder}: {verdict}"])

    def raise_for_failures(self) -> None:
        """Raise one :class:`ContractError` naming every failed check, if any failed."""
        if self.failures:
            detail = "; ".join(f"{r.name}: {r.message}" for r in self.failures)
            raise ContractError(f"{self.embedder}: {len(self.failures)} checks failed: {detail}")


def select_checks(checks: Iterable[Check | str] | None = None) -> tuple[Check, ...]:
    """The checks to run: all of them, or those given by function or name."""
    if checks is None:
        return ALL_CHECKS
    out: list[Check] = []
    for item in checks:
        if isinstance(item, str):
            if item not in CHECKS:
                raise HearbenchError(f"unknown check {item!r}; known: {', '.join(CHECKS)}")
            out.append(CHECKS[item])
        else:
            out.append(item)
    return tuple(out)


def _check_names(known_failures: Mapping[str, str] | None) -> Mapping[str, str]:
    known = dict(known_failures or {})
    unknown = sorted(set(known) - set(CHECKS))
    if unknown:
        raise HearbenchError(f"known_failures: unknown check {unknown[0]!r}; known: {', '.join(CHECKS)}")
    return known


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return str(exc).splitlines()[0] if str(exc) else ""
    return exception_line(exc)


def run_check(
    check: Check, embedder: Embedder, context: CheckContext, known: Mapping[str, str]
) -> CheckResult:
    """Run one check; a check that raises anything fails with the exception's first line."""
    name = check.__name__
    try:
        message = check(embedder, context)
    except Exception as exc:
        if name in known:
            return CheckResult(name, "xfail", f"{_one_line(exc)} (known: {known[name]})")
        return CheckResult(name, "fail", _one_line(exc))
    if name in known:
        return CheckResult(name, "xpass", f"{message} (listed as a known failure: {known[name]})")
    return CheckResult(name, "pass", message)


def check_embedder(
    embedder: Embedder,
    checks: Sequence[Check | str] | None = None,
    known_failures: Mapping[str, str] | None = None,
    *,
    seconds: float = 1.0,
    short_seconds: float = 0.01,
    long_seconds: float = 30.0,
    tolerance: float = 1e-4,
) -> CheckReport:
    """Run contract checks on ``embedder`` and report every outcome.

    Args:
        embedder: The embedder to check.
        checks: Checks to run, as functions or names (default: every check, in order).
        known_failures: Check name -> reason for checks expected to fail; they are reported as
            ``xfail`` (or ``xpass``) and do not fail the report.
        seconds: Length of the standard clips.
        short_seconds: Length of the very short clip.
        long_seconds: Length of the long clip (drift and chunking).
        tolerance: Largest relative difference allowed between a clip embedded alone and in a
            batch (numerical noise of batched kernels).

    Returns:
        A :class:`CheckReport`; ``report.passed`` is false when any check failed unexpectedly.
    """
    selected = select_checks(checks)
    known = _check_names(known_failures)
    context = CheckContext(seconds, short_seconds, long_seconds, tolerance)
    report = CheckReport(embedder.name)
    for check in selected:
        report.results.append(run_check(check, embedder, context, known))
    context.forget()
    return report
