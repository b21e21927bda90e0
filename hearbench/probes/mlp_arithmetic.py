"""How a stacked MLP grid computes: exact float32 (the protocol) or the fast bfloat16 variant.

:class:`~hearbench.probes.mlp_grid.StackedTrainer` asks an :class:`Arithmetic` for three
things: the dtype its layers compute in (weights and inputs are cast to it), each point's dropout
and ReLU, and the Adam update. :class:`ExactArithmetic` reproduces the sequential fit operation for operation;
:class:`FastArithmetic` trades that equality for speed (see :mod:`hearbench.probes.mlp_grid`).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from torch.optim.adam import adam as functional_adam

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
MASK_LEVELS = 1 << 16
"""Distinct uniform levels of one fast dropout draw (16 random bits an element)."""


class Arithmetic(abc.ABC):
    """What a stacked grid computes in: its dtype, its dropout + ReLU and its Adam step.

    Args:
        pool: Threads that draw the points' dropout masks concurrently.
    """

    dtype: torch.dtype

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    @abc.abstractmethod
    def dropout_relu(
        self, values: Sequence[torch.Tensor], generators: Sequence[torch.Generator], p: float
    ) -> list[torch.Tensor]:
        """ReLU of dropout (rate ``p``) of each point's values, with that point's generator."""

    @abc.abstractmethod
    def adam(
        self,
        params: Sequence[torch.Tensor],
        grads: Sequence[torch.Tensor],
        exp_avg: Sequence[torch.Tensor],
        exp_avg_sq: Sequence[torch.Tensor],
        lrs: Sequence[float],
        step: int,
    ) -> None:
        """One Adam step (defaults), in place, ``params[i]`` at rate ``lrs[i]`` with state
        ``exp_avg[i]``, ``exp_avg_sq[i]``; ``step`` counts from 1."""


class ExactArithmetic(Arithmetic):
    """float32 throughout, dropout masks and Adam exactly as the sequential fit draws and steps."""

    dtype = torch.float32

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        super().__init__(pool)
        self._denom: list[torch.Tensor] = []

    def dropout(
        self, values: Sequence[torch.Tensor], generators: Sequence[torch.Generator], p: float
    ) -> list[torch.Tensor]:
        """``torch.nn.functional.dropout`` of each point's values with that point's generator.

        The masks are drawn as the CPU kernel draws them (``bernoulli_`` into a fresh tensor,
        scaled by ``1 / (1 - p)``), the points' masks concurrently.
        """
        if p == 0:
            return list(values)
        if p == 1:
            return [v * torch.zeros(()) for v in values]
        keep = 1 - p

        def mask(slot: int) -> torch.Tensor:
            return torch.empty_like(values[slot]).bernoulli_(keep, generator=generators[slot]).div_(keep)

        masks = self.pool.map(mask, range(len(values)))
        return [v * m for v, m in zip(values, masks, strict=True)]

    def dropout_relu(
        self, values: Sequence[torch.Tensor], generators: Sequence[torch.Generator], p: float
    ) -> list[torch.Tensor]:
        """:meth:`dropout`, then ``torch.relu``, as the network's modules apply them."""
        return [torch.relu(v) for v in self.dropout(values, generators, p)]

    @torch.no_grad()
    def adam(
        self,
        params: Sequence[torch.Tensor],
        grads: Sequence[torch.Tensor],
        exp_avg: Sequence[torch.Tensor],
        exp_avg_sq: Sequence[torch.Tensor],
        lrs: Sequence[float],
        step: int,
    ) -> None:
        """``torch.optim.Adam`` (defaults, single-tensor form), in place, ``params[i]`` at rate
        ``lrs[i]`` with state ``exp_avg[i]``, ``exp_avg_sq[i]``; ``step`` counts from 1."""
        beta1, beta2 = ADAM_BETAS
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        for param, grad, avg, avg_sq, lr, denom in zip(
            params, grads, exp_avg, exp_avg_sq, lrs, self._denominators(exp_avg), strict=True
        ):
            avg.lerp_(grad, 1 - beta1)
            avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            torch.sqrt(avg_sq, out=denom).div_(bias_correction2_sqrt).add_(ADAM_EPS)
            param.addcdiv_(avg, denom, value=-lr / bias_correction1)

    def _denominators(self, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Reusable buffers shaped as the optimiser state (fewer large allocations)."""
        if len(self._denom) != len(like) or any(
            d.shape != e.shape for d, e in zip(self._denom, like, strict=True)
        ):
            self._denom = [torch.empty_like(t) for t in like]
        return self._denom


class _DropReLU(torch.autograd.Function):
    """``relu(x) * multiplier`` for a multiplier of zeros and one positive ``scale``; the
    gradient is ``scale`` where the output is positive, zero elsewhere."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, multiplier: torch.Tensor, scale: float) -> torch.Tensor:
        out = torch.relu(x).mul_(multiplier)
        ctx.save_for_backward(out)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (out,) = ctx.saved_tensors
        return torch.ops.aten.threshold_backward(grad, out, 0).mul_(ctx.scale), None, None


class FastArithmetic(Arithmetic):
    """bfloat16 layers, dropout masks from packed random bits, fused Adam (module docstring)."""

    dtype = torch.bfloat16

    def dropout_relu(
        self, values: Sequence[torch.Tensor], generators: Sequence[torch.Generator], p: float
    ) -> list[torch.Tensor]:
        """ReLU of inverted dropout of each point's values, in one autograd step (:class:`_DropReLU`).

        An element survives when 16 random bits of its point's generator, read as a uniform level
        in ``[0, 65536)``, reach ``round(p * 65536)``; survivors are scaled by
        ``65536 / (65536 - round(p * 65536))``. The points' masks are drawn concurrently.
        """
        dropped = round(p * MASK_LEVELS)
        if dropped == MASK_LEVELS:
            return [torch.relu(v) * 0 for v in values]
        if dropped == 0:
            return [torch.relu(v) for v in values]
        threshold = dropped - MASK_LEVELS // 2
        scale = MASK_LEVELS / (MASK_LEVELS - dropped)

        def multiplier(slot: int) -> torch.Tensor:
            shape, count = values[slot].shape, values[slot].numel()
            words = torch.empty((count + 3) // 4, dtype=torch.int64)
            words.random_(-(1 << 63), None, generator=generators[slot])
            keep = words.view(torch.int16)[:count].view(shape) >= threshold
            return keep.to(values[slot].dtype).mul_(scale)

        multipliers = self.pool.map(multiplier, range(len(values)))
        return [_DropReLU.apply(v, m, scale) for v, m in zip(values, multipliers, strict=True)]

    @torch.no_grad()
    def adam(
        self,
        params: Sequence[torch.Tensor],
        grads: Sequence[torch.Tensor],
        exp_avg: Sequence[torch.Tensor],
        exp_avg_sq: Sequence[torch.Tensor],
        lrs: Sequence[float],
        step: int,
    ) -> None:
        """As :meth:`ExactArithmetic.adam`, in torch's fused CPU kernel, one call per rate."""
        beta1, beta2 = ADAM_BETAS
        for lr in sorted(set(lrs)):
            chosen = [i for i, rate in enumerate(lrs) if rate == lr]
            views = [[group[i] for i in chosen] for group in (params, grads, exp_avg, exp_avg_sq)]
            steps = [torch.tensor(float(step - 1)) for _ in views[0]]
            functional_adam(
                views[0],
                views[1],
                views[2],
                views[3],
                [],
                steps,
                fused=True,
                amsgrad=False,
                beta1=beta1,
                beta2=beta2,
                lr=lr,
                weight_decay=0.0,
                eps=ADAM_EPS,
                maximize=False,
            )
