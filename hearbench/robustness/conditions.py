"""Test conditions and DIR augmentation: what a robustness run perturbs, checked up front.

:class:`RobustnessSpec` reads a folder into :class:`Conditions` (the unseen devices of a DIR
folder, every room response, or one condition per SNR, optionally capped);
:class:`AugmentSpec` into the seeded draws of an :class:`Augmentation` over the seen devices.
Both know their identity (the record and the results-id suffix) and refuse, in one line, what
cannot work: a folder without audio, a non-audio file, a response longer than a task's clips,
an SNR that is not a number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError
from hearbench.options import Option, OptionSet
from hearbench.perturb import (
    DeviceAugmentation,
    ImpulsePerturbation,
    ImpulseResponse,
    NoisePerturbation,
    Perturbation,
    load_impulse_responses,
    load_noise,
    parse_snr,
    split_seen_unseen,
)
from hearbench.perturb.impulse import IR_SUFFIXES, LEVELS, UNSEEN_EVERY, Level
from hearbench.tasks.format import Task

KINDS: tuple[str, ...] = ("dir", "room", "noise")

AUGMENT_PREFIX = "dir_augment"


def _probability(value: Any) -> float:
    number = float(value)
    if isinstance(value, bool) or not 0.0 < number <= 1.0:
        raise ValueError(value)
    return number


AUGMENT_OPTIONS = OptionSet(
    "dir_augment",
    (
        Option(
            "dir_augment_p",
            "any",
            None,
            "Probability that a training clip gets a copy through a random seen device (paper: 0.4-0.6).",
            coerce=_probability,
            expected="a number in (0, 1]",
        ),
        Option(
            "dir_augment_draws",
            "int",
            1,
            "Augmented copies drawn per training clip (each kept with probability dir_augment_p).",
            minimum=1,
        ),
    ),
)
"""The DIR augmentation options, given as ``--probe-option dir_augment_p=0.5``."""


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


def check_level(level: str) -> Level:
    """``level`` when it is ``rms`` or ``raw``; a one-line error naming ``--level`` otherwise."""
    if level not in LEVELS:
        raise HearbenchError(f"--level {level!r}: expected one of {', '.join(LEVELS)}")
    return level  # type: ignore[return-value]


def _file_of(folder: str | Path, response: ImpulseResponse) -> Path:
    """The file in ``folder`` that ``response`` was read from."""
    for suffix in IR_SUFFIXES:
        for path in (Path(folder) / f"{response.name}{suffix}", Path(folder) / f"{response.name}{suffix.upper()}"):
            if path.is_file():
                return path
    return Path(folder) / response.name


def cap_conditions(names: Sequence[str], max_conditions: int | None) -> list[str]:
    """At most ``max_conditions`` of ``names`` (sorted), evenly spread: ``floor(i * n / N)``."""
    ordered = sorted(names)
    if max_conditions is None or max_conditions >= len(ordered):
        return ordered
    if max_conditions < 1:
        raise HearbenchError(f"--max-conditions: expected an int >= 1, got {max_conditions}")
    return [ordered[(i * len(ordered)) // max_conditions] for i in range(max_conditions)]


@dataclass(frozen=True)
class RobustnessSpec:
    """What a robustness run perturbs the test clips with.

    Attributes:
        kind: ``dir``, ``room`` or ``noise``.
        source: Folder of impulse responses (``dir``, ``room``) or noise recordings (``noise``).
        level: ``rms`` (default) or ``raw``, for impulse responses.
        snrs: SNRs in dB (``noise``).
        max_conditions: Keep at most this many conditions (module docstring), ``None``: all.
        seed: Seed of the noise draws.
    """

    kind: str
    source: str | Path
    level: str = "rms"
    snrs: tuple[float, ...] = ()
    max_conditions: int | None = None
    seed: int = 0

    def prepare(self) -> Conditions:
        """Read the folder and build the test conditions (one-line errors, before any work)."""
        if self.kind not in KINDS:
            raise HearbenchError(f"--robustness {self.kind!r}: unknown kind; choose from {', '.join(KINDS)}")
        if self.max_conditions is not None and self.max_conditions < 1:
            raise HearbenchError(f"--max-conditions: expected an int >= 1, got {self.max_conditions}")
        level = check_level(self.level)
        source = Path(self.source)
        if self.kind == "noise":
            if not self.snrs:
                raise HearbenchError("--robustness noise needs at least one --snr DB")
            snrs = [parse_snr(s) for s in self.snrs]
            recordings = load_noise(source)
            by_name: dict[str, Perturbation] = {}
            for snr in snrs:
                noise = NoisePerturbation(recordings, snr, self.seed)
                by_name[noise.name] = noise
            chosen = cap_conditions(list(by_name), self.max_conditions)
            return Conditions(self, tuple(by_name[n] for n in chosen), (), ())
        responses = {r.name: r for r in load_impulse_responses(source)}
        if self.kind == "dir":
            seen, unseen = split_seen_unseen(list(responses))
            if not unseen:
                raise HearbenchError(
                    f"{source}: {len(responses)} device(s) leave none unseen (every "
                    f"{UNSEEN_EVERY}-th of the sorted names is); at least {UNSEEN_EVERY} needed"
                )
        else:
            seen, unseen = (), tuple(sorted(responses))
        chosen = cap_conditions(unseen, self.max_conditions)
        perturbations = tuple(ImpulsePerturbation(self.kind, responses[n], level) for n in chosen)
        return Conditions(self, perturbations, tuple(responses.values()), seen)


@dataclass(frozen=True)
class Conditions:
    """The prepared test conditions of a :class:`RobustnessSpec`.

    Attributes:
        spec: What was asked for.
        perturbations: One per test condition, in name order.
        responses: Every impulse response of the folder (all are checked against the clips).
        seen: The seen devices of a ``dir`` folder (never test conditions).
    """

    spec: RobustnessSpec
    perturbations: tuple[Perturbation, ...]
    responses: tuple[ImpulseResponse, ...]
    seen: tuple[str, ...]

    def identity(self) -> dict[str, Any]:
        """Kind, level, the split rule, the cap, and every condition's identity (the record)."""
        spec = self.spec
        out: dict[str, Any] = {
            "kind": spec.kind,
            "source": str(spec.source),
            "max_conditions": spec.max_conditions,
            "conditions": {p.name: p.identity() for p in self.perturbations},
        }
        if spec.kind == "dir":
            out["split"] = f"unseen: every {UNSEEN_EVERY}-th device of the sorted names"
            out["seen"] = list(self.seen)
        if spec.kind == "noise":
            out["seed"] = spec.seed
        else:
            out["level"] = spec.level
        return out

    @property
    def variant(self) -> str:
        """``@dir-<digest>``: the results-id suffix of these conditions."""
        identity = {k: v for k, v in self.identity().items() if k != "source"}
        return f"@{self.spec.kind}-{_digest(identity)}"

    def check_task(self, task: Task) -> None:
        """Refuse an impulse response longer than the task's clips (before any embedding)."""
        if task.sample_duration is None:
            return
        for response in self.responses:
            seconds = response.samples.shape[0] / response.sample_rate
            if seconds > task.sample_duration:
                raise HearbenchError(
                    f"{_file_of(self.spec.source, response)}: impulse response of {seconds:.3f} s "
                    f"is longer than the clips of {task.name} ({task.sample_duration:g} s)"
                )


