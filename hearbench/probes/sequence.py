"""Sequence probe: a family of sequence heads over the frame embeddings of each clip.

A frame-wise probe (linear, MLP) labels every frame from that frame alone. Sound event
detection profits from temporal context: the EfficientSED study (Morocutti, Schmid et al.,
"Exploring Performance-Complexity Trade-Offs in Sound Event Detection", EUSIPCO 2025,
arXiv:2503.11373) stacks sequence models (transformer blocks, BiGRU, attention, TCN, Mamba)
on frame-wise MobileNets and finds that which one gives the best trade-off depends on which
cost counts. The ``head`` option picks the context model
(:mod:`hearbench.probes.sequence_nets`): ``bigru`` (the default: cheap on CPU, no positional
encoding, reliable from the few clips an event task has), ``transformer`` (rotary positions),
``tcn`` (dilated convolutions), and the no-context references ``mlp`` and ``linear``; ``d_model``
sets the width and ``layers`` the depth. Every variant trains and is selected the same way,
and its frame probabilities go through the task's event post-processing like any probe's.

Network: standardisation with the training set's per-feature mean and std → Linear(``d_model``)
→ ReLU → Dropout → context (padding never reaches a clip's outputs) → Dropout →
Linear(n_labels); sigmoid per frame for multilabel tasks (event tasks), softmax for
multiclass. Training: Adam at ``lr`` on mini-batches of ``batch_size`` whole clips (shuffled
with the seed), the loss averaged over the real frames of the batch, gradients clipped to norm
``grad_clip``. Early stopping as :class:`~hearbench.probes.mlp.MLPProbe`: the validation
objective checked every ``check_every`` epochs, stop after ``patience`` checks without strict
improvement (NaN never improves), the best checkpoint kept.

The grid is d_model {128, 256} × lr {1e-3, 3e-4} for ``head=bigru``, ``layers=1``, in
``ParameterGrid`` order (keys sorted, last varying fastest); ``param_grid`` takes overrides of
any setting (a list or a scalar, ``head`` and ``layers`` included) and ``points`` (keep the
first ``points``). For ``head=linear`` the unused ``d_model`` and ``layers`` collapse to one
point.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from hearbench.api import HearbenchError
from hearbench.options import Option, OptionSet
from hearbench.probes.base import Objective, Probe, ProbeData
from hearbench.probes.mlp_net import parameter_grid
from hearbench.probes.progress import NO_PROGRESS, FitProgress
from hearbench.probes.sequence_nets import HEADS, SequenceNet, check_width
from hearbench.probes.stopping import EarlyStopping
from hearbench.probes.torch_utils import as_tensor, logit_loss, output_activation

SEQUENCE_GRID: dict[str, list[Any]] = {
    "batch_size": [8],
    "check_every": [5],
    "dropout": [0.1],
    "d_model": [128, 256],
    "grad_clip": [1.0],
    "head": ["bigru"],
    "layers": [1],
    "lr": [1e-3, 3e-4],
    "max_epochs": [300],
    "patience": [8],
}
PREDICT_CLIPS = 64


def clip_bounds(data: ProbeData, who: str = "sequence") -> np.ndarray:
    """The clip offsets of ``data``, checked to tile its rows.

    Raises:
        HearbenchError: ``data`` has no offsets, or they do not run from 0 to ``len(X)``
            without decreasing.
    """
    if data.offsets is None:
        raise HearbenchError(f"{who}: needs frame data with clip offsets (an event task)")
    bounds = np.asarray(data.offsets, dtype=np.int64)
    if (
        bounds.ndim != 1
        or bounds.size < 1
        or bounds[0] != 0
        or bounds[-1] != data.X.shape[0]
        or np.any(np.diff(bounds) < 0)
    ):
        raise HearbenchError(
            f"{who}: offsets must rise from 0 to the {data.X.shape[0]} rows of X, "
            f"got {bounds.size} offsets from {bounds[:1]} to {bounds[-1:]}"
        )
    return bounds


def _pad(rows: torch.Tensor, bounds: np.ndarray, clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded ``(B, T, ·)`` batch of ``clips`` and their lengths."""
    parts = [rows[bounds[c] : bounds[c + 1]] for c in clips]
    lengths = torch.tensor([p.shape[0] for p in parts], dtype=torch.int64)
    return pad_sequence(parts, batch_first=True), lengths


