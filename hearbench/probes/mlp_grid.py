"""The stacked MLP grid (``--probe-option grid=stacked``): points trained together, in lockstep.

:func:`fit_stacked` fits a list of MLP probes (typically the 8 grid points of the HEAR protocol)
and leaves each in the state its own plain fit with ``seeding=point`` would leave it in. Probes
that differ only in ``lr`` and ``initialization`` share an architecture and are trained together
by a :class:`StackedTrainer`: their weights, batch statistics and Adam state live in tensors
with a leading point axis; every step draws one training batch for all points, runs one autograd
graph and one backward pass, updates all points with Adam at each point's learning rate, and
every validation check scores all points from one prediction pass. Each point keeps the early
stopping of the plain loop (:class:`~hearbench.probes.stopping.EarlyStopping`); stopped points
leave the stack, so later epochs only pay for the points still training.

Random streams: each point's initial weights come from ``torch.manual_seed(seed)`` followed by
:func:`~hearbench.probes.mlp_net.build_mlp`, its dropout masks from a generator continuing that
stream, and the batch order (when ``shuffle_train``) from ``torch.Generator().manual_seed(seed)``.
This is not heareval's stream (one global stream through all points, see
:mod:`hearbench.probes.mlp`), so the stacked grid is a named variant, not the protocol. The
global random state is left untouched.

In ``float32`` each point's layers run the very operations of its plain fit (per-point matrix
products and batch norm rather than batched ones, whose rounding depends on the batch size;
masks drawn as ``torch.nn.functional.dropout`` draws them on the CPU; Adam as
``torch.optim.Adam`` computes it), so the results equal the plain ``seeding=point`` fits', bit
for bit on the CPUs tested. On a CPU the gain is only the shared per-step work.

``precision="bfloat16"`` is the fast variant (:class:`FastArithmetic`): the network runs in
bfloat16 (weights cast from float32 master copies every step, activations and batch-norm inputs
in bfloat16, batch statistics and running statistics accumulated in float32), each dropout mask
is cut from 64-bit random words of the point's generator, 16 bits an element (drop probability
``round(p * 65536) / 65536``, the survivors scaled by its complement), and Adam runs fused over
each learning rate's points. Losses, master weights and optimiser state stay float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hearbench.api import HearbenchError
from hearbench.probes.base import Objective, ProbeData
from hearbench.probes.mlp_arithmetic import Arithmetic, ExactArithmetic, FastArithmetic
from hearbench.probes.mlp_net import MLPSpec, build_spec_mlp
from hearbench.probes.progress import NO_PROGRESS, FitProgress
from hearbench.probes.stopping import EarlyStopping
from hearbench.probes.torch_utils import as_tensor, output_activation

BN_MOMENTUM = 0.1
BN_EPS = 1e-5
VARYING = frozenset({"lr", "initialization"})
"""Hyperparameters that may differ between the points of one stack."""


def fit_stacked(
    probes: Sequence[Any],
    train: ProbeData,
    valid: ProbeData,
    objective: Objective,
    progress: FitProgress = NO_PROGRESS,
) -> None:
    """Fit ``probes`` (MLP probes, :class:`MLPSpec`) together where their architectures allow.

    Args:
        probes: Unfitted probes (hyperparameters set).
        train: Training data.
        valid: Validation data for the objective.
        objective: Validation objective (the task's primary metric).
        progress: Hears each validation check of a stack (the best score of the points
            checked) and each point, by its index in ``probes``, as it leaves its stack.

    Each probe gets ``model_``, ``valid_score_``, ``valid_info_`` and ``best_epoch_``.
    """
    groups: dict[str, list[int]] = {}
    for index, probe in enumerate(probes):
        key = repr(sorted((k, v) for k, v in probe.get_params().items() if k not in VARYING))
        groups.setdefault(key, []).append(index)
    X, Y = as_tensor(train.X), as_tensor(train.Y)
    Xv = as_tensor(valid.X)
    with torch.random.fork_rng(devices=[]), ThreadPoolExecutor(max_workers=2) as pool:
        for indices in groups.values():
            members = [probes[index] for index in indices]
            fast = members[0].precision == "bfloat16"
            arithmetic = FastArithmetic(pool) if fast else ExactArithmetic(pool)
            StackedTrainer(members, X, Y, arithmetic).run(Xv, objective, progress, indices)


@dataclass
class _Layer:
    """One linear layer of every point: ``weight (P, out, in)``, ``bias (P, out)``; BatchNorm
    affine parameters and running statistics ``(P, out)`` for hidden layers."""

    weight: torch.Tensor
    bias: torch.Tensor
    bn_weight: torch.Tensor | None = None
    bn_bias: torch.Tensor | None = None
    running_mean: torch.Tensor | None = None
    running_var: torch.Tensor | None = None

    def parameters(self) -> list[torch.Tensor]:
        """Trainable tensors, in the order of ``build_mlp``'s ``parameters()``."""
        params = [self.weight, self.bias]
        if self.bn_weight is not None and self.bn_bias is not None:
            params += [self.bn_weight, self.bn_bias]
        return params

    def buffers(self) -> list[torch.Tensor]:
        """BatchNorm running statistics (empty for the output layer)."""
        if self.running_mean is None or self.running_var is None:
            return []
        return [self.running_mean, self.running_var]


class StackedTrainer:
    """The points of one architecture trained together with heareval's loop (module docstring).

    Args:
        probes: Probes equal in every hyperparameter but ``lr`` and ``initialization``.
        X: Training embeddings ``(n, F)``.
        Y: Training targets ``(n, C)``.
        arithmetic: How the layers compute, draw dropout masks and step Adam.
    """

    def __init__(
        self,
        probes: Sequence[MLPSpec],
        X: torch.Tensor,
        Y: torch.Tensor,
        arithmetic: Arithmetic,
    ) -> None:
        self.probes = list(probes)
        self.spec = probes[0]
        self.X, self.Y = X, Y
        self.arithmetic = arithmetic
        self.inputs = X.to(arithmetic.dtype)
        self.targets = Y.argmax(dim=-1) if self.spec.prediction_type == "multiclass" else Y
        nets, generators = [], []
        for probe in self.probes:
            torch.manual_seed(probe.seed)
            nets.append(build_spec_mlp(probe, X.shape[1], Y.shape[1]))
            generator = torch.Generator()
            generator.set_state(torch.get_rng_state())
            generators.append(generator)
        self.generators = generators
        self.layers = _stack_layers(nets)
        self.lr = [float(p.lr) for p in self.probes]
        self.exp_avg = [torch.zeros_like(t) for t in self.parameters()]
        self.exp_avg_sq = [torch.zeros_like(t) for t in self.parameters()]
        self.step = 0
        self.active = list(range(len(self.probes)))
        self.best_state: list[list[torch.Tensor] | None] = [None] * len(self.probes)
        self.best_steps = [0] * len(self.probes)

    def parameters(self) -> list[torch.Tensor]:
        """Every trainable stacked tensor."""
        return [t for layer in self.layers for t in layer.parameters()]

    def run(
        self,
        Xv: torch.Tensor,
        objective: Objective,
        progress: FitProgress = NO_PROGRESS,
        indices: Sequence[int] | None = None,
    ) -> None:
        """Train until every point has stopped, validating on ``Xv``; set each probe's state.

        ``progress`` hears each check (the best score of the points checked) and each point as
        it stops, by its entry in ``indices`` (default: its position in the stack's probes).
        """
        indices = list(range(len(self.probes))) if indices is None else list(indices)
        spec = self.spec
        generator = torch.Generator().manual_seed(spec.seed)
        n = self.X.shape[0]
        stopping: list[EarlyStopping[list[torch.Tensor]]] = [
            EarlyStopping(objective, spec.patience) for _ in self.probes
        ]
        for epoch in range(spec.max_epochs):
            if not self.active:
                break
            order = torch.randperm(n, generator=generator) if spec.shuffle_train else torch.arange(n)
            for start in range(0, n, spec.batch_size):
                index = order[start : start + spec.batch_size]
                if index.numel() < 2 and spec.hidden_layers > 0:
                    continue
                self._train_step(index)
            if (epoch + 1) % spec.check_val_every_n_epoch:
                continue
            probabilities = self.predict(Xv)
            stopped = []
            checked = []
            for slot, point in enumerate(self.active):
                score, info = objective.evaluate(probabilities[slot])
                checked.append(score)
                steps = self.step
                state = stopping[point]
                before = state.best_state
                if state.check(score, info, epoch, functools.partial(self._state_of, slot)):
                    stopped.append(slot)
                if state.best_state is not before:
                    self.best_steps[point] = steps
            progress.check(epoch, _best(checked, objective))
            for slot in stopped:
                point = self.active[slot]
                progress.point_done(indices[point], stopping[point].best_score)
            if stopped:
                self._drop(stopped)
        for point in self.active:
            progress.point_done(indices[point], stopping[point].best_score)
        for point, probe in enumerate(self.probes):
            self.best_state[point] = stopping[point].best_state
            probe.model_ = self._network(point)
            probe.valid_score_ = stopping[point].best_score
            probe.valid_info_ = stopping[point].best_info
            probe.best_epoch_ = stopping[point].best_epoch

    def forward(
        self, x: torch.Tensor, train: bool, weights: Sequence[Sequence[torch.Tensor]] | None = None
    ) -> torch.Tensor:
        """Logits ``(P, n, C)`` of every active point for shared input ``x (n, F)``.

        ``weights`` holds, per trainable tensor (in :meth:`parameters` order), one tensor per
        active point (:meth:`_leaves` when training); by default the stack's own slices.

        ``x`` is in the arithmetic's dtype. Each point's layers run with the very operations of
        its sequential fit (in that dtype), so they round alike for every batch size and stay in
        cache-sized pieces on the CPU.
        """
        dtype = self.arithmetic.dtype
        per_point = iter(weights if weights is not None else [t.unbind(0) for t in self.parameters()])
        inputs: Sequence[torch.Tensor] = [x] * len(self.active)
        for layer in self.layers:
            outputs = [
                F.linear(values, weight.to(dtype), bias.to(dtype))
                for values, weight, bias in zip(inputs, next(per_point), next(per_point), strict=True)
            ]
            if layer.bn_weight is None or layer.bn_bias is None:
                return torch.stack(outputs)
            assert layer.running_mean is not None and layer.running_var is not None
            normed = [
                F.batch_norm(
                    values,
                    layer.running_mean[slot],
                    layer.running_var[slot],
                    weight,
                    bias,
                    training=train,
                    momentum=BN_MOMENTUM,
                    eps=BN_EPS,
                )
                for slot, (values, weight, bias) in enumerate(
                    zip(outputs, next(per_point), next(per_point), strict=True)
                )
            ]
            if train:
                generators = [self.generators[point] for point in self.active]
                inputs = self.arithmetic.dropout_relu(normed, generators, self.spec.dropout)
            else:
                inputs = [torch.relu(values) for values in normed]
        raise HearbenchError("mlp: a network needs an output layer")

    def predict(self, x: torch.Tensor) -> list[np.ndarray]:
        """Probabilities of every active point (evaluation mode), one array per point."""
        parts = []
        x = x.to(self.arithmetic.dtype)
        with torch.no_grad():
            for start in range(0, x.shape[0], self.spec.batch_size):
                logits = self.forward(x[start : start + self.spec.batch_size], train=False).float()
                parts.append(output_activation(logits, self.spec.prediction_type))
        if not parts:
            return [np.zeros((0, 0), dtype=np.float32) for _ in self.active]
        joined = torch.cat(parts, dim=1)
        return [joined[slot].numpy() for slot in range(len(self.active))]

    def _train_step(self, index: torch.Tensor) -> None:
        """One optimiser step of every active point on training rows ``index``."""
        leaves = self._leaves()
        logits = self.forward(self.inputs[index], train=True, weights=leaves).float()
        if self.spec.prediction_type == "multiclass":
            target = self.targets[index].repeat(logits.shape[0])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target, reduction="none")
        else:
            target = self.targets[index].expand_as(logits)
            loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        per_point = loss.view(logits.shape[0], -1).mean(dim=1)
        params = [leaf for group in leaves for leaf in group]
        grads = torch.autograd.grad(per_point.sum(), params)
        self.step += 1
        slots = range(len(self.active))
        self.arithmetic.adam(
            params,
            grads,
            [avg[slot] for avg in self.exp_avg for slot in slots],
            [avg_sq[slot] for avg_sq in self.exp_avg_sq for slot in slots],
            [self.lr[self.active[slot]] for _ in self.exp_avg for slot in slots],
            self.step,
        )

    def _leaves(self) -> list[list[torch.Tensor]]:
        """Per trainable tensor, each active point's slice as a leaf that collects its own
        gradient (slices share the stack's memory, so the optimiser updates the stack)."""
        return [
            [t[slot].detach().requires_grad_() for slot in range(len(self.active))]
            for t in self.parameters()
        ]

    def _state_of(self, slot: int) -> list[torch.Tensor]:
        """A copy of the weights and statistics of the point in ``slot``."""
        return [
            t[slot].detach().clone()
            for layer in self.layers
            for t in (*layer.parameters(), *layer.buffers())
        ]

    def _drop(self, slots: Sequence[int]) -> None:
        """Remove stopped points from the stack (weights, optimiser state, statistics)."""
        stopped = set(slots)
        keep = [slot for slot in range(len(self.active)) if slot not in stopped]
        index = torch.tensor(keep, dtype=torch.long)
        self.active = [self.active[slot] for slot in keep]
        if not keep:
            return
        for layer in self.layers:
            for name in ("weight", "bias", "bn_weight", "bn_bias", "running_mean", "running_var"):
                value = getattr(layer, name)
                if value is None:
                    continue
                setattr(layer, name, value.index_select(0, index))
        self.exp_avg = [t.index_select(0, index) for t in self.exp_avg]
        self.exp_avg_sq = [t.index_select(0, index) for t in self.exp_avg_sq]

    def _network(self, point: int) -> torch.nn.Sequential:
        """The best checkpoint of ``point`` as the sequential fit's ``torch.nn.Sequential``."""
        probe = self.probes[point]
        state = self.best_state[point]
        assert state is not None
        model = build_spec_mlp(probe, self.X.shape[1], self.Y.shape[1])
        with torch.no_grad():
            for target, value in zip(_checkpoint_order(model), state, strict=True):
                target.copy_(value)
        for module in model:
            if isinstance(module, torch.nn.BatchNorm1d):
                module.num_batches_tracked = torch.tensor(self.best_steps[point])
        return model.eval()


