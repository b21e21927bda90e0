"""What both PaSST modes share: the network's selectable outputs, read in batches that fit a
work budget (:mod:`hearbench.embedders.passt` documents the family)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from hearbench.api import Embedder, LayerInfo
from hearbench.embedders.passt_options import WINDOW, PasstSettings
from hearbench.frontend import MelFrontend
from hearbench.models.passt import PaSST

WORK_BUDGET = 1 << 26
"""Activation elements one network batch may hold per block (attention scores + MLP)."""
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
class Part:
    """Where a selectable layer comes from: a network layer at a window level, or the mel."""

    info: LayerInfo
    level: int
    network: str


class PasstLayers(Embedder):
    """The frontend, the network and the layer values both modes read from it.

    The embedder (:class:`~hearbench.embedders.passt.PasstEmbedder`) sets the attributes
    declared here when it is built.
    """

    settings: PasstSettings
    frontend: MelFrontend
    net: PaSST
    _min_samples: int
    _max_samples: int
    _hop: int
    _scene_hop: int
    _parts: tuple[Part, ...]
    _scene_layers: tuple[str, ...]

    def _network_layers(self) -> list[tuple[str, int]]:
        """Names and widths of the network's selectable outputs, in order."""
        width, classes = self.net.embed_dim, self.net.num_classes
        layers = [(f"block{i}", width) for i in range(self.net.depth)]
        layers += [("features", width), ("logits", classes)]
        if self.settings.mode == WINDOW:
            layers.append((COMBINED, classes + width))
        return layers

    @property
    def scene_embedding_size(self) -> int:
        """Width of scene embeddings: the selected network layers (once each in window mode)."""
        return self._width(self._scene_layers)

    def _width(self, names: tuple[str, ...]) -> int:
        widths = dict(self._network_layers())
        return sum(widths[name] for name in names)

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


def build_network(settings: PasstSettings) -> PaSST:
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
