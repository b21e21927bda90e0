"""PaSST (Patchout faSt Spectrogram Transformer) in pure torch, inference only.

The network of Koutini et al., "Efficient Training of Audio Transformers with Patchout"
(Interspeech 2022), as released with the ``hear21passt`` HEAR 2021 wrappers: a DeiT-style
distilled ViT over overlapping 16×16 patches of a log-mel spectrogram, with separate frequency
and time positional embeddings. Parameter and buffer names equal the official checkpoints',
so they load strictly. Patchout only acts in training and is therefore absent here.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import nn
from torch.nn import functional as F

from hearbench.api import HearbenchError


class PatchEmbed(nn.Module):
    """Overlapping patches: spectrogram ``(batch, 1, n_mels, frames)`` → ``(batch, E, F, T)``."""

    def __init__(self, embed_dim: int, patch_size: int, fstride: int, tstride: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(1, embed_dim, kernel_size=patch_size, stride=(fstride, tstride))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Project every patch to an ``E``-dimensional token."""
        return self.proj(spec)


class Attention(nn.Module):
    """Multi-head self-attention as timm's ViT computes it, ``softmax(q k^T / sqrt(d)) v``.

    Run by the fused ``scaled_dot_product_attention`` kernel, which never materialises the
    ``tokens × tokens`` score matrix (the memory traffic that dominates long token sequences on
    CPUs); it equals the explicit-softmax formulation up to float rounding.
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise HearbenchError(f"num_heads: {num_heads} does not divide embed_dim {dim}")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, tokens, dim)`` → ``(batch, tokens, dim)``."""
        batch, tokens, dim = x.shape
        heads = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, dim // self.num_heads)
        query, key, value = heads.permute(2, 0, 3, 1, 4).unbind(0)
        attended = F.scaled_dot_product_attention(query, key, value, scale=self.scale)
        mixed = attended.transpose(1, 2).reshape(batch, tokens, dim)
        return self.proj(mixed)


class Mlp(nn.Module):
    """Two linear layers with an (erf) GELU between them."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., dim)`` → ``(..., dim)``."""
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One residual attention step and one residual MLP step."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PaSST(nn.Module):
    """The distilled PaSST network; PaSST-S (``passt_s_swa_p16_128_ap476``) by default.

    Args:
        embed_dim: Token width ``E``.
        depth: Number of transformer blocks.
        num_heads: Attention heads per block.
        n_mels: Mel bins of the input spectrogram.
        input_tdim: Spectrogram frames the time positional embedding was trained for; the grid
            has ``input_tdim // tstride`` time positions. Shorter inputs use its first columns.
        patch_size: Square patch side in (mel bins, frames).
        fstride: Patch stride over frequency.
        tstride: Patch stride over time.
        num_classes: Outputs of the classification head.
        mlp_ratio: Hidden width of the MLPs relative to ``embed_dim``.
    """

    num_tokens = 2

    def __init__(
        self,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        n_mels: int = 128,
        input_tdim: int = 998,
        patch_size: int = 16,
        fstride: int = 10,
        tstride: int = 10,
        num_classes: int = 527,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.num_classes = num_classes
        self.patch_size = patch_size
        self.fstride = fstride
        self.tstride = tstride
        self.grid_size = (n_mels // fstride, input_tdim // tstride)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.new_pos_embed = nn.Parameter(torch.zeros(1, self.num_tokens, embed_dim))
        self.freq_new_pos_embed = nn.Parameter(torch.zeros(1, embed_dim, self.grid_size[0], 1))
        self.time_new_pos_embed = nn.Parameter(torch.zeros(1, embed_dim, 1, self.grid_size[1]))
        self.patch_embed = PatchEmbed(embed_dim, patch_size, fstride, tstride)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Sequential(nn.LayerNorm(embed_dim), nn.Linear(embed_dim, num_classes))
        self.head_dist = nn.Linear(embed_dim, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """ViT initialisation: truncated normal (std 0.02) tokens, embeddings and linear weights."""
        for param in (
            self.cls_token,
            self.dist_token,
            self.new_pos_embed,
            self.freq_new_pos_embed,
            self.time_new_pos_embed,
        ):
            nn.init.trunc_normal_(param, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def time_patches(self, frames: int) -> int:
        """Time positions of the patch grid for a spectrogram of ``frames`` frames."""
        return max(0, (frames - self.patch_size) // self.tstride + 1)

    def patch_centre_frame(self, index: int) -> float:
        """Centre of time patch ``index`` in spectrogram frames."""
        return index * self.tstride + (self.patch_size - 1) / 2

    def embed(self, spec: torch.Tensor) -> torch.Tensor:
        """Token sequence entering block 0: ``[cls, dist, patches in frequency-major order]``.

        Args:
            spec: Log-mel spectrogram ``(batch, n_mels, frames)`` or ``(batch, 1, n_mels, frames)``.

        Raises:
            HearbenchError: if the input has no full patch or more time patches than the time
                positional embedding.
        """
        if spec.dim() == 3:
            spec = spec.unsqueeze(1)
        frames = spec.shape[-1]
        n_time = self.time_patches(frames)
        if n_time < 1 or n_time > self.grid_size[1]:
            raise HearbenchError(
                f"PaSST input of {frames} frames gives {n_time} time patches; "
                f"the model takes 1..{self.grid_size[1]}"
            )
        patches = self.patch_embed(spec)
        patches = patches + self.time_new_pos_embed[..., :n_time]
        patches = patches + self.freq_new_pos_embed
        patches = patches.flatten(2).transpose(1, 2)
        batch = patches.shape[0]
        cls = self.cls_token.expand(batch, -1, -1) + self.new_pos_embed[:, :1, :]
        dist = self.dist_token.expand(batch, -1, -1) + self.new_pos_embed[:, 1:, :]
        return torch.cat((cls, dist, patches), dim=1)

    def forward_blocks(
        self, spec: torch.Tensor, keep: Collection[int] = ()
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """Run every block.

        Args:
            spec: Log-mel spectrogram, as for :meth:`embed`.
            keep: Indices of blocks whose outputs are returned.

        Returns:
            The last block's tokens ``(batch, 2 + F*T, E)`` and ``{block index: its tokens}``.
        """
        tokens = self.embed(spec)
        kept: dict[int, torch.Tensor] = {}
        for index, block in enumerate(self.blocks):
            tokens = block(tokens)
            if index in keep:
                kept[index] = tokens
        return tokens, kept

    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean of the final-normed cls and dist tokens ``(batch, E)``."""
        normed = self.norm(tokens[:, : self.num_tokens])
        return (normed[:, 0] + normed[:, 1]) / 2

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Classification head on :meth:`features` (no sigmoid); ``head_dist`` is unused."""
        return self.head(features)

    def forward(self, spec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, features)`` as the original ``forward`` in eval mode."""
        tokens, _ = self.forward_blocks(spec)
        features = self.features(tokens)
        return self.logits(features), features

    def patch_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Patch tokens of a sequence as a grid ``(batch, F, T, E)``."""
        batch, _, width = tokens.shape
        return tokens[:, self.num_tokens :].reshape(batch, self.grid_size[0], -1, width)
