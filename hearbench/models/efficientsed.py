"""Checkpoints of EfficientSED's frame-wise MobileNets (``fmn*``) onto :class:`~hearbench.models.mobilenet.MN`.

Facts from github.com/theMoro/EfficientSED:

* ``models/efficient_cnns/fmn/model.py``: the backbone is EfficientAT's MobileNetV3 body under
  ``features.0`` … ``features.16`` with the same module names and shapes as ``MN``
  (``block.<j>``, ``conc_se_layers.0.fc1/fc2``); it has no ``classifier``. Its forward drops the
  frequency axis (one row after the ``fmn`` strides) and returns ``(batch, time, channels)``.
* ``models/prediction_wrapper.py`` (``PredictionsWrapper.load_checkpoint``): the loader renames
  a leading ``net.`` to ``model.`` and ``model.model.`` to ``model.fmn.``, so released files hold
  the backbone under ``model.model.`` or ``net.model.`` (the wrapper's own state dict under
  ``model.fmn.``), beside the head: ``seq_model.*`` (sequence model), ``strong_head.*`` and
  ``weak_head.*`` (linear classifiers), possibly prefixed with ``model.``; the mel frontend's
  buffers are not persistent, so no frontend tensors are stored.
* ``models/efficient_cnns/fmn/model.py`` (``MN.load_model``): training checkpoints of the
  Lightning module wrap all of that in ``{"state_dict": ...}`` with the backbone under
  ``net.model.``.

:func:`backbone_state` maps any of these layouts onto ``MN``'s ``features.*`` keys; the head
keys are dropped with a logged note (the ``mobilenet`` embedder then loads the result strictly,
the classifier excepted). EfficientAT's own checkpoints (``features.*`` and
``classifier.*``) pass through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from hearbench.api import HearbenchError

log = logging.getLogger(__name__)

BACKBONE_PREFIXES = (
    "model.model.fmn.",
    "model.model.",
    "model.fmn.",
    "net.model.",
    "net.fmn.",
    "fmn.",
    "model.",
    "",
)
"""Containers the backbone's ``features.*`` keys may sit under, most specific first."""

HEAD_PARTS = ("seq_model", "strong_head", "weak_head")
"""Modules of EfficientSED's head (sequence model and classifiers) that ``MN`` does not have."""


@dataclass(frozen=True)
class AdaptedState:
    """A checkpoint mapped onto ``MN``'s keys.

    Attributes:
        state: The tensors under ``MN``'s names.
        has_classifier: Whether the checkpoint carries EfficientAT's AudioSet head
            (``classifier.*``); EfficientSED checkpoints do not.
        ignored: EfficientSED head keys that were dropped.
    """

    state: dict[str, torch.Tensor]
    has_classifier: bool
    ignored: tuple[str, ...]


def _head_key(key: str) -> bool:
    first = key.removeprefix("model.").removeprefix("net.").split(".", 1)[0]
    return first in HEAD_PARTS


def _backbone_key(key: str) -> str | None:
    for prefix in BACKBONE_PREFIXES:
        if key.startswith(prefix + "features."):
            return key[len(prefix) :]
    return None


def backbone_state(state: Mapping[str, torch.Tensor], source: str) -> AdaptedState:
    """Map an EfficientAT or EfficientSED checkpoint onto ``MN``'s keys.

    Args:
        state: The loaded state dict (``{"state_dict": ...}`` already unwrapped).
        source: The file, for messages.

    Raises:
        HearbenchError: naming the first key that is neither backbone, EfficientAT
            classifier nor EfficientSED head.
    """
    out: dict[str, torch.Tensor] = {}
    ignored: list[str] = []
    has_classifier = False
    for key in sorted(state):
        if key.startswith("classifier."):
            out[key] = state[key]
            has_classifier = True
            continue
        if _head_key(key):
            ignored.append(key)
            continue
        target = _backbone_key(key)
        if target is None:
            raise HearbenchError(
                f"{source}: key {key!r} is neither a MobileNet backbone key (features.*) nor an "
                f"EfficientSED head key ({', '.join(HEAD_PARTS)})"
            )
        if target in out:
            raise HearbenchError(f"{source}: backbone key {target!r} appears twice (as {key!r})")
        out[target] = state[key]
    if ignored:
        log.info(
            "%s: ignored %d EfficientSED head tensors (%s); the backbone alone is loaded",
            source,
            len(ignored),
            ", ".join(sorted({k.removeprefix("model.").split(".", 1)[0] for k in ignored})),
        )
    return AdaptedState(out, has_classifier, tuple(ignored))
