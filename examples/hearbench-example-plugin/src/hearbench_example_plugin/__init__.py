"""A worked hearbench plugin: log-mel frames projected by a matrix from a weights file.

The family :class:`LogMelProjection` follows hearbench's one constructor contract: the
registry calls ``LogMelProjection(card=..., options=..., weights=..., pretrained=...)`` with
``options`` validated and completed by :attr:`LogMelProjection.OPTIONS`; the constructor names
its configuration ``card.name`` and records every option in effect. hearbench itself records
the sha256 of the weights file, so two weights files are two configurations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo
from hearbench.frontend import MelFrontend
from hearbench.options import Option, OptionSet, ms_to_samples
from hearbench.registry import EmbedderCard
from hearbench.weights import load_state_dict, load_strict, resolve_weights

SAMPLE_RATE = 16000
RANDOM_SEED = 0


class LogMelProjection(Embedder):
    """Log-mel frames projected by a weights matrix (MFCC-like with DCT weights)."""

    sample_rate = SAMPLE_RATE
    OPTIONS = OptionSet(
        "example_logmel",
        (
            Option("hop_ms", "float", 20.0, "spacing of timestamp embeddings in ms", minimum=0, exclusive=True),
            Option("n_mels", "int", 64, "mel bins", minimum=1),
            Option("dim", "int", 20, "width of the projection (rows of the weights matrix)", minimum=1),
        ),
    )

    def __init__(
        self,
        *,
        card: EmbedderCard,
        options: Mapping[str, Any],
        weights: str | Path | None = None,
        pretrained: bool = True,
    ) -> None:
        self.hop_ms = float(options["hop_ms"])
        hop = ms_to_samples(self.hop_ms, SAMPLE_RATE, name="hop_ms")
        self.frontend = MelFrontend(
            n_mels=options["n_mels"], sample_rate=SAMPLE_RATE, win_length=400,
            hop_size=hop, n_fft=512, fmax=8000.0,
        )
        self.projection = torch.nn.Linear(options["n_mels"], options["dim"], bias=False)
        if pretrained:
            path = resolve_weights(card.name, card.checkpoint, weights)
            load_strict(self.projection, load_state_dict(path), str(path))
        elif weights is not None:
            raise HearbenchError(f"{weights}: random weights were asked for; drop the weights file")
        else:
            generator = torch.Generator().manual_seed(RANDOM_SEED)
            with torch.no_grad():
                self.projection.weight.normal_(generator=generator)
        self.projection.eval()
        super().__init__(EmbedderConfig(name=card.name, options=dict(options), pretrained=pretrained))

    def layer_info(self) -> tuple[LayerInfo, ...]:
        return (LayerInfo(0, "projection", self.projection.out_features, self.hop_ms),)

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        frames = 1 + (audio.shape[-1] - 1) // self.frontend.hop_size
        if audio.shape[-1] <= self.frontend.n_fft:  # shorter than one STFT window: zero-pad
            audio = torch.nn.functional.pad(audio, (0, self.frontend.n_fft + 1 - audio.shape[-1]))
        with torch.inference_mode():
            mel = self.frontend(audio.float()).transpose(1, 2)[:, :frames]
            emb = self.projection(mel)
        stamps = torch.arange(emb.shape[1], dtype=torch.float32) * self.hop_ms
        return emb.float(), stamps.unsqueeze(0).expand(audio.shape[0], -1).contiguous()

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        return self.timestamp_embeddings(audio)[0].mean(dim=1)

    def torch_module(self) -> torch.nn.Module:
        return torch.nn.ModuleList([self.frontend, self.projection])


WIDE = EmbedderCard(
    name="example_logmel_wide",
    family="hearbench_example_plugin:LogMelProjection",
    options={"n_mels": 128, "dim": 40},
    description="the example plugin with 128 mel bins and 40 coefficients",
)
"""A preset of the family, registered through an entry point that names this card."""


def dct_matrix(n_mels: int, dim: int) -> torch.Tensor:
    """The orthonormal DCT-II basis ``(dim, n_mels)``: log-mel → cepstral coefficients."""
    k = torch.arange(dim, dtype=torch.float64)[:, None]
    n = torch.arange(n_mels, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi / n_mels * (n + 0.5) * k) * math.sqrt(2.0 / n_mels)
    basis[0] /= math.sqrt(2.0)
    return basis.float()


def write_dct_weights(path: str | Path, n_mels: int = 64, dim: int = 20) -> Path:
    """Write the DCT basis as a weights file the family loads."""
    target = Path(path)
    torch.save({"weight": dct_matrix(n_mels, dim)}, target)
    return target
