"""The embedder contract: what every audio representation in hearbench provides.

An :class:`Embedder` turns mono audio at its ``sample_rate`` into timestamp embeddings
``(n, T, D)`` with timestamps ``(n, T)`` in milliseconds at frame centres, and scene embeddings
``(n, D)``. Every embedder lists its selectable internal layers as :class:`LayerInfo`; the
``layers`` option picks among them with one rule everywhere (see :func:`select_layers`).
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch


class HearbenchError(Exception):
    """An error with a one-line message meant for the user (bad input, bad option, ...)."""


def exception_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (only ``Type`` when there is no message)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@dataclass(frozen=True)
class LayerInfo:
    """One selectable layer of an embedder.

    Attributes:
        index: Position in :meth:`Embedder.layer_info` (0-based).
        name: Stable name used in ``layers=`` options (``"b5"``, ``"clf1"``, ``"block3"``...).
        width: Number of values this layer adds to an embedding.
        hop_ms: Native spacing of this layer's frames in milliseconds, or ``None`` when the
            layer only exists at the clip level.
    """

    index: int
    name: str
    width: int
    hop_ms: float | None = None


LayerSpec = int | str | Sequence[int | str] | None


def parse_layer_spec(value: LayerSpec) -> LayerSpec:
    """Turn a command-line ``layers`` value into an int, a list, or ``None``.

    ``"4"`` means the last four layers; ``"5,11,-1"`` or ``"b5,mel_avgs"`` lists layers by
    index or name; ``""``/``None`` keeps the embedder's default.
    """
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if "," not in text:
            return int(text) if text.lstrip("-").isdigit() else [text]
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return [int(p) if p.lstrip("-").isdigit() else p for p in parts]
    return [int(p) if isinstance(p, str) and p.lstrip("-").isdigit() else p for p in value]


def select_layers(spec: LayerSpec, layers: Sequence[LayerInfo]) -> tuple[LayerInfo, ...]:
    """Apply the one ``layers`` rule (as timm's ``feature_take_indices``).

    Args:
        spec: ``None`` = the last layer; an int ``n`` = the last ``n`` layers; a sequence =
            those layers by index (negatives count from the end) or by name, in that order.
        layers: Every selectable layer of the embedder, in order.

    Returns:
        The selected layers, in the order asked for.

    Raises:
        HearbenchError: if an index is out of range, a name is unknown or nothing is selected.
    """
    n = len(layers)
    spec = parse_layer_spec(spec)
    if n == 0:
        raise HearbenchError("layers: this embedder has no selectable layers")
    if spec is None:
        return (layers[-1],)
    if isinstance(spec, int):
        if not 1 <= spec <= n:
            raise HearbenchError(
                f"layers: an int asks for the last n layers, n in 1..{n}, got {spec}"
            )
        return tuple(layers[n - spec :])
    if isinstance(spec, str):
        spec = [spec]
    by_name = {info.name: info for info in layers}
    chosen: list[LayerInfo] = []
    for item in spec:
        if isinstance(item, int):
            if not -n <= item < n:
                raise HearbenchError(f"layers: index {item} out of range for {n} layers")
            chosen.append(layers[item % n])
        elif item in by_name:
            chosen.append(by_name[item])
        else:
            names = ", ".join(info.name for info in layers)
            raise HearbenchError(f"layers: unknown layer {item!r}; choose from {names}")
    if not chosen:
        raise HearbenchError("layers: the selection is empty")
    return tuple(chosen)


@dataclass(frozen=True)
class EmbedderConfig:
    """Everything that determines an embedder's numbers; its digest keys the cache.

    Attributes:
        name: Registered name (``"mn04_as"``) or ``"hear:MODULE"``.
        options: Every option in effect, defaults included, as JSON-able values.
        weights_sha256: SHA-256 of the weights file, or ``None`` for weight-free embedders.
        pretrained: ``False`` when the model runs on random weights on purpose.
        precision: Autocast precision of embedding (:data:`PRECISIONS`); ``float32`` (no
            autocast) is the default and is left out of :meth:`to_dict`, so float32
            configurations keep their digests.
        identity_name: The name :meth:`digest` identifies the configuration by, set by the
            registry: the first preset of the same family and official checkpoint
            (:func:`hearbench.registry.identity_name`), so that presets which differ only in
            options share a digest when their options agree. ``None`` means ``name``.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    weights_sha256: str | None = None
    pretrained: bool = True
    precision: str = "float32"
    identity_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy with sorted options."""
        data: dict[str, Any] = {
            "name": self.name,
            "options": {k: _jsonable(self.options[k]) for k in sorted(self.options)},
            "weights_sha256": self.weights_sha256,
            "pretrained": self.pretrained,
        }
        if self.precision != "float32":
            data["precision"] = self.precision
        return data

    def identity(self) -> dict[str, Any]:
        """What identifies the configuration: :meth:`to_dict` with ``name`` replaced by
        :attr:`identity_name` (family lineage, every option in effect, weights sha256,
        pretrained flag, precision)."""
        return {**self.to_dict(), "name": self.identity_name or self.name}

    def digest(self) -> str:
        """A short stable hash of :meth:`identity` (keys the embedding cache and results ids)."""
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


PRECISIONS: dict[str, torch.dtype | None] = {
    "float32": None,
    "bfloat16": torch.bfloat16,
    "float16": torch.float16,
}
"""Embedding precisions: ``float32`` runs as written; the others run the embedder under
``torch.autocast`` of its device with that dtype (matrix products and convolutions in half
precision, outputs returned as float32). A named option for GPUs (and CPUs with bfloat16
units), never the default."""


def check_precision(precision: str) -> str:
    """``precision`` when it is one of :data:`PRECISIONS`, else a one-line error."""
    if precision not in PRECISIONS:
        raise HearbenchError(
            f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    return precision


class Embedder(abc.ABC):
    """Base class of every embedder.

    Subclasses set ``sample_rate``, declare their options as ``OPTIONS`` (an
    :class:`~hearbench.options.OptionSet`) and implement :meth:`layer_info`,
    :meth:`timestamp_embeddings` and :meth:`scene_embeddings`. Audio is a float32 tensor
    ``(n_sounds, n_samples)`` in [-1, 1] at ``sample_rate``.

    The constructor contract (the same for built-in families and plugins): the registry calls
    ``Family(card=card, options=options, weights=weights, pretrained=pretrained)``, where
    ``options`` are already validated and completed with defaults by ``OPTIONS``, ``weights``
    is a local file or ``None`` and ``pretrained=False`` asks for random weights. The
    constructor builds the model and calls
    ``super().__init__(EmbedderConfig(name=card.name, options=<every option in effect>))``;
    the registry records the weights file's sha256, the precision and the identity.
    """

    sample_rate: int
    #: Options the user set on top of the preset (set by ``create_embedder``; ``None`` for an
    #: embedder constructed directly). Informative only: the identity is the configuration's
    #: (:meth:`EmbedderConfig.digest`).
    user_options: Mapping[str, Any] | None = None

    def __init__(self, config: EmbedderConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        """The registered name this embedder was created under."""
        return self.config.name

    @abc.abstractmethod
    def layer_info(self) -> tuple[LayerInfo, ...]:
        """Every selectable layer, in order."""

    @property
    def selected_layers(self) -> tuple[LayerInfo, ...]:
        """The layers that make up this embedder's embeddings (default: the last one)."""
        return select_layers(self.config.options.get("layers"), self.layer_info())

    @property
    def timestamp_embedding_size(self) -> int:
        """Width ``D`` of timestamp embeddings, from :attr:`selected_layers`."""
        return sum(info.width for info in self.selected_layers)

    @property
    def scene_embedding_size(self) -> int:
        """Width of scene embeddings (the timestamp width unless a subclass says otherwise)."""
        return self.timestamp_embedding_size

    @abc.abstractmethod
    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(embeddings (n, T, D), timestamps (n, T) in ms)``."""

    @abc.abstractmethod
    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        """Return scene embeddings ``(n, D)``."""

    def torch_module(self) -> torch.nn.Module | None:
        """The network behind the embedder (for parameter counts and device moves), if any."""
        return None

    def autocast(self) -> contextlib.AbstractContextManager[object]:
        """The autocast context of ``config.precision`` on this embedder's device."""
        dtype = PRECISIONS[self.config.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def to(self, device: str | torch.device) -> Embedder:
        """Move the network to ``device``; returns ``self``."""
        module = self.torch_module()
        if module is not None:
            module.to(device)
        return self

    @property
    def device(self) -> torch.device:
        """Device of the network's parameters (CPU for weight-free embedders)."""
        module = self.torch_module()
        if module is not None:
            for p in module.parameters():
                return p.device
        return torch.device("cpu")
