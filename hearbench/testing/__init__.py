"""Public contract checks for embedders, in the manner of scikit-learn's ``check_estimator``.

Every property of the embedder contract is one named ``check_*`` function
(:mod:`hearbench.testing.checks`) that returns what it saw or raises :class:`ContractError`
with a one-line reason; no check relies on ``assert``, so they hold under ``python -O``.

* :func:`check_embedder` runs all (or some) checks, with known failures, and reports every
  outcome;
* :func:`parametrize_with_checks` turns embedders into one pytest case per (embedder, check);
* :func:`validate_timestamp_outputs` and :func:`validate_scene_outputs` apply the output
  properties to outputs computed elsewhere; embedding a task checks every batch with them.

The rules are the HEAR 2021 validator's (sample rate, integer sizes, float32 outputs, shapes,
timestamps in milliseconds at frame centres, evenly spaced, none beyond the clip) and more: no
NaN/Inf, batch independence, determinism, very short and long clips, no timestamp drift, and
sizes equal to what ``layer_info`` announces.
"""

from hearbench.testing.checks import (
    ALL_CHECKS,
    CHECKS,
    Check,
    check_batch_independence,
    check_determinism,
    check_embedding_sizes,
    check_finite,
    check_long_clip,
    check_no_timestamp_drift,
    check_sample_rate,
    check_scene_embeddings,
    check_short_clip,
    check_timestamp_embeddings,
    check_timestamps_at_frame_centres,
    check_timestamps_evenly_spaced,
    check_timestamps_within_clip,
)
from hearbench.testing.context import CheckContext
from hearbench.testing.parametrize import parametrize_with_checks
from hearbench.testing.report import CheckReport, CheckResult, check_embedder, select_checks
from hearbench.testing.rules import (
    HEAR_SAMPLE_RATES,
    JITTER_MS,
    ContractError,
    contract_audio,
    validate_scene_outputs,
    validate_timestamp_outputs,
)

__all__ = [
    "ALL_CHECKS",
    "CHECKS",
    "HEAR_SAMPLE_RATES",
    "JITTER_MS",
    "Check",
    "CheckContext",
    "CheckReport",
    "CheckResult",
    "ContractError",
    "check_batch_independence",
    "check_determinism",
    "check_embedder",
    "check_embedding_sizes",
    "check_finite",
    "check_long_clip",
    "check_no_timestamp_drift",
    "check_sample_rate",
    "check_scene_embeddings",
    "check_short_clip",
    "check_timestamp_embeddings",
    "check_timestamps_at_frame_centres",
    "check_timestamps_evenly_spaced",
    "check_timestamps_within_clip",
    "contract_audio",
    "parametrize_with_checks",
    "select_checks",
    "validate_scene_outputs",
    "validate_timestamp_outputs",
]
