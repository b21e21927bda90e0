"""``baseline``: a deterministic log-mel + fixed random projection embedder.

In the spirit of the HEAR 2021 naive baseline: a 16 kHz log-mel spectrogram (10 ms frames),
summarised over a window around each timestamp by the mean and standard deviation of every
mel bin, and a fixed Gaussian random projection (seeded) of that summary. It has no trained
weights, runs in bounded memory on long clips, and is a floor every learned embedder should
clear.

Options:
    hop_ms: Spacing of timestamp embeddings (default 50).
    window_ms: Width of the window summarised per timestamp (default 160).
    n_mels: Mel bins (default 64).
    dim: Width of the random projection (default 512).
    seed: Seed of the projection matrix (default 0).
    layers: Any of ``mel_mean``, ``mel_std``, ``proj`` with the one ``layers`` rule
        (default ``proj``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo
from hearbench.frontend import MelFrontend
from hearbench.options import Option, OptionSet

OPTIONS = OptionSet(
    "baseline",
    (
        Option("hop_ms", "float", 50.0, "spacing of timestamp embeddings in ms", minimum=0, exclusive=True),
        Option("window_ms", "float", 160.0, "window summarised per timestamp in ms", minimum=0, exclusive=True),
        Option("n_mels", "int", 64, "mel bins", minimum=1),
        Option("dim", "int", 512, "width of the random projection", minimum=1),
        Option("seed", "int", 0, "seed of the projection matrix"),
        Option("layers", "any", "proj", "any of mel_mean, mel_std, proj (the one layers rule)",
               expected="an int, layer indices or names"),
    ),
)
DEFAULTS: dict[str, Any] = OPTIONS.defaults()
FRAME_MS = 10.0
CHUNK_FRAMES = 1000
"""Mel frames (10 s) per chunk of timestamps: a long clip needs no more memory than a 10 s one."""


class BaselineEmbedder(Embedder):
    """Log-mel statistics and a fixed random projection at a configurable hop."""

    sample_rate = 16000
    OPTIONS = OPTIONS

    def __init__(
        self,
        *,
        card: Any = None,
        options: Mapping[str, Any] | None = None,
        weights: str | Path | None = None,
        pretrained: bool = True,
    ) -> None:
        name = getattr(card, "name", "baseline")
        opts = OPTIONS.resolve(dict(options or {}), name)
        if weights is not None:
            raise HearbenchError(f"{name}: this embedder has no weights; drop --weights")
        self.hop_ms: float = opts["hop_ms"]
        self.window_ms: float = opts["window_ms"]
        self.n_mels: int = opts["n_mels"]
        self.dim: int = opts["dim"]
        self.seed: int = opts["seed"]
        super().__init__(
            EmbedderConfig(name=name, options=opts, weights_sha256=None, pretrained=True)
        )
        self.frontend = MelFrontend(
            n_mels=self.n_mels,
            sample_rate=16000,
            win_length=400,
            hop_size=160,
            n_fft=512,
            fmax=8000.0,
        )
        generator = torch.Generator().manual_seed(self.seed)
        self.projection = (
            torch.randn(2 * self.n_mels, self.dim, generator=generator) / (2 * self.n_mels) ** 0.5
        )
        _ = self.selected_layers

    def layer_info(self) -> tuple[LayerInfo, ...]:
        return (
            LayerInfo(0, "mel_mean", self.n_mels, self.hop_ms),
            LayerInfo(1, "mel_std", self.n_mels, self.hop_ms),
            LayerInfo(2, "proj", self.dim, self.hop_ms),
        )

    def _log_mel(self, audio: torch.Tensor, first: int, last: int) -> torch.Tensor:
        """Frames ``first .. last-1`` of the clip's log-mel, ``(n, frames, n_mels)`` float64.

        The excerpt starts on a frame boundary with enough context for the STFT, so the frames
        equal those of one pass over the whole clip. Clips shorter than the FFT are zero-padded
        first (the frames of the original length are the ones asked for).
        """
        fe = self.frontend
        hop, half = fe.hop_size, fe.n_fft // 2
        if audio.shape[-1] <= fe.n_fft:
            audio = torch.nn.functional.pad(audio, (0, fe.n_fft + 2 - audio.shape[-1]))
        n = audio.shape[-1]
        context = -(-half // hop)
        lo = max(0, first - context) * hop
        hi = min(n, (last - 1) * hop + half + 2)
        if hi - lo <= half + 1:
            lo, hi = max(0, hi - half - 2 - context * hop), n
            lo -= lo % hop
        mel = fe(audio[..., lo:hi])
        offset = first - lo // hop
        return mel[..., offset : offset + last - first].transpose(1, 2).double()

    def _window_stats(self, audio: torch.Tensor, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std of every mel bin over the window around each of ``times`` (ms)."""
        n_frames = self.frontend.n_frames(audio.shape[-1])
        half = self.window_ms / 2.0
        lo = torch.clamp(torch.ceil((times - half) / FRAME_MS), 0, n_frames - 1).long()
        hi = torch.clamp(torch.floor((times + half) / FRAME_MS), 0, n_frames - 1).long() + 1
        first, last = int(lo.min()), int(hi.max())
        mel = self._log_mel(audio, first, last)
        zeros = torch.zeros(mel.shape[0], 1, mel.shape[2], dtype=torch.float64)
        csum = torch.cat([zeros, mel.cumsum(1)], dim=1)
        csq = torch.cat([zeros, (mel**2).cumsum(1)], dim=1)
        lo, hi = lo - first, hi - first
        count = (hi - lo).to(torch.float64).view(1, -1, 1)
        mean = (csum[:, hi] - csum[:, lo]) / count
        var = torch.clamp((csq[:, hi] - csq[:, lo]) / count - mean**2, min=0.0)
        return mean, var.sqrt()

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings every ``hop_ms``, computed in bounded chunks of timestamps."""
        with torch.inference_mode():
            audio = audio.float()
            duration_ms = audio.shape[-1] * 1000.0 / self.sample_rate
            steps = int(duration_ms // self.hop_ms) + 1
            times = torch.arange(steps, dtype=torch.float64) * self.hop_ms
            per_chunk = max(1, int(CHUNK_FRAMES * FRAME_MS // self.hop_ms))
            names = [info.name for info in self.selected_layers]
            width = sum(info.width for info in self.selected_layers)
            out = torch.empty(audio.shape[0], steps, width)
            for start in range(0, steps, per_chunk):
                mean, std = self._window_stats(audio, times[start : start + per_chunk])
                parts = {"mel_mean": mean, "mel_std": std}
                if "proj" in names:
                    parts["proj"] = torch.cat([mean, std], dim=-1) @ self.projection.double()
                out[:, start : start + per_chunk] = torch.cat([parts[name] for name in names], dim=-1)
            stamps = times.float().unsqueeze(0).expand(audio.shape[0], -1).contiguous()
            return out, stamps

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        emb, _ = self.timestamp_embeddings(audio)
        return emb.mean(dim=1)
