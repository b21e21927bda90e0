"""Options and argument checks that several ``hearbench`` commands share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from hearbench.api import HearbenchError
from hearbench.options import parse_options

F = TypeVar("F", bound=Callable[..., Any])


def embedder_options(fn: F) -> F:
    """The shared ``--weights``, ``--option`` and ``--random-weights`` options."""
    fn = click.option("--random-weights", is_flag=True, help="Run on random weights (pretrained=False).")(fn)
    fn = click.option(
        "--option",
        "options",
        multiple=True,
        metavar="KEY=VALUE",
        help="Embedder option, repeatable (see 'hearbench list families').",
    )(fn)
    fn = click.option(
        "--weights",
        "weights",
        multiple=True,
        metavar="[NAME=]PATH",
        help="Local weights file; NAME=PATH gives one embedder its own (repeatable).",
    )(fn)
    return fn


def weights_by_embedder(names: Sequence[str], values: Sequence[str]) -> dict[str, str | None]:
    """Map each embedder name to its weights file from ``--weights`` values.

    ``NAME=PATH`` (NAME one of ``names``) sets one embedder's weights; a plain ``PATH`` is
    allowed with a single embedder only.

    Raises:
        HearbenchError: on a plain path with several embedders, or two files for one embedder.
    """
    out: dict[str, str | None] = dict.fromkeys(names)
    given: set[str] = set()
    for value in values:
        name, sep, path = value.partition("=")
        if not (sep and name in out):
            if len(out) != 1:
                raise HearbenchError(
                    f"--weights {value!r}: with several embedders write NAME=PATH, "
                    f"NAME one of {', '.join(out)}"
                )
            name, path = next(iter(out)), value
        if name in given:
            raise HearbenchError(f"--weights: two weights files for {name}")
        given.add(name)
        out[name] = path
    return out


def embedder_from_flags(
    name: str, weights: Sequence[str], options: Sequence[str], random_weights: bool
) -> Any:
    """The embedder ``name`` as ``--weights``, ``--option`` and ``--random-weights`` configure it."""
    from hearbench.registry import create_embedder

    path = weights_by_embedder([name], weights)[name]
    return create_embedder(name, weights=path, pretrained=not random_weights, **parse_options(options))


def check_probes(probes: Sequence[str]) -> None:
    """Refuse unknown probe names before any work starts."""
    from hearbench.probes import PROBES

    for probe in probes:
        if probe not in PROBES:
            raise HearbenchError(f"--probe {probe!r}: unknown probe; choose from {', '.join(PROBES)}")