def _best(scores: Sequence[float], objective: Objective) -> float:
    """The best of ``scores`` in the objective's direction (NaN when all are NaN)."""
    best = math.nan
    for score in scores:
        if math.isnan(best) or objective.improves(score, best):
            best = score
    return best


def _checkpoint_order(model: torch.nn.Sequential) -> list[torch.Tensor]:
    """Tensors of ``model`` in the order :meth:`StackedTrainer._state_of` stores them."""
    order: list[torch.Tensor] = []
    modules = list(model)
    for position, module in enumerate(modules):
        if not isinstance(module, torch.nn.Linear):
            continue
        order += [module.weight, module.bias]
        following = modules[position + 1] if position + 1 < len(modules) else None
        if isinstance(following, torch.nn.BatchNorm1d):
            assert following.running_mean is not None and following.running_var is not None
            order += [following.weight, following.bias, following.running_mean, following.running_var]
    return order


def _stack_layers(nets: Sequence[torch.nn.Sequential]) -> list[_Layer]:
    """Stack the initial weights of ``nets`` (one architecture) along a leading point axis."""
    per_net = [_checkpoint_order(net) for net in nets]
    layers: list[_Layer] = []
    position = 0
    for module in nets[0]:
        if isinstance(module, torch.nn.Linear):
            layers.append(
                _Layer(*(torch.stack([state[position + i].detach() for state in per_net]) for i in range(2)))
            )
            position += 2
        elif isinstance(module, torch.nn.BatchNorm1d):
            bn = [torch.stack([state[position + i].detach() for state in per_net]) for i in range(4)]
            layer = layers[-1]
            layer.bn_weight, layer.bn_bias, layer.running_mean, layer.running_var = bn
            position += 4
    return layers
