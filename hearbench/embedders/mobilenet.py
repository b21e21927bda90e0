"""The ``mobilenet`` family: EfficientAT MobileNetV3 (``mn``) and dynamic MobileNet (``dymn``).

Two ways to turn a clip into timestamp embeddings (option ``mode``):

* ``window`` (default) — the EfficientAT_HEAR ``hear_mn`` method, bit-compatible: one full
  frontend + network forward per ``window_ms`` window (reflect-padded clip, windows centred on
  ``i * hop_ms``), every selected layer pooled over frequency and time. All windows of a batch
  go through the network together, in groups of 64 windows of 160 ms (cache-sized on CPUs).
* ``frames`` — one pass per clip (long clips in overlapping chunks of about 10 s with 1.6 s of
  context on each side, so memory stays bounded); block outputs pooled over frequency only,
  giving frames at each layer's native time stride, linearly interpolated to timestamps
  ``i * hop_ms`` (layer frame ``k`` is centred on mel frame ``k * stride``). ``time_strides``
  reduces the time strides of the four downsampling blocks (EfficientSED style), keeping a
  finer time resolution in deep blocks with the same weights.

``stride_layout=fmn`` with ``frontend=efficientsed`` is EfficientSED's frame-wise MobileNet
(the ``fmn*`` presets): time reduced x4, frequency strided down to one row, 16 kHz input. ``mn``
weights load through :func:`load_backbone`, which also takes
EfficientSED's released checkpoints (their sequence model and classifiers are ignored; the
``clf2`` and ``logits`` layers then have no head and are refused).

``mn`` networks hold their weights in channels-last layout, where the depthwise convolutions
run about twice as fast on CPUs; outputs equal the default layout's up to float rounding.

Scene embeddings follow ``hear_mn`` in both modes: one forward on clips up to
``scene_window_ms`` (10 s), else the mean over 10 s windows at a 2.5 s hop.

Selectable layers (:meth:`MobileNetEmbedder.layer_info`), in this order so that
``layers=5,11,13,15`` picks blocks: ``b0`` (stem) … ``b15`` (block outputs), ``mel_avgs``
(mean log-mel per bin), ``se<i>`` (squeeze-and-excitation bottleneck ``fc1`` output before its
ReLU, for the blocks that have SE; ``mn`` only), ``clf1`` (pooled final 1x1 conv), ``clf2``
(head hidden activation after Hardswish) and ``logits``. In ``frames`` mode the ``se``,
``clf2`` and ``logits`` heads are applied to each frame. The default layer is ``clf1``, as
in ``hear_mn``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hearbench.api import (
    Embedder,
    EmbedderConfig,
    HearbenchError,
    LayerInfo,
    select_layers,
)
from hearbench.embedders.mobilenet_options import OPTIONS, SAMPLE_RATE, MobileNetOptions
from hearbench.frontend import MelFrontend
from hearbench.models.dymn import DyMN
from hearbench.models.efficientsed import AdaptedState, backbone_state
from hearbench.models.mobilenet import MN, TappedNet
from hearbench.registry import EmbedderCard
from hearbench.weights import load_state_dict, load_strict, resolve_weights, sha256_file
from hearbench.windowing import iter_windows, window_timestamps_ms

CHUNK_FRAMES = 960
CONTEXT_FRAMES = 160
WINDOW_BATCH_SAMPLES = 64 * 5120


_NETWORKS: dict[str, Callable[[MobileNetOptions], TappedNet]] = {
    "mn": lambda o: MN(o.width_mult, o.time_strides, layout=o.stride_layout),
    "dymn": lambda o: DyMN(o.width_mult, o.time_strides, o.temperature, layout=o.stride_layout),
}


class MelMobileNet(nn.Module):
    """Frontend and network together: audio ``(batch, n)`` → ``(logits, embedding)``."""

    def __init__(self, frontend: MelFrontend, net: TappedNet) -> None:
        super().__init__()
        self.frontend = frontend
        self.net = net

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and pooled embedding of a batch of clips."""
        return self.net(self.frontend(audio)[:, None])


@dataclass(frozen=True)
class _Layer:
    """How one selectable layer is computed: a network tap, pooled, then a head."""

    info: LayerInfo
    tap: str | None
    head: str
    stride: int
    stage: int = 0


