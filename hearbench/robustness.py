"""The robustness protocol: a clean-trained probe scored on perturbed test clips.

:func:`evaluate_robustness` runs the ordinary protocol (:func:`hearbench.runner.evaluate`): the
probe is trained and selected on clean train/valid embeddings, exactly as for the clean task,
and scores the clean test folds. Then every test clip is embedded once per test condition (each
unseen device impulse response for ``dir``, each room response for ``room``, each SNR for
``noise``), cached under a key holding the condition's identity, and every fold's fitted probe
scores its test fold under that condition. The result stores the clean and per-condition
scores with their :class:`~hearbench.robustness_summary.RobustnessSummary` and the conditions'
identity, under its own results id (``<probe>@<kind>-<digest>``).

Conditions:

* ``dir``: the unseen devices of the folder (every third of the sorted names,
  :func:`~hearbench.perturb.split_seen_unseen`; 22 of the 66 MicIRP devices);
* ``room``: every impulse response of the folder;
* ``noise``: one condition per SNR, noise drawn from the folder's recordings, seeded per clip.

``max_conditions=N`` keeps ``N`` of them, evenly spread over the sorted list (positions
``floor(i * n / N)``), the same ones on every run.

DIR augmentation (:class:`AugmentSpec`, the ``dir_augment_*`` probe options) adds, for each of
``dir_augment_draws`` seeded draws, a copy of every training clip chosen with probability
``dir_augment_p``, convolved with a random *seen* device, to the training folds only
(:mod:`hearbench.perturb.augment`); validation and test stay clean, and seen and unseen devices
never overlap. An augmented result is stored as ``<probe>+dir_augment-<digest>``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearbench.api import Embedder, HearbenchError
from hearbench.cache import EmbeddingCache, SplitEmbeddings
from hearbench.embed import cache_key, embed_split
from hearbench.metrics import get_metric
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
from hearbench.protocol import FoldOutcome, assemble, heareval_file_order
from hearbench.results import Result
from hearbench.robustness_summary import RobustnessSummary
from hearbench.runner import evaluate, test_scores
from hearbench.tasks.format import Task

log = logging.getLogger(__name__)

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


def _embed(
    embedder: Embedder,
    task: Task,
    split: str,
    cache: EmbeddingCache,
    perturbation: Perturbation,
    files: Sequence[str] | None,
    progress: bool,
) -> tuple[SplitEmbeddings, bool]:
    key = cache_key(embedder, task, split, perturbation, files)
    compute = functools.partial(
        embed_split, embedder, task, split, progress=progress, perturbation=perturbation, files=files
    )
    return cache.get_or_compute(key, compute)


def training_copies(
    embedder: Embedder,
    task: Task,
    augmentation: Augmentation,
    cache: EmbeddingCache,
    progress: bool = True,
) -> tuple[dict[str, list[SplitEmbeddings]], dict[str, int]]:
    """Embeddings of every draw's augmented copies, per split used for training.

    Returns the copies and counts (``copies``, ``computed`` and ``cached`` entries).
    """
    splits = sorted({s for fold in task.fold_splits() for s in fold.train})
    copies: dict[str, list[SplitEmbeddings]] = {}
    counts = {"copies": 0, "computed": 0, "cached": 0}
    for split in splits:
        for draw in augmentation.draws:
            files = [f for f in task.files(split) if draw.device(f"{split}/{f}") is not None]
            if not files:
                continue
            value, fresh = _embed(embedder, task, split, cache, draw, files, progress)
            copies.setdefault(split, []).append(value)
            counts["copies"] += len(files)
            counts["computed" if fresh else "cached"] += 1
    return copies, counts


def score_conditions(
    embedder: Embedder,
    task: Task,
    outcomes: Sequence[FoldOutcome],
    conditions: Conditions,
    cache: EmbeddingCache,
    progress: bool = True,
) -> tuple[dict[str, float], dict[str, Any]]:
    """The primary score (mean over folds) of each condition, with the same fitted probes.

    Returns the scores and a record of the work (per-condition fold scores, cache use,
    clips scaled to peak 1 in the embeddings computed now).
    """
    test_splits = sorted({s for o in outcomes for s in o.split.test})
    order = heareval_file_order(task)
    scores: dict[str, float] = {}
    folds: dict[str, list[float]] = {}
    computed: list[str] = []
    cached: list[str] = []
    for perturbation in conditions.perturbations:
        if hasattr(perturbation, "clipped"):
            perturbation.clipped = 0
        embeddings: dict[str, SplitEmbeddings] = {}
        fresh_any = False
        for split in test_splits:
            embeddings[split], fresh = _embed(embedder, task, split, cache, perturbation, None, progress)
            fresh_any |= fresh
        (computed if fresh_any else cached).append(perturbation.name)
        values = []
        for outcome in outcomes:
            test = assemble(task, outcome.split.test, embeddings, order)
            probs = outcome.probe.predict_proba(test.data)
            fold_scores, _ = test_scores(task, FoldOutcome(outcome.split, outcome.probe, test, probs))
            values.append(float(fold_scores[task.primary_metric]))
        folds[perturbation.name] = values
        scores[perturbation.name] = sum(values) / len(values)
        log.info("%s %s %s: %.4f", embedder.name, task.name, perturbation.name, scores[perturbation.name])
    clipped = {p.name: int(getattr(p, "clipped", 0)) for p in conditions.perturbations}
    record = {
        "condition_folds": folds,
        "conditions_computed": computed,
        "conditions_cached": cached,
        "clipped_clips": {k: v for k, v in clipped.items() if v},
    }
    return scores, record


def evaluate_robustness(
    embedder: Embedder,
    task: Task,
    probe: str = "linear",
    *,
    robustness: RobustnessSpec | Conditions | None = None,
    augment: AugmentSpec | Augmentation | None = None,
    cache: EmbeddingCache | None = None,
    out_dir: str | Path | None = None,
    seed: int = 42,
    probe_options: Mapping[str, Any] | None = None,
    complexity: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> Result:
    """Evaluate ``embedder`` on ``task`` with the clean protocol, then under test conditions.

    Args:
        embedder: The embedder.
        task: A loaded task.
        probe: Probe name.
        robustness: The test conditions (``None``: the clean test only, e.g. for augmentation).
        augment: DIR augmentation of the training folds, or ``None``.
        cache: Embedding cache (default: ``$HEARBENCH_CACHE``).
        out_dir: Results folder; ``None`` keeps the result in memory only.
        seed: Seed of every probe fit.
        probe_options: The probe's own options (as for :func:`hearbench.runner.evaluate`).
        complexity: Complexity figures to store in the result.
        progress: Show progress bars.

    Raises:
        HearbenchError: one line naming the file or option when the folder, a response or an
            SNR is not usable, before anything is embedded or written.
    """
    conditions = robustness.prepare() if isinstance(robustness, RobustnessSpec) else robustness
    augmentation = augment.prepare() if isinstance(augment, AugmentSpec) else augment
    if conditions is None and augmentation is None:
        raise HearbenchError("evaluate_robustness: give test conditions, an augmentation, or both")
    for prepared in (conditions, augmentation):
        if prepared is not None:
            prepared.check_task(task)
    cache = cache or EmbeddingCache()
    copies: dict[str, list[SplitEmbeddings]] | None = None
    augment_counts: dict[str, int] = {}
    start = time.perf_counter()
    if augmentation is not None:
        copies, augment_counts = training_copies(embedder, task, augmentation, cache, progress)
    augment_s = time.perf_counter() - start

    def finish(result: Result, outcomes: Sequence[FoldOutcome]) -> Result:
        timing = dict(result.timing)
        probe_record = dict(result.probe)
        if augmentation is not None:
            probe_record["augment"] = {**augmentation.identity(), "copies": augment_counts["copies"]}
            timing["augment_s"] = round(augment_s, 3)
            timing["augment_entries_computed"] = augment_counts["computed"]
            timing["augment_entries_cached"] = augment_counts["cached"]
        summary = None
        identity = None
        if conditions is not None:
            began = time.perf_counter()
            scores, record = score_conditions(embedder, task, outcomes, conditions, cache, progress)
            timing["robustness_s"] = round(time.perf_counter() - began, 3)
            timing.update({k: v for k, v in record.items() if k != "condition_folds"})
            metric = get_metric(task.primary_metric)
            summary = RobustnessSummary(
                task.primary_metric,
                metric.higher_is_better,
                result.primary.mean,
                scores,
                tuple(p.name for p in conditions.perturbations),
            )
            identity = {**conditions.identity(), "condition_folds": record["condition_folds"]}
        return dataclasses.replace(
            result,
            probe=probe_record,
            timing=timing,
            variant=variant_of(conditions, augmentation),
            robustness=summary,
            perturbation=identity,
        )

    return evaluate(
        embedder,
        task,
        probe,
        cache=cache,
        out_dir=out_dir,
        seed=seed,
        probe_options=probe_options,
        complexity=complexity,
        progress=progress,
        train_copies=copies,
        finish=finish,
    )


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

