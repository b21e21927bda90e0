"""Small torch helpers shared by the probes."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from hearbench.api import HearbenchError

PRECISIONS = ("float32", "bfloat16")
"""Matrix-product precisions of the trainable probes: ``float32`` (the protocol's) or
``bfloat16`` (autocast: matrix products in bfloat16, weights, optimiser and losses in float32)."""


def output_activation(logits: torch.Tensor, prediction_type: str) -> torch.Tensor:
    """Softmax for multiclass, sigmoid for multilabel."""
    if prediction_type == "multiclass":
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits)


def logit_loss(logits: torch.Tensor, targets: torch.Tensor, prediction_type: str) -> torch.Tensor:
    """Cross-entropy on the arg-max of one-hot targets, or BCE with logits for multilabel."""
    return prepared_loss(logits, loss_targets(targets, prediction_type), prediction_type)


def loss_targets(targets: torch.Tensor, prediction_type: str) -> torch.Tensor:
    """What :func:`prepared_loss` compares with: class indices (multiclass) or the targets."""
    return targets.argmax(dim=-1) if prediction_type == "multiclass" else targets


def prepared_loss(logits: torch.Tensor, targets: torch.Tensor, prediction_type: str) -> torch.Tensor:
    """:func:`logit_loss` on targets already passed through :func:`loss_targets`."""
    if prediction_type == "multiclass":
        return torch.nn.functional.cross_entropy(logits, targets)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """A float32 CPU tensor sharing memory with ``array`` where possible."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def check_precision(probe: str, precision: str) -> None:
    """Refuse a precision outside :data:`PRECISIONS`, naming the probe."""
    if precision not in PRECISIONS:
        raise HearbenchError(
            f"{probe}: precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
        )


def matmul_precision(precision: str) -> contextlib.AbstractContextManager[object]:
    """A context running matrix products on the CPU in ``precision`` (a no-op for float32).

    bfloat16 uses CPU autocast: on processors with bfloat16 matrix units (AVX512-BF16, AMX) the
    products run several times faster, at bfloat16's 8-bit mantissa; everything autocast keeps
    in float32 (losses, weights, optimiser state) stays float32.
    """
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast("cpu", dtype=torch.bfloat16)


def draw_loader_seed() -> None:
    """Advance torch's global stream as one ``DataLoader`` iteration does.

    Every iterator of a ``torch.utils.data.DataLoader`` draws a 64-bit base seed from the
    global generator when it starts, shuffled or not; heareval starts one per training epoch and
    one per validation check, and that shifts every later dropout mask.
    """
    torch.empty((), dtype=torch.int64).random_()


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch, as Lightning's ``seed_everything``."""
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
