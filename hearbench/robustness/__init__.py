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
from hearbench.robustness.conditions import (
    AUGMENT_OPTIONS,
    KINDS,
    Augmentation,
    AugmentSpec,
    Conditions,
    RobustnessSpec,
    cap_conditions,
    check_level,
    parse_max_conditions,
    prepare_run,
    split_augment_options,
    variant_of,
)
from hearbench.robustness.evaluate import evaluate_robustness, score_conditions, training_copies

__all__ = [
    "AUGMENT_OPTIONS",
    "KINDS",
    "AugmentSpec",
    "Augmentation",
    "Conditions",
    "RobustnessSpec",
    "cap_conditions",
    "check_level",
    "evaluate_robustness",
    "parse_max_conditions",
    "prepare_run",
    "score_conditions",
    "split_augment_options",
    "training_copies",
    "variant_of",
]