@dataclass
class SequenceProbe(Probe):
    """A sequence head over each clip's frames (see module docstring).

    Attributes:
        head: Context model, one of :data:`~hearbench.probes.sequence_nets.HEADS`.
        d_model: Projection and context width (BiGRU: ``d_model // 2`` units per direction).
        layers: Layers of the context model.
        lr: Adam learning rate.
        dropout: Dropout probability.
        batch_size: Clips per training batch.
        max_epochs: Upper bound on training epochs.
        check_every: Epochs between validation checks.
        patience: Checks without strict improvement before stopping.
        grad_clip: Maximum gradient norm; 0 disables clipping.
    """

    name: ClassVar[str] = "sequence"
    OPTIONS: ClassVar[OptionSet] = OptionSet(
        "sequence",
        (
            Option("batch_size", "int", SEQUENCE_GRID["batch_size"], "clips per training batch", minimum=1, grid=True),
            Option("check_every", "int", SEQUENCE_GRID["check_every"], "epochs between validation checks", minimum=1, grid=True),
            Option("dropout", "float", SEQUENCE_GRID["dropout"], "dropout probability", minimum=0.0, grid=True),
            Option("grad_clip", "float", SEQUENCE_GRID["grad_clip"], "maximum gradient norm (0: no clipping)", minimum=0.0, grid=True),
            Option("d_model", "int", SEQUENCE_GRID["d_model"], "width of the projection and the context model", minimum=2, grid=True),
            Option("head", "str", SEQUENCE_GRID["head"], "context model of the sequence head", choices=HEADS, grid=True),
            Option("layers", "int", SEQUENCE_GRID["layers"], "layers of the context model", minimum=1, grid=True),
            Option("lr", "float", SEQUENCE_GRID["lr"], "Adam learning rate", minimum=0.0, exclusive=True, grid=True),
            Option("max_epochs", "int", SEQUENCE_GRID["max_epochs"], "upper bound on training epochs", minimum=1, grid=True),
            Option("patience", "int", SEQUENCE_GRID["patience"], "checks without improvement before stopping", minimum=1, grid=True),
            Option("points", "int", None, "keep the first grid points (default: all)", minimum=1),
        ),
    )
    head: str = "bigru"
    d_model: int = 128
    layers: int = 1
    lr: float = 1e-3
    dropout: float = 0.1
    batch_size: int = 8
    max_epochs: int = 300
    check_every: int = 5
    patience: int = 8
    grad_clip: float = 1.0
    model_: SequenceNet | None = field(default=None, init=False, repr=False)
    best_epoch_: int = field(default=-1, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.head not in HEADS:
            raise HearbenchError(f"sequence: head must be one of {', '.join(HEADS)}, got {self.head!r}")
        problem = check_width(self.head, int(self.d_model))
        if problem is not None:
            raise HearbenchError(f"sequence: {problem}")
        for key in ("batch_size", "max_epochs", "check_every", "patience", "layers"):
            if int(getattr(self, key)) < 1:
                raise HearbenchError(f"sequence: {key} must be at least 1, got {getattr(self, key)}")

    @classmethod
    def param_grid(cls, **protocol: Any) -> list[dict[str, Any]]:
        """d_model × lr grid; ``protocol`` may override any setting (list or scalar) or ``points``."""
        protocol = cls.OPTIONS.resolve(protocol, defaults=False)
        points = protocol.pop("points", None)
        overrides = {k: v if isinstance(v, list) else [v] for k, v in protocol.items()}
        confs = []
        for conf in parameter_grid({**SEQUENCE_GRID, **overrides}):
            if conf["head"] == "linear":  # no projection, no context: one point per other setting
                conf = {**conf, "d_model": SEQUENCE_GRID["d_model"][0], "layers": 1}
            if conf not in confs:
                confs.append(conf)
        return confs if points is None else confs[: int(points)]

    def fit(
        self,
        train: ProbeData,
        valid: ProbeData,
        objective: Objective,
        progress: FitProgress = NO_PROGRESS,
    ) -> SequenceProbe:
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        bounds = clip_bounds(train)
        X, Y = as_tensor(train.X), as_tensor(train.Y)
        model = SequenceNet(
            X.shape[1],
            Y.shape[1],
            self.d_model,
            self.dropout,
            X.mean(dim=0),
            X.std(dim=0, unbiased=False) + 1e-8,
            self.head,
            self.layers,
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        clips = np.flatnonzero(np.diff(bounds) > 0)
        if clips.size == 0:
            raise HearbenchError("sequence: the training data has no frames")
        stopping: EarlyStopping[dict[str, torch.Tensor]] = EarlyStopping(
            objective, self.patience, stop_on_non_finite=False
        )
        for epoch in range(self.max_epochs):
            model.train()
            order = clips[torch.randperm(clips.size, generator=generator).numpy()]
            for start in range(0, order.size, self.batch_size):
                batch = order[start : start + self.batch_size]
                x, lengths = _pad(X, bounds, batch)
                y, _ = _pad(Y, bounds, batch)
                mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]
                optimizer.zero_grad(set_to_none=True)
                loss = logit_loss(model(x, lengths)[mask], y[mask], self.prediction_type)
                loss.backward()
                if self.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
                optimizer.step()
            if (epoch + 1) % self.check_every:
                continue
            self.model_ = model
            score, info = objective.evaluate(self.predict_proba(valid))
            progress.check(epoch, score)
            if stopping.check(score, info, epoch, lambda: copy.deepcopy(model.state_dict())):
                break
        if stopping.best_state is None:
            raise HearbenchError("sequence: max_epochs is smaller than check_every; nothing was validated")
        model.load_state_dict(stopping.best_state)
        self.model_ = model
        self.valid_score_, self.valid_info_, self.best_epoch_ = (
            stopping.best_score,
            stopping.best_info,
            stopping.best_epoch,
        )
        return self

    def head_module(self) -> SequenceNet:
        if self.model_ is None:
            raise HearbenchError("sequence: call fit before head_module")
        return self.model_

    def head_forward(self, frames: torch.Tensor) -> torch.Tensor:
        model = self.head_module().eval()
        lengths = torch.tensor([frames.shape[0]], dtype=torch.int64)
        return output_activation(model(frames.float()[None], lengths)[0], self.prediction_type)

    def predict_proba(self, data: ProbeData) -> np.ndarray:
        if self.model_ is None:
            raise HearbenchError("sequence: call fit before predict_proba")
        bounds = clip_bounds(data)
        model = self.model_
        out = np.zeros((data.X.shape[0], model.head.out_features), dtype=np.float32)
        clips = np.flatnonzero(np.diff(bounds) > 0)
        clips = clips[np.argsort(np.diff(bounds)[clips], kind="stable")]
        X = as_tensor(data.X)
        model.eval()
        with torch.inference_mode():
            for start in range(0, clips.size, PREDICT_CLIPS):
                batch = clips[start : start + PREDICT_CLIPS]
                x, lengths = _pad(X, bounds, batch)
                probs = output_activation(model(x, lengths), self.prediction_type).numpy()
                for row, clip in enumerate(batch):
                    out[bounds[clip] : bounds[clip + 1]] = probs[row, : lengths[row]]
        return out
