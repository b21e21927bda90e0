"""PaSST window mode, the method of the ``hear21passt`` wrappers, numerically.

The clip is reflect-padded by half a window and cut into windows of ``window_ms`` every
``hop_ms``; each window is one frontend + network forward giving ``[logits, features]``.
``levels`` adds the same for longer windows (``base2level``: 160 and 800 ms), ``mel`` appends the
flattened log-mel of a short window (``base2levelmel``: 6 frames). Scene embeddings come from one
forward on clips up to ``max_seconds``, otherwise from the mean over ``max_seconds`` windows every
``scene_hop_ms``. Unlike the wrappers, all windows of a clip go through the network in
memory-bounded batches instead of one forward per window position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from hearbench.embedders.passt_layers import PIECE_SECONDS, PasstLayers
from hearbench.embedders.passt_options import SAMPLE_RATE, ms_to_samples
from hearbench.windowing import iter_windows, n_windows, window_timestamps_ms

MEL_BATCH = 1024
"""Windows per batch of the ``mel`` part (frontend only)."""


class WindowMode(PasstLayers):
    """Window-mode embeddings: every window of a clip through the network, in batches."""

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


def _groups(n_sounds: int, size: int) -> Iterator[list[int]]:
    for first in range(0, n_sounds, size):
        yield list(range(first, min(n_sounds, first + size)))

