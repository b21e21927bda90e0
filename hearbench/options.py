"""Declared options: every embedder family and probe states its options once.

An :class:`Option` names one setting (type, default, allowed values or range, one line of
help); an :class:`OptionSet` is the declaration of one family or probe. :meth:`OptionSet.resolve`
is the one place where option values from the command line (strings) or Python are coerced,
validated, completed with defaults, and where unknown keys are refused, always with the same
one-line messages::

    mlp: unknown option 'max_epoch'; known: batch_size, check_val_every_n_epoch, ...
    mlp: option 'max_epochs' expects an int >= 1, got 'abc'

``hearbench list`` and ``--help`` texts are generated from the declarations
(:meth:`OptionSet.describe`). :func:`parse_options` turns ``KEY=VALUE`` pairs into values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hearbench.api import HearbenchError

_KINDS = ("int", "float", "bool", "str", "any")


def parse_value(text: str) -> Any:
    """``"20"`` → 20, ``"0.5"`` → 0.5, ``"true"`` → True, ``"[1,2]"`` → [1, 2]; else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if not isinstance(value, dict) else text


def parse_options(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings; a malformed pair is a one-line error naming it."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise HearbenchError(f"--option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = parse_value(value)
    return options


def ms_to_samples(ms: float, sample_rate: int, *, name: str | None = None) -> int:
    """A duration in milliseconds as a whole, positive number of samples at ``sample_rate``.

    With ``name`` (an option name) a duration that is not a whole, positive number of
    samples is refused with a one-line error naming the option; without it the nearest whole
    number of samples is returned.
    """
    samples = ms * sample_rate / 1000.0
    whole = round(samples)
    if name is not None and (abs(samples - whole) > 1e-6 or whole < 1):
        raise HearbenchError(
            f"option {name!r}: {ms} ms is not a whole, positive number of samples "
            f"at {sample_rate} Hz"
        )
    return whole


class _Invalid(ValueError):
    """A value a coercer cannot accept (turned into the one-line option error)."""


@dataclass(frozen=True)
class Option:
    """One declared option.

    Attributes:
        name: Key of the option (``hop_ms``).
        kind: ``"int"``, ``"float"``, ``"bool"``, ``"str"`` or ``"any"`` (``coerce`` decides).
        default: Value when the option is not given (``None``: the owner decides).
        help: One line for ``hearbench list`` and ``--help``.
        choices: Allowed values, when the option is a choice.
        minimum: Smallest allowed value of a number (inclusive unless ``exclusive``).
        exclusive: ``minimum`` itself is not allowed (``> 0`` rather than ``>= 0``).
        grid: A list of values is allowed too (a probe's hyperparameter grid).
        nullable: ``None`` is an allowed value.
        coerce: For structured values: turns a value into its typed form, raising
            ``ValueError`` or ``TypeError`` when it cannot; ``expected`` says what it wants.
        expected: What a structured value must be, for error messages.
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    exclusive: bool = False
    grid: bool = False
    nullable: bool = False
    coerce: Callable[[Any], Any] | None = None
    expected: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"option {self.name!r}: kind must be one of {_KINDS}")

    def describe_type(self) -> str:
        """What a value must be, in words (``"an int >= 1"``)."""
        if self.expected is not None:
            text = self.expected
        elif self.choices is not None:
            text = "one of " + ", ".join(str(c) for c in self.choices)
        else:
            article = "an" if self.kind == "int" else "a"
            text = {"bool": "true or false", "any": "a value"}.get(self.kind, f"{article} {self.kind}")
            if self.minimum is not None:
                text += f" {'>' if self.exclusive else '>='} {self.minimum:g}"
        if self.grid:
            text += ", or a list of them"
        return text

    def parse(self, value: Any, who: str) -> Any:
        """``value`` coerced and validated; a one-line error naming the option otherwise."""
        if self.grid and isinstance(value, list | tuple):
            if not value:
                raise self._error(value, who)
            return [self._one(v, who, value) for v in value]
        return self._one(value, who, value)

    def _one(self, value: Any, who: str, shown: Any) -> Any:
        if value is None and (self.nullable or self.default is None):
            return None
        try:
            parsed = self.coerce(value) if self.coerce is not None else _coerce(self.kind, value)
        except (ValueError, TypeError) as exc:
            raise self._error(shown, who) from exc
        if self.choices is not None and parsed not in self.choices:
            raise self._error(shown, who)
        if (
            self.minimum is not None
            and isinstance(parsed, int | float)
            and (parsed < self.minimum or (self.exclusive and parsed == self.minimum))
        ):
            raise self._error(shown, who)
        return parsed

    def _error(self, value: Any, who: str) -> HearbenchError:
        return HearbenchError(
            f"{who}: option {self.name!r} expects {self.describe_type()}, got {value!r}"
        )

    def describe(self) -> str:
        """One line: name, type, default and help."""
        default = "" if self.default is None else f"; default {_show(self.default)}"
        return f"{self.name} ({self.describe_type()}{default}): {self.help}"


def option_label(value: Any) -> str:
    """Text of an option value in a label: lists joined by commas, integral floats without ``.0``."""
    if isinstance(value, list | tuple):
        return ",".join(option_label(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coerce(kind: str, value: Any) -> Any:
    if kind == "any":
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _Invalid(value)
    if kind == "str":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise _Invalid(value)
    if isinstance(value, bool):
        raise _Invalid(value)
    number = float(value)
    if not math.isfinite(number):
        raise _Invalid(value)
    if kind == "int":
        if number != int(number):
            raise _Invalid(value)
        return int(number)
    return number


@dataclass(frozen=True)
class OptionSet:
    """The declared options of one embedder family or probe.

    Attributes:
        owner: Name used in messages (``"mlp"``, ``"mobilenet"``).
        options: The declarations, in the order they are listed.
    """

    owner: str
    options: tuple[Option, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Declared option names, in declaration order."""
        return tuple(o.name for o in self.options)

    def __getitem__(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        """Every option's default."""
        return {o.name: o.default for o in self.options}

    def check_known(self, given: Mapping[str, Any], who: str | None = None) -> None:
        """Refuse the first unknown key of ``given`` (sorted) with the one message format."""
        known = set(self.names)
        unknown = sorted(k for k in given if k not in known)
        if unknown:
            listed = ", ".join(sorted(known)) if known else "(none)"
            raise HearbenchError(
                f"{who or self.owner}: unknown option {unknown[0]!r}; known: {listed}"
            )

    def resolve(
        self, given: Mapping[str, Any], who: str | None = None, *, defaults: bool = True
    ) -> dict[str, Any]:
        """Validate ``given`` (command-line strings allowed) and fill in defaults.

        Args:
            given: Option values by name.
            who: Name in messages (default: :attr:`owner`), e.g. the preset name.
            defaults: Fill in the default of every option not given.

        Returns:
            The typed values, in declaration order (only the given ones without ``defaults``).

        Raises:
            HearbenchError: one line naming an unknown option, or a bad value and what is allowed.
        """
        name = who or self.owner
        self.check_known(given, name)
        out: dict[str, Any] = {}
        for option in self.options:
            if option.name in given:
                out[option.name] = option.parse(given[option.name], name)
            elif defaults:
                out[option.name] = option.default
        return out

    def describe(self) -> list[str]:
        """One line per option (for ``hearbench list`` and ``--help``)."""
        return [o.describe() for o in self.options]


def declared_options(owner: Any) -> OptionSet | None:
    """The :class:`OptionSet` a family, embedder or probe class declares as ``OPTIONS``, if any."""
    options = getattr(owner, "OPTIONS", None)
    return options if isinstance(options, OptionSet) else None
