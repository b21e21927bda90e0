"""Log-mel frontend of EfficientAT and PaSST (eval mode), in pure torch.

Pre-emphasis ``y[i] = x[i+1] - 0.97 x[i]``, an STFT with a symmetric Hann window, the power
spectrum, a Kaldi-style mel filterbank (computed in float32 as ``torchaudio.compliance.kaldi``
does), ``log(x + 1e-5)`` and the fast normalisation ``(v + 4.5) / 5``. EfficientSED's variant
(github.com/theMoro/EfficientSED, ``models/transformers/frame_passt/preprocess.py``) takes
``log(max(x, 1e-7))`` instead (``log_clip=True, log_eps=1e-7``).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def kaldi_mel_banks(
    n_mels: int, n_fft: int, sample_rate: int, fmin: float, fmax: float
) -> torch.Tensor:
    """Kaldi mel filterbank ``(n_mels, n_fft // 2 + 1)``, float32, last column zero.

    mel(f) = 1127 ln(1 + f / 700); triangles with edges equally spaced in mel between
    ``fmin`` and ``fmax``, evaluated at bin frequencies ``k * sample_rate / n_fft``.
    """
    nyquist = 0.5 * sample_rate
    if fmax <= 0:
        fmax += nyquist
    bin_width = sample_rate / n_fft
    mel_low = 1127.0 * math.log(1.0 + fmin / 700.0)
    mel_high = 1127.0 * math.log(1.0 + fmax / 700.0)
    delta = (mel_high - mel_low) / (n_mels + 1)
    index = torch.arange(n_mels).unsqueeze(1)
    left = mel_low + index * delta
    center = mel_low + (index + 1.0) * delta
    right = mel_low + (index + 2.0) * delta
    mel = (1127.0 * (1.0 + (bin_width * torch.arange(n_fft / 2)) / 700.0).log()).unsqueeze(0)
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    banks = torch.max(torch.zeros(1), torch.min(up, down))
    return nn.functional.pad(banks, (0, 1), mode="constant", value=0.0)


class MelFrontend(nn.Module):
    """Waveform ``(batch, n)`` at ``sample_rate`` → log-mel ``(batch, n_mels, 1 + (n - 1) // hop)``.

    Args:
        n_mels: Number of mel bins.
        sample_rate: Input sample rate in Hz.
        win_length: STFT window length in samples (a symmetric Hann window).
        hop_size: STFT hop in samples.
        n_fft: FFT size.
        fmin: Lowest filterbank frequency in Hz.
        fmax: Highest filterbank frequency in Hz; ``None`` = ``sample_rate / 2 - 1000``, the
            eval-mode value of the original code.
        log_eps: Floor of the logarithm.
        log_clip: ``True`` clips the mel power at ``log_eps`` before the logarithm; ``False``
            adds it.
    """

    window: torch.Tensor
    preemphasis: torch.Tensor
    mel_basis: torch.Tensor

    def __init__(
        self,
        n_mels: int = 128,
        sample_rate: int = 32000,
        win_length: int = 800,
        hop_size: int = 320,
        n_fft: int = 1024,
        fmin: float = 0.0,
        fmax: float | None = None,
        log_eps: float = 1e-5,
        log_clip: bool = False,
    ) -> None:
        super().__init__()
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.win_length = win_length
        self.hop_size = hop_size
        self.n_fft = n_fft
        self.fmin = fmin
        self.log_eps = log_eps
        self.log_clip = log_clip
        self.fmax = float(sample_rate // 2 - 1000) if fmax is None else float(fmax)
        self.register_buffer(
            "window", torch.hann_window(win_length, periodic=False), persistent=False
        )
        self.register_buffer("preemphasis", torch.tensor([[[-0.97, 1.0]]]), persistent=False)
        self.register_buffer(
            "mel_basis",
            kaldi_mel_banks(n_mels, n_fft, sample_rate, self.fmin, self.fmax),
            persistent=False,
        )

    def n_frames(self, n_samples: int) -> int:
        """Frames produced for ``n_samples`` of audio."""
        return 1 + (n_samples - 1) // self.hop_size

    def power_spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-emphasis, STFT and power: ``(batch, n)`` → ``(batch, n_fft // 2 + 1, frames)``."""
        x = nn.functional.conv1d(x.unsqueeze(1), self.preemphasis).squeeze(1)
        spec = torch.stft(
            x,
            self.n_fft,
            hop_length=self.hop_size,
            win_length=self.win_length,
            window=self.window,
            center=True,
            normalized=False,
            return_complex=True,
        )
        real = torch.view_as_real(spec)
        return (real**2).sum(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-mel spectrogram, normalised as the original models expect."""
        power = self.power_spectrogram(x)
        mel = torch.matmul(self.mel_basis, power)
        floored = mel.clamp(min=self.log_eps) if self.log_clip else mel + self.log_eps
        return (torch.log(floored) + 4.5) / 5.0