@dataclass(frozen=True)
class AugmentSpec:
    """DIR augmentation of the probe's training folds (module docstring).

    Attributes:
        source: Folder of device impulse responses; the *seen* devices are drawn from.
        p: ``dir_augment_p``.
        draws: ``dir_augment_draws``.
        level: ``rms`` or ``raw``.
        seed: Seed of the draws.
    """

    source: str | Path
    p: float
    draws: int = 1
    level: str = "rms"
    seed: int = 0

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], source: str | Path | None, level: str = "rms", seed: int = 0
    ) -> AugmentSpec | None:
        """The spec of the ``dir_augment_*`` options (``None`` when none is given)."""
        if not options:
            return None
        resolved = AUGMENT_OPTIONS.resolve(options)
        if resolved["dir_augment_p"] is None:
            raise HearbenchError("dir_augment: option 'dir_augment_p' is required (a number in (0, 1])")
        if source is None:
            raise HearbenchError("dir_augment: needs --dirs PATH, the device impulse responses")
        return cls(source, float(resolved["dir_augment_p"]), int(resolved["dir_augment_draws"]), level, seed)

    def prepare(self) -> Augmentation:
        """Read the folder and build one :class:`DeviceAugmentation` per draw."""
        level = check_level(self.level)
        responses = {r.name: r for r in load_impulse_responses(self.source)}
        seen, _ = split_seen_unseen(list(responses))
        chosen = tuple(responses[n] for n in seen)
        draws = tuple(DeviceAugmentation(chosen, self.p, d, self.seed, level) for d in range(self.draws))
        return Augmentation(self, draws)


