"""The PaSST embedder family: the hear21passt HEAR 2021 method, plus a one-pass token mode.

``mode="window"`` (default) is the method of the ``hear21passt`` wrappers, numerically: the
clip is reflect-padded by half a window and cut into windows of ``window_ms`` every ``hop_ms``;
each window is one frontend + network forward giving ``[logits, features]``. ``levels`` adds
the same for longer windows (``base2level``: 160 and 800 ms), ``mel`` appends the flattened
log-mel of a short window (``base2levelmel``: 6 frames). Scene embeddings come from one forward
on clips up to ``max_seconds``, otherwise from the mean over ``max_seconds`` windows every
``scene_hop_ms``. Unlike the wrappers, all windows of a clip go through the network in
memory-bounded batches instead of one forward per window position.

``mode="tokens"`` runs the network once per chunk of at most ``max_seconds`` and reads frame
embeddings from the patch tokens (mean over frequency patches) at the native patch stride
(``tstride`` spectrogram frames, 100 ms for PaSST-S), or linearly interpolated to a grid every
``hop_ms`` starting at 0 ms. Longer clips are cut into chunks on the global patch grid that
overlap by twice ``chunk_context_ms`` (1 s by default, so every kept patch sees at least 1 s of
context on both sides inside its chunk, and a long clip costs 1.25 single passes); each patch is
taken from the chunk in which it lies most centrally, so timestamps run on without seams.
Token-mode scene embeddings are the time mean of the frame embeddings at native stride; the clip-level layers ``features`` and ``logits`` (from the cls
and dist tokens) are given to every frame of the chunk that owns it.

Layers (``layers`` option, one rule with :func:`hearbench.api.select_layers`): ``block0`` ..
``block{depth-1}`` (patch tokens after each transformer block, mean over patches per window or
over frequency per frame), ``features`` (mean of the final-normed cls and dist tokens),
``logits`` (AudioSet head, no sigmoid) and, in window mode, ``logits+features`` (the wrappers'
output). In window mode every further window of ``levels`` repeats these layers with a suffix
(``logits+features@800ms``) and ``mel`` follows when that option is on; the default is
``logits+features`` of every level plus ``mel``, the wrappers' concatenation. Scene embeddings
use the selected network layers once each (no level suffix, no ``mel``), as the wrappers do.
The token-mode default is the last block.

A clip too short for one 16-frame patch is zero-padded at the end to that length (the original
code fails on such clips); its single token-mode frame is placed at the clip's centre.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hearbench.api import (
    Embedder,
    EmbedderConfig,
    HearbenchError,
    LayerInfo,
    select_layers,
)
from hearbench.embedders.passt_options import (
    OPTION_HELP,
    OPTIONS,
    SAMPLE_RATE,
    TOKENS,
    WINDOW,
    PasstSettings,
    ms_to_samples,
    parse_options,
)
from hearbench.frontend import MelFrontend
from hearbench.models.passt import PaSST
from hearbench.registry import EmbedderCard
from hearbench.weights import load_state_dict, load_strict, resolve_weights, sha256_file
from hearbench.windowing import iter_windows, n_windows, window_timestamps_ms

WORK_BUDGET = 1 << 26
"""Activation elements one network batch may hold per block (attention scores + MLP)."""
MEL_BATCH = 1024
"""Windows per batch of the ``mel`` part (frontend only)."""
PIECE_SECONDS = 10.0
"""A long clip goes through the network in pieces of at most the work of a clip this long
(its windows, or its token chunks), so working memory does not grow with the clip's length."""
RANDOM_SEED = 0
"""Seed of the random weights used with ``pretrained=False``."""

COMBINED = "logits+features"


class PasstPipeline(nn.Module):
    """The log-mel frontend and the PaSST network, moved and counted together."""

    def __init__(self, frontend: MelFrontend, net: PaSST) -> None:
        super().__init__()
        self.frontend = frontend
        self.net = net


@dataclass(frozen=True)
class _Chunk:
    """One token-mode forward: patches ``start .. start+length`` owning ``lo .. hi``."""

    start: int
    length: int
    lo: int
    hi: int


