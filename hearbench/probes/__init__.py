"""Probe registry: name → estimator class."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from hearbench.api import HearbenchError
from hearbench.options import OptionSet
from hearbench.probes.base import Objective, Probe, ProbeData

PROBES: dict[str, str] = {
    "linear": "hearbench.probes.linear:LinearProbe",
    "mlp": "hearbench.probes.mlp:MLPProbe",
    "knn": "hearbench.probes.knn:KNNProbe",
    "sequence": "hearbench.probes.sequence:SequenceProbe",
}


def get_probe(name: str) -> type[Probe]:
    """The probe class registered as ``name``."""
    if name not in PROBES:
        raise HearbenchError(f"probe {name!r} is unknown; choose from {', '.join(PROBES)}")
    module_name, attr = PROBES[name].split(":")
    cls = getattr(importlib.import_module(module_name), attr)
    assert issubclass(cls, Probe)
    return cls


def probe_options(name: str) -> OptionSet:
    """The declared options of probe ``name``."""
    return get_probe(name).OPTIONS


def resolve_probe_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` validated for probe ``name`` (typed, sorted); an unknown key is refused."""
    resolved = probe_options(name).resolve(options, defaults=False)
    return dict(sorted(resolved.items()))


def split_probe_options(
    names: Sequence[str], options: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The options each of the probes ``names`` takes from ``options``, validated.

    One set of ``--probe-option`` values serves several probes: each probe gets the options it
    declares (and records only those); a key that none of them declares is refused, as is a
    bad value for any probe that takes it.

    Raises:
        HearbenchError: one line naming the option and what is allowed.
    """
    sets = {name: probe_options(name) for name in names}
    known = sorted({key for s in sets.values() for key in s.names})
    for key in sorted(options):
        if not any(key in s.names for s in sets.values()):
            who = ", ".join(names)
            raise HearbenchError(
                f"{who}: unknown option {key!r}; known: {', '.join(known) or '(none)'}"
            )
    return {
        name: resolve_probe_options(name, {k: v for k, v in options.items() if k in s.names})
        for name, s in sets.items()
    }


__all__ = [
    "PROBES",
    "Objective",
    "Probe",
    "ProbeData",
    "get_probe",
    "probe_options",
    "resolve_probe_options",
    "split_probe_options",
]