def _layer_plan(net: TappedNet, n_mels: int, frame_ms: float) -> tuple[_Layer, ...]:
    taps = {tap.name: tap for tap in net.taps()}
    final = taps[f"b{len(net.configs) + 1}"]
    specs: list[tuple[str, str | None, str, int, int, int]] = []
    for index in range(len(net.configs) + 1):
        tap = taps[f"b{index}"]
        specs.append((tap.name, tap.name, "pool", tap.channels, tap.time_stride, index))
    specs.append(("mel_avgs", None, "mel", n_mels, 1, 0))
    for tap in net.taps():
        if tap.name.startswith("se"):
            width = net.configs[tap.stage - 1].se_channels
            specs.append((tap.name, tap.name, "se", width, tap.time_stride, tap.stage))
    specs.append(("clf1", final.name, "pool", final.channels, final.time_stride, final.stage))
    specs.append(("clf2", final.name, "clf2", net.hidden_channels, final.time_stride, final.stage))
    specs.append(("logits", final.name, "logits", net.num_classes, final.time_stride, final.stage))
    return tuple(
        _Layer(LayerInfo(i, name, width, stride * frame_ms), tap, head, stride, stage)
        for i, (name, tap, head, width, stride, stage) in enumerate(specs)
    )


class MobileNetEmbedder(Embedder):
    """EfficientAT ``mn`` / ``dymn`` embedder (see the module docstring for the options).

    Args:
        card: The preset this embedder was created from.
        options: Preset options merged with the user's.
        weights: A local weights file overriding the preset's checkpoint.
        pretrained: ``False`` builds the network on random weights.
    """

    sample_rate = SAMPLE_RATE
    OPTIONS = OPTIONS

    def __init__(
        self,
        *,
        card: EmbedderCard,
        options: Mapping[str, Any],
        weights: str | Path | None,
        pretrained: bool,
    ) -> None:
        opts = MobileNetOptions.parse(card.name, options)
        net = _NETWORKS[opts.arch](opts)
        sha256 = None
        self.has_classifier = True
        if pretrained:
            path = resolve_weights(card.name, card.checkpoint, weights)
            if opts.arch == "mn":
                self.has_classifier = load_backbone(net, path).has_classifier
            else:
                load_strict(net, load_state_dict(path), str(path))
            sha256 = sha256_file(path)
        elif weights is not None:
            raise HearbenchError(f"{card.name}: weights={weights} given with pretrained=False")
        if opts.arch == "mn":
            net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.options = opts
        self.sample_rate = opts.sample_rate
        spec = opts.frontend_spec
        frontend = MelFrontend(
            opts.n_mels,
            spec.sample_rate,
            spec.win_length,
            opts.hop_size,
            spec.n_fft,
            log_eps=spec.log_eps,
            log_clip=spec.log_clip,
        )
        self.module = MelMobileNet(frontend, net).eval()
        self._plan = _layer_plan(net, opts.n_mels, opts.hop_size * 1000.0 / opts.sample_rate)
        chosen = select_layers(opts.layers, [layer.info for layer in self._plan])
        self._selected = tuple(self._plan[info.index] for info in chosen)
        headless = [layer.info.name for layer in self._selected if layer.head in ("clf2", "logits")]
        if headless and not self.has_classifier:
            raise HearbenchError(
                f"{card.name}: layers {headless} need EfficientAT's AudioSet head, which this "
                "checkpoint (EfficientSED, backbone only) does not have; choose b0 … b15, se<i>, "
                "mel_avgs or clf1"
            )
        self._taps = frozenset(layer.tap for layer in self._selected if layer.tap is not None)
        super().__init__(
            EmbedderConfig(
                card.name,
                opts.to_dict([info.name for info in chosen]),
                sha256,
                pretrained,
            )
        )

    @property
    def net(self) -> TappedNet:
        """The network (log-mel in, logits and taps out)."""
        return self.module.net

    @property
    def frontend(self) -> MelFrontend:
        """The log-mel frontend."""
        return self.module.frontend

    def layer_info(self) -> tuple[LayerInfo, ...]:
        """Every selectable layer with its width and native frame hop."""
        return tuple(layer.info for layer in self._plan)

    def torch_module(self) -> nn.Module:
        """Frontend and network (audio in, ``(logits, embedding)`` out)."""
        return self.module

    @torch.inference_mode()
    def model_forward(self, seconds: float) -> object:
        """One plain forward of the bare network on the log-mel of a ``seconds`` clip (batch 1)."""
        frames = round(seconds * self.sample_rate / self.options.hop_size)
        return self.net(torch.zeros(1, 1, self.options.n_mels, frames, device=self.device))

    @torch.inference_mode()
    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(embeddings (n, T, D), timestamps (n, T) in ms)``, timestamps ``i * hop_ms``."""
        x = self._prepare(audio)
        hop = self.options.samples("hop_ms")
        if self.options.mode == "frames":
            embeddings = self._frame_embeddings(x, hop)
        else:
            embeddings = self._window_embeddings(x, self.options.samples("window_ms"), hop)
        timestamps = window_timestamps_ms(x.shape[-1], hop, self.sample_rate)
        timestamps = timestamps.expand(x.shape[0], -1).contiguous()
        return embeddings.to(audio.device), timestamps.to(audio.device)

    @torch.inference_mode()
    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        """One forward for clips up to ``scene_window_ms``, else the mean over windows."""
        x = self._prepare(audio)
        window = self.options.samples("scene_window_ms")
        if x.shape[-1] <= window:
            embeddings = self._embed_clips(x)
        else:
            hop = self.options.samples("scene_hop_ms")
            embeddings = self._window_embeddings(x, window, hop).mean(dim=1)
        return embeddings.to(audio.device)

    def _prepare(self, audio: torch.Tensor) -> torch.Tensor:
        audio = torch.as_tensor(audio)
        if audio.ndim != 2 or audio.shape[-1] == 0:
            raise HearbenchError(
                "audio: expected (n_sounds, n_samples) with n_samples > 0, "
                f"got {tuple(audio.shape)}"
            )
        return audio.to(device=self.device, dtype=torch.float32)

    def _pad_short(self, audio: torch.Tensor) -> torch.Tensor:
        """Zero-pad clips too short for the STFT's reflect padding (under 16 ms) at the end."""
        shortest = self.frontend.n_fft // 2 + 2
        if audio.shape[-1] >= shortest:
            return audio
        return F.pad(audio, (0, shortest - audio.shape[-1]))

    def _window_embeddings(self, audio: torch.Tensor, window: int, hop: int) -> torch.Tensor:
        """Pooled embeddings of every window, batched: ``(n_sounds, n_windows, D)``."""
        n_sounds = audio.shape[0]
        per_batch = max(1, WINDOW_BATCH_SAMPLES // (n_sounds * window))
        parts = []
        for _, windows in iter_windows(audio, window, hop, max_windows=per_batch):
            k = windows.shape[1]
            embedded = self._embed_clips(windows.reshape(n_sounds * k, window))
            parts.append(embedded.reshape(n_sounds, k, -1))
        return torch.cat(parts, dim=1)

    def _embed_clips(self, clips: torch.Tensor) -> torch.Tensor:
        """One forward per clip, every selected layer pooled over (freq, time): ``(n, D)``."""
        mel = self.frontend(self._pad_short(clips))
        maps = self.net.forward_taps(mel[:, None], self._taps)
        cache: dict[str, torch.Tensor] = {}
        values = [self._value(layer, mel, maps, cache, frames=False) for layer in self._selected]
        return torch.cat(values, dim=-1)

    def _frame_embeddings(self, audio: torch.Tensor, hop: int) -> torch.Tensor:
        """Frame-wise embeddings interpolated to ``i * hop``: ``(n_sounds, n // hop + 1, D)``."""
        n_out = audio.shape[-1] // hop + 1
        padded = self._pad_short(audio)
        n_frames = self.frontend.n_frames(padded.shape[-1])
        sequences: list[list[torch.Tensor]] = [[] for _ in self._selected]
        for start, stop, core_start, core_stop in chunk_plan(
            n_frames, CHUNK_FRAMES, CONTEXT_FRAMES
        ):
            mel = mel_frames(self.frontend, padded, start, stop)
            maps = self.net.forward_taps(mel[:, None], self._taps)
            cache: dict[str, torch.Tensor] = {}
            for position, layer in enumerate(self._selected):
                seq = self._value(layer, mel, maps, cache, frames=True)
                s = layer.stride
                first = core_start // s - start // s
                last = -(-core_stop // s) - start // s
                sequences[position].append(seq[:, first:last])
        frame_hop = self.frontend.hop_size
        parts = [
            resample_frames(torch.cat(seqs, dim=1), layer.stride * frame_hop, hop, n_out)
            for layer, seqs in zip(self._selected, sequences, strict=True)
        ]
        return torch.cat(parts, dim=-1)

    def _value(
        self,
        layer: _Layer,
        mel: torch.Tensor,
        maps: Mapping[str, torch.Tensor],
        cache: dict[str, torch.Tensor],
        frames: bool,
    ) -> torch.Tensor:
        """One layer's values: ``(n, width)``, or ``(n, frames, width)`` when ``frames``."""
        if layer.tap is None:
            return mel.transpose(1, 2) if frames else mel.mean(dim=2)
        if layer.tap not in cache:
            cache[layer.tap] = pool(maps[layer.tap], frames)
        pooled = cache[layer.tap]
        if layer.head == "se":
            return self.net.se_bottleneck(layer.stage)(pooled)
        if layer.head in ("clf2", "logits"):
            if "clf2" not in cache:
                cache["clf2"] = self.net.head_hidden(pooled)
            return cache["clf2"] if layer.head == "clf2" else self.net.head_logits(cache["clf2"])
        return pooled


def load_backbone(net: nn.Module, path: Path) -> AdaptedState:
    """Load an EfficientAT or EfficientSED checkpoint into ``net``.

    Every ``features.*`` tensor must be present with its shape; the classifier is loaded when
    the checkpoint has one (then all of it), else it keeps its initialisation.

    Raises:
        HearbenchError: one line naming the missing, unexpected and mismatched keys.
    """
    adapted = backbone_state(load_state_dict(path), str(path))
    load_strict(net, adapted.state, str(path), may_lack="classifier.")
    return adapted


def pool(fmap: torch.Tensor, frames: bool) -> torch.Tensor:
    """Mean over (freq, time) → ``(n, C)``, or over freq only → ``(n, time, C)``."""
    if frames:
        return fmap.mean(dim=2).transpose(1, 2)
    return F.adaptive_avg_pool2d(fmap, 1).flatten(1)


def chunk_plan(n_frames: int, core: int, context: int) -> list[tuple[int, int, int, int]]:
    """Split ``n_frames`` into ``(start, stop, core_start, core_stop)`` chunks.

    Each chunk computes frames ``start:stop`` and keeps ``core_start:core_stop``; cores tile
    the clip, and ``context`` frames on each side (where the clip has them) keep the
    convolutions' receptive field inside the chunk. Clips up to ``core + 2 * context`` frames
    are one chunk. Boundaries are multiples of ``core`` and ``context``, which must be
    multiples of the network's total time stride.
    """
    if n_frames <= core + 2 * context:
        return [(0, n_frames, 0, n_frames)]
    plan = []
    for core_start in range(0, n_frames, core):
        core_stop = min(n_frames, core_start + core)
        plan.append(
            (
                max(0, core_start - context),
                min(n_frames, core_stop + context),
                core_start,
                core_stop,
            )
        )
    return plan


def mel_frames(frontend: MelFrontend, audio: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """Frames ``start:stop`` of ``frontend(audio)``, computed from an excerpt of the audio.

    The excerpt reaches far enough beyond the requested frames that none of them sees the
    excerpt's own reflect padding, so the result equals slicing the full spectrogram.
    """
    hop = frontend.hop_size
    margin = frontend.n_fft // 2 // hop + 1
    first = max(0, start - margin)
    lo = first * hop
    hi = min(audio.shape[-1], (stop - 1 + margin) * hop + 1)
    mel = frontend(audio[:, lo:hi])
    return mel[:, :, start - first : stop - first]


def resample_frames(seq: torch.Tensor, frame_hop: int, hop: int, n_out: int) -> torch.Tensor:
    """Linearly interpolate frames at ``k * frame_hop`` to times ``i * hop`` (samples).

    Args:
        seq: ``(n, frames, C)``.
        frame_hop: Spacing of the input frames in samples.
        hop: Spacing of the output frames in samples.
        n_out: Number of output frames; times past the last input frame repeat it.
    """
    n_frames = seq.shape[1]
    position = torch.arange(n_out, device=seq.device, dtype=torch.int64) * hop
    lo = torch.div(position, frame_hop, rounding_mode="floor")
    frac = (position - lo * frame_hop).to(seq.dtype) / frame_hop
    frac = torch.where(lo >= n_frames - 1, torch.zeros_like(frac), frac)
    lo = lo.clamp(max=n_frames - 1)
    hi = (lo + 1).clamp(max=n_frames - 1)
    weight = frac[None, :, None]
    return seq[:, lo] * (1 - weight) + seq[:, hi] * weight