@dataclass(frozen=True)
class _Part:
    """Where a selectable layer comes from: a network layer at a window level, or the mel."""

    info: LayerInfo
    level: int
    network: str


class PasstEmbedder(Embedder):
    """PaSST embeddings, as the hear21passt wrappers compute them or from one pass of tokens.

    Args:
        card: The preset; its name and checkpoint are used.
        options: Preset options merged with the user's (see :data:`OPTION_HELP`).
        weights: A local checkpoint overriding the preset's official one.
        pretrained: ``False`` builds random weights (seeded, recorded in the config).
    """

    sample_rate = SAMPLE_RATE
    OPTIONS = OPTIONS

    def __init__(
        self,
        *,
        card: EmbedderCard,
        options: Mapping[str, Any],
        weights: str | Path | None = None,
        pretrained: bool = True,
    ) -> None:
        settings = parse_options(options, card.name)
        self.settings = settings
        self.frontend = MelFrontend(n_mels=settings.n_mels, hop_size=settings.stft_hop)
        self.net = _build_network(settings)
        self.pipeline = PasstPipeline(self.frontend, self.net).eval()
        self._min_samples = (self.net.patch_size - 1) * settings.stft_hop + 1
        self._max_samples = round(settings.max_seconds * SAMPLE_RATE)
        self._hop = 0 if settings.hop_ms is None else ms_to_samples(settings.hop_ms)
        self._scene_hop = ms_to_samples(settings.scene_hop_ms or settings.max_seconds * 1000)
        self._check_lengths()
        self._catalogue = self._build_catalogue()
        spec = options.get("layers")
        request = self._default_layers() if spec is None or spec == "" else spec
        chosen = select_layers(request, self.layer_info())
        self._parts = tuple(self._catalogue[info.index] for info in chosen)
        networks = [p.network for p in self._parts if p.network]
        unique = settings.mode == WINDOW
        self._scene_layers = tuple(dict.fromkeys(networks) if unique else networks)
        if not self._scene_layers:
            raise HearbenchError("layers: select at least one network layer, not only 'mel'")
        settings = replace(settings, layers=tuple(info.name for info in chosen))
        self.settings = settings
        weights_sha256 = self._load_weights(card, weights, pretrained)
        super().__init__(
            EmbedderConfig(
                name=card.name,
                options=settings.to_options(),
                weights_sha256=weights_sha256,
                pretrained=weights_sha256 is not None,
            )
        )

    def _check_lengths(self) -> None:
        """Fail early on hops under a sample and windows the positional embedding cannot take."""
        s = self.settings
        if s.hop_ms is not None and self._hop == 0:
            raise HearbenchError(f"hop_ms: {s.hop_ms} ms is shorter than one sample")
        if self._scene_hop == 0:
            raise HearbenchError(f"scene_hop_ms: {s.scene_hop_ms} ms is shorter than one sample")
        level_name = "levels" if len(s.levels or ()) > 1 else "window_ms"
        lengths = [("max_seconds", f"{s.max_seconds:g} s", self._max_samples)]
        lengths += [(level_name, f"{ms:g} ms", ms_to_samples(ms)) for ms in s.levels or ()]
        limit = self.net.grid_size[1]
        for name, shown, samples in lengths:
            patches = self.net.time_patches(self.frontend.n_frames(max(samples, 1)))
            if not 1 <= patches <= limit:
                raise HearbenchError(
                    f"{name}: {shown} gives {patches} time patches; this model takes "
                    f"1..{limit} (input_tdim {s.input_tdim}, tstride {s.tstride})"
                )
        if s.mel is not None and ms_to_samples(s.mel) < self.frontend.n_fft // 2 + 2:
            shortest = (self.frontend.n_fft // 2 + 2) * 1000.0 / SAMPLE_RATE
            raise HearbenchError(f"mel: a {s.mel} ms window is shorter than {shortest:g} ms")

    def _load_weights(
        self, card: EmbedderCard, weights: str | Path | None, pretrained: bool
    ) -> str | None:
        if not pretrained:
            if weights is not None:
                raise HearbenchError(
                    f"{weights}: pretrained=False asks for random weights; drop the weights file"
                )
            return None
        path = resolve_weights(card.name, card.checkpoint, weights)
        load_strict(self.net, load_state_dict(path), str(path))
        return sha256_file(path)

    def _network_layers(self) -> list[tuple[str, int]]:
        """Names and widths of the network's selectable outputs, in order."""
        width, classes = self.net.embed_dim, self.net.num_classes
        layers = [(f"block{i}", width) for i in range(self.net.depth)]
        layers += [("features", width), ("logits", classes)]
        if self.settings.mode == WINDOW:
            layers.append((COMBINED, classes + width))
        return layers

    def _build_catalogue(self) -> tuple[_Part, ...]:
        """Every selectable layer with its source (see :meth:`layer_info`)."""
        s = self.settings
        rows: list[tuple[str, int, float | None, int, str]] = []
        if s.mode == TOKENS:
            native = self.net.tstride * s.stft_hop * 1000.0 / SAMPLE_RATE
            for name, width in self._network_layers():
                rows.append((name, width, native if name.startswith("block") else None, 0, name))
        else:
            for level, ms in enumerate(s.levels or ()):
                suffix = f"@{ms:g}ms" if level else ""
                for name, width in self._network_layers():
                    rows.append((name + suffix, width, s.hop_ms, level, name))
            if s.mel is not None:
                width = s.n_mels * self.frontend.n_frames(ms_to_samples(s.mel))
                rows.append(("mel", width, s.hop_ms, -1, ""))
        return tuple(
            _Part(LayerInfo(i, name, width, hop), level, network)
            for i, (name, width, hop, level, network) in enumerate(rows)
        )

    def _default_layers(self) -> list[str]:
        if self.settings.mode == TOKENS:
            return [f"block{self.settings.depth - 1}"]
        defaults = [p.info.name for p in self._catalogue if p.network == COMBINED]
        return defaults + (["mel"] if self.settings.mel is not None else [])

    def layer_info(self) -> tuple[LayerInfo, ...]:
        """Every selectable layer.

        ``block0`` .. ``block{depth-1}``, ``features``, ``logits`` and, in window mode,
        ``logits+features``; in window mode the same again per extra window of ``levels``
        (suffixed ``@800ms``...), then ``mel`` when the ``mel`` option is on.
        """
        return tuple(part.info for part in self._catalogue)

    @property
    def scene_embedding_size(self) -> int:
        """Width of scene embeddings: the selected network layers (once each in window mode)."""
        return self._width(self._scene_layers)

    def _width(self, names: tuple[str, ...]) -> int:
        widths = dict(self._network_layers())
        return sum(widths[name] for name in names)

    def torch_module(self) -> nn.Module:
        """Frontend and network (:class:`PasstPipeline`)."""
        return self.pipeline

    @torch.inference_mode()
    def model_forward(self, seconds: float) -> object:
        """One plain forward of the bare network on the log-mel of a ``seconds`` clip (batch 1)."""
        frames = self.frontend.n_frames(round(seconds * SAMPLE_RATE))
        frames = min(frames, self.settings.input_tdim)
        spec = torch.zeros(1, 1, self.settings.n_mels, frames, device=self.device)
        return self.net(spec)

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Timestamp embeddings ``(n, T, D)`` and their centres in ms ``(n, T)``, on the CPU."""
        audio = self._prepare(audio)
        with torch.inference_mode():
            if self.settings.mode == TOKENS:
                return self._token_timestamps(audio)
            return self._window_timestamps(audio)

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        """Scene embeddings ``(n, D)`` on the CPU."""
        audio = self._prepare(audio)
        with torch.inference_mode():
            if self.settings.mode == TOKENS:
                frames, _ = self._token_frames(audio)
                return frames.mean(dim=1)
            return self._window_scene(audio)

    def _prepare(self, audio: torch.Tensor) -> torch.Tensor:
        audio = torch.as_tensor(audio)
        if audio.dim() != 2 or audio.shape[-1] == 0:
            raise HearbenchError(
                f"audio: expected (n_sounds, n_samples) with samples, got {tuple(audio.shape)}"
            )
        return audio.to(device=self.device, dtype=torch.float32)

    # -- the network ---------------------------------------------------------------------------

    def _layer_values(
        self, spec: torch.Tensor, names: tuple[str, ...], frame_level: bool
    ) -> torch.Tensor:
        """Network layers ``names`` of one batch: ``(B, D)`` pooled or ``(B, T, D)`` per frame."""
        blocks = {int(name[5:]) for name in names if name.startswith("block")}
        tokens, kept = self.net.forward_blocks(spec, blocks)
        n_time = self.net.time_patches(spec.shape[-1])
        clip: dict[str, torch.Tensor] = {}
        if len(blocks) < len(names):
            clip["features"] = self.net.features(tokens)
            clip["logits"] = self.net.logits(clip["features"])
            clip[COMBINED] = torch.cat((clip["logits"], clip["features"]), dim=1)
        parts = []
        for name in names:
            if name.startswith("block"):
                grid = self.net.patch_tokens(kept[int(name[5:])])
                parts.append(grid.mean(dim=1) if frame_level else grid.mean(dim=(1, 2)))
            elif frame_level:
                parts.append(clip[name].unsqueeze(1).expand(-1, n_time, -1))
            else:
                parts.append(clip[name])
        return torch.cat(parts, dim=-1)

    def _batch_size(self, samples: int) -> int:
        """Forwards of ``samples``-long audio that fit one batch under :data:`WORK_BUDGET`.

        The cost of one forward is the larger of the network's activations (attention scores and
        MLP) and the frontend's (framed audio, complex STFT, its square and the power spectrum,
        about five ``n_fft`` values per frame).
        """
        frames = self.frontend.n_frames(samples)
        tokens = 2 + self.net.grid_size[0] * self.net.time_patches(frames)
        network = tokens * (self.net.num_heads * tokens + 4 * self.net.embed_dim)
        frontend = frames * 5 * self.frontend.n_fft
        return max(1, WORK_BUDGET // max(network, frontend))

    def _pad_short(self, audio: torch.Tensor) -> torch.Tensor:
        missing = self._min_samples - audio.shape[-1]
        return nn.functional.pad(audio, (0, missing)) if missing > 0 else audio

    # -- window mode ---------------------------------------------------------------------------

    def _window_timestamps(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each window level once, then the selected layers in their order."""
        columns: dict[tuple[int, str], torch.Tensor] = {}
        for level, ms in enumerate(self.settings.levels or ()):
            names = tuple(dict.fromkeys(p.network for p in self._parts if p.level == level))
            if names:
                window = ms_to_samples(ms)
                values = self._windowed(
                    audio, window, self._pooler(names), self._width(names), self._batch_size(window)
                )
                columns.update(self._split(values, names, level))
        mel = [p.info for p in self._parts if p.level < 0]
        if mel:
            window = ms_to_samples(self.settings.mel or 0.0)
            values = self._windowed(audio, window, self._flat_mel, mel[0].width, MEL_BATCH)
            columns[(-1, "")] = values
        embeddings = torch.cat([columns[(p.level, p.network)] for p in self._parts], dim=-1)
        stamps = window_timestamps_ms(audio.shape[-1], self._hop, SAMPLE_RATE)
        return embeddings, stamps.unsqueeze(0).expand(audio.shape[0], -1).clone()

    def _split(
        self, values: torch.Tensor, names: tuple[str, ...], level: int
    ) -> dict[tuple[int, str], torch.Tensor]:
        widths = dict(self._network_layers())
        pieces = values.split([widths[name] for name in names], dim=-1)
        return {(level, name): piece for name, piece in zip(names, pieces, strict=True)}

    def _window_scene(self, audio: torch.Tensor) -> torch.Tensor:
        n_sounds, n_samples = audio.shape
        embed = self._pooler(self._scene_layers)
        if n_samples <= self._max_samples:
            padded = self._pad_short(audio)
            per_batch = self._batch_size(padded.shape[-1])
            rows = [embed(padded[group]).cpu() for group in _groups(n_sounds, per_batch)]
            return torch.cat(rows, dim=0)
        window, width = self._max_samples, self.scene_embedding_size
        per_batch = self._batch_size(window)
        return self._windowed(audio, window, embed, width, per_batch, self._scene_hop).mean(dim=1)

    def _pooler(self, names: tuple[str, ...]) -> Callable[[torch.Tensor], torch.Tensor]:
        def pooled(waves: torch.Tensor) -> torch.Tensor:
            return self._layer_values(self.frontend(waves), names, frame_level=False)

        return pooled

    def _flat_mel(self, waves: torch.Tensor) -> torch.Tensor:
        return self.frontend(waves).reshape(waves.shape[0], -1)

    def _windowed(
        self,
        audio: torch.Tensor,
        window: int,
        embed: Callable[[torch.Tensor], torch.Tensor],
        width: int,
        per_batch: int,
        hop: int | None = None,
    ) -> torch.Tensor:
        """``embed`` of every window (reflect-padded, centred at ``i * hop``): ``(n, T, width)``.

        Up to ``per_batch`` windows, of one or more sounds, go through ``embed`` at once.
        """
        hop = self._hop if hop is None else hop
        n_sounds, n_samples = audio.shape
        out = torch.empty(n_sounds, n_windows(n_samples, hop), width)
        piece = n_windows(round(PIECE_SECONDS * SAMPLE_RATE), hop)
        for group in _groups(n_sounds, per_batch):
            per_sound = max(1, min(piece, per_batch // len(group)))
            sounds = audio[group[0] : group[-1] + 1]  # a view: groups are contiguous
            for first, windows in iter_windows(sounds, window, hop, per_sound):
                count = windows.shape[1]
                values = embed(windows.reshape(-1, window)).reshape(len(group), count, width)
                out[group, first : first + count] = values.cpu()
        return out

    # -- token mode ----------------------------------------------------------------------------

    def _token_timestamps(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames, centres = self._token_frames(audio)
        n_sounds, n_samples = audio.shape
        if self.settings.hop_ms is None:
            stamps = centres.to(torch.float32)
        else:
            stamps64 = window_timestamps_ms(n_samples, self._hop, SAMPLE_RATE).to(torch.float64)
            frames = _interpolate(frames, centres, stamps64)
            stamps = stamps64.to(torch.float32)
        return frames, stamps.unsqueeze(0).expand(n_sounds, -1).clone()

    def _token_frames(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stitched frame embeddings ``(n, P, D)`` at native stride and their centres (ms)."""
        n_sounds, n_samples = audio.shape
        padded = self._pad_short(audio)
        n_patches = self.net.time_patches(self.frontend.n_frames(padded.shape[-1]))
        chunks = _plan_chunks(n_patches, self._chunk_patches(), self._context_patches())
        span = (chunks[0].length - 1) * self.net.tstride + self.net.patch_size
        per_batch = self._batch_size(span * self.settings.stft_hop)
        piece = self.frontend.n_frames(round(PIECE_SECONDS * SAMPLE_RATE))
        piece_chunks = len(_plan_chunks(
            self.net.time_patches(piece), self._chunk_patches(), self._context_patches()
        ))
        per_batch = max(1, min(per_batch, n_sounds * piece_chunks))
        out = torch.empty(n_sounds, n_patches, self.scene_embedding_size)
        for batch in _batched([(i, c) for c in chunks for i in range(n_sounds)], per_batch):
            if len(chunks) == 1:
                spec = self.frontend(padded[[i for i, _ in batch]])
            else:
                spec = torch.cat([self._chunk_spec(padded[i : i + 1], c) for i, c in batch])
            values = self._layer_values(spec, self._scene_layers, frame_level=True).cpu()
            for row, (i, c) in enumerate(batch):
                out[i, c.lo : c.hi] = values[row, c.lo - c.start : c.hi - c.start]
        centre = [self.net.patch_centre_frame(t) for t in range(n_patches)]
        centres = torch.tensor(centre, dtype=torch.float64) * (
            self.settings.stft_hop * 1000.0 / SAMPLE_RATE
        )
        if n_samples < self._min_samples:
            centres = torch.full((1,), n_samples / 2 * 1000.0 / SAMPLE_RATE, dtype=torch.float64)
        return out, centres

    def _context_patches(self) -> int:
        """``chunk_context_ms`` in patches (at least one)."""
        context_ms = self.settings.chunk_context_ms
        assert context_ms is not None, "chunk_context_ms is set in token mode"
        patch_ms = self.net.tstride * self.settings.stft_hop * 1000.0 / SAMPLE_RATE
        return max(1, math.ceil(context_ms / patch_ms - 1e-9))

    def _chunk_patches(self) -> int:
        return self.net.time_patches(self.frontend.n_frames(self._max_samples))

    def _chunk_spec(self, audio: torch.Tensor, chunk: _Chunk) -> torch.Tensor:
        """Frames of the whole-clip spectrogram a chunk needs, from a bounded audio excerpt."""
        hop = self.settings.stft_hop
        first = chunk.start * self.net.tstride
        stop = first + (chunk.length - 1) * self.net.tstride + self.net.patch_size
        margin = -(-(self.frontend.n_fft // 2) // hop)
        lo_frame = max(0, first - margin)
        hi_sample = min(audio.shape[-1], (stop - 1) * hop + self.frontend.n_fft // 2 + 1)
        spec = self.frontend(audio[:, lo_frame * hop : hi_sample])
        return spec[..., first - lo_frame : stop - lo_frame]


def _build_network(settings: PasstSettings) -> PaSST:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return PaSST(
            embed_dim=settings.embed_dim,
            depth=settings.depth,
            num_heads=settings.num_heads,
            n_mels=settings.n_mels,
            input_tdim=settings.input_tdim,
            fstride=settings.fstride,
            tstride=settings.tstride,
            num_classes=settings.num_classes,
        )


def _plan_chunks(n_patches: int, size: int, context: int) -> list[_Chunk]:
    """Chunks of ``size`` patches overlapping by ``2 * context``, the last flush with the clip end.

    The step is at least half a chunk (the overlap at most half); each patch belongs to the
    chunk whose centre it is nearest (cuts at the middle of every overlap).
    """
    if n_patches <= size:
        return [_Chunk(0, n_patches, 0, n_patches)]
    step = max(1, size // 2, size - 2 * context)
    starts = [*range(0, n_patches - size, step), n_patches - size]
    cuts = [0, *((a + b + size - 1) // 2 + 1 for a, b in itertools.pairwise(starts)), n_patches]
    return [_Chunk(s, size, cuts[k], cuts[k + 1]) for k, s in enumerate(starts)]


def _interpolate(frames: torch.Tensor, centres: torch.Tensor, stamps: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of ``frames (n, P, D)`` at times ``centres`` to ``stamps``."""
    count = frames.shape[1]
    if count == 1:
        return frames.expand(-1, stamps.shape[0], -1).clone()
    position = ((stamps - centres[0]) / (centres[1] - centres[0])).clamp(0, count - 1)
    lo = position.floor().long().clamp(max=count - 2)
    weight = (position - lo).to(frames.dtype)[None, :, None]
    return frames[:, lo] * (1 - weight) + frames[:, lo + 1] * weight


def _groups(n_sounds: int, size: int) -> Iterator[list[int]]:
    for first in range(0, n_sounds, size):
        yield list(range(first, min(n_sounds, first + size)))


def _batched(items: list[tuple[int, _Chunk]], size: int) -> Iterator[list[tuple[int, _Chunk]]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


__all__ = [
    "OPTION_HELP",
    "PasstEmbedder",
    "PasstPipeline",
    "PasstSettings",
    "ms_to_samples",
    "parse_options",
]