@dataclass(frozen=True)
class Augmentation:
    """The prepared draws of an :class:`AugmentSpec`."""

    spec: AugmentSpec
    draws: tuple[DeviceAugmentation, ...]

    def identity(self) -> dict[str, Any]:
        """Options, seed, level and the seen devices (names and digests): the record."""
        responses = self.draws[0].responses
        return {
            "dir_augment_p": self.spec.p,
            "dir_augment_draws": self.spec.draws,
            "seed": self.spec.seed,
            "level": self.spec.level,
            "source": str(self.spec.source),
            "devices": {r.name: r.sha256 for r in responses},
        }

    @property
    def variant(self) -> str:
        """``+dir_augment-<digest>``: the results-id suffix of this augmentation."""
        identity = {k: v for k, v in self.identity().items() if k != "source"}
        return f"+{AUGMENT_PREFIX}-{_digest(identity)}"

    def check_task(self, task: Task) -> None:
        """Refuse a seen device longer than the task's clips."""
        if task.sample_duration is None:
            return
        for response in self.draws[0].responses:
            if response.samples.shape[0] / response.sample_rate > task.sample_duration:
                raise HearbenchError(
                    f"{_file_of(self.spec.source, response)}: impulse response is longer than "
                    f"the clips of {task.name} ({task.sample_duration:g} s)"
                )


def split_augment_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(dir_augment_* options, the probe's own options)`` of a set of probe options."""
    augment = {k: v for k, v in options.items() if k.startswith(AUGMENT_PREFIX)}
    return augment, {k: v for k, v in options.items() if not k.startswith(AUGMENT_PREFIX)}


def variant_of(conditions: Conditions | None, augmentation: Augmentation | None) -> str:
    """The results-id suffix of a run: augmentation first, then the test conditions."""
    return (augmentation.variant if augmentation else "") + (conditions.variant if conditions else "")



def parse_max_conditions(value: str | int | None) -> int | None:
    """``--max-conditions`` as an int >= 1 (``None`` when not given)."""
    if value is None:
        return None
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise HearbenchError(f"--max-conditions {value!r}: expected an int >= 1")
    return number


def prepare_run(
    kind: str | None,
    dirs: str | None,
    noise: str | None,
    snrs: Sequence[str],
    level: str,
    max_conditions: str | int | None,
    augment_options: Mapping[str, Any],
    seed: int,
    tasks: Sequence[Task] = (),
) -> tuple[Conditions | None, Augmentation | None]:
    """Check and prepare the robustness options of a run, before any work starts.

    Raises:
        HearbenchError: one line naming the option or file: an unknown kind, a folder without
            impulse responses or with a non-audio file, an SNR that is not a number, an impulse
            response longer than a task's clips, an option without the one it needs.
    """
    check_level(level)
    cap = parse_max_conditions(max_conditions)
    conditions = None
    if kind is not None:
        if kind not in KINDS:
            raise HearbenchError(f"--robustness {kind!r}: unknown kind; choose from {', '.join(KINDS)}")
        source = noise if kind == "noise" else dirs
        if source is None:
            needed = "--noise PATH" if kind == "noise" else "--dirs PATH"
            raise HearbenchError(f"--robustness {kind} needs {needed}")
        parsed = tuple(parse_snr(s) for s in snrs)
        conditions = RobustnessSpec(kind, source, level, parsed, cap, seed).prepare()
    else:
        for name, given in (("--noise", noise), ("--max-conditions", cap), ("--snr", snrs)):
            if given:
                raise HearbenchError(f"{name} needs --robustness KIND")
    augmentation = None
    spec = AugmentSpec.from_options(augment_options, dirs, level, seed)
    if spec is not None:
        augmentation = spec.prepare()
    elif dirs is not None and (conditions is None or conditions.spec.kind == "noise"):
        raise HearbenchError("--dirs needs --robustness dir|room or the dir_augment_* probe options")
    for task in tasks:
        for prepared in (conditions, augmentation):
            if prepared is not None:
                prepared.check_task(task)
    return conditions, augmentation
