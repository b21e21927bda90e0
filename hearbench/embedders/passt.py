"""The PaSST embedder family: the hear21passt HEAR 2021 method, plus a one-pass token mode.

``mode="window"`` (default, :mod:`hearbench.embedders.passt_window`) is the method of the
``hear21passt`` wrappers, numerically; ``mode="tokens"``
(:mod:`hearbench.embedders.passt_tokens`) runs the network once per chunk of at most
``max_seconds`` and reads frame embeddings from the patch tokens. The options are in
:mod:`hearbench.embedders.passt_options`, what both modes share in
:mod:`hearbench.embedders.passt_layers`.

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

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hearbench.api import (
    EmbedderConfig,
    HearbenchError,
    LayerInfo,
    select_layers,
)
from hearbench.embedders.passt_layers import COMBINED, Part, PasstPipeline, build_network
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
from hearbench.embedders.passt_tokens import TokenMode
from hearbench.embedders.passt_window import WindowMode
from hearbench.frontend import MelFrontend
from hearbench.registry import EmbedderCard
from hearbench.weights import load_state_dict, load_strict, resolve_weights, sha256_file


class PasstEmbedder(WindowMode, TokenMode):
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
        self.net = build_network(settings)
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

    def _build_catalogue(self) -> tuple[Part, ...]:
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
            Part(LayerInfo(i, name, width, hop), level, network)
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


__all__ = [
    "OPTION_HELP",
    "PasstEmbedder",
    "PasstPipeline",
    "PasstSettings",
    "ms_to_samples",
    "parse_options",
]
