"""The sequence heads of the ``sequence`` probe: one network shape, five context models.

Every variant is standardise → (project to ``d_model`` → ReLU → Dropout → context → Dropout) →
Linear(n_labels) per frame, on padded batches of whole clips; padding never reaches a clip's
outputs, so a clip is labelled the same alone or in a batch. The context models (``head``):

* ``bigru`` (the default): ``layers`` bidirectional GRU layers, ``d_model // 2`` units per
  direction; each direction runs as its own GRU, the backward one on each clip reversed within
  its length. With one layer it is the network the probe always had, parameter for parameter.
* ``transformer``: ``layers`` pre-norm encoder blocks (multi-head self-attention with rotary
  position embeddings, so clips of any length need no position table; heads of 32 dimensions,
  a ``2 × d_model`` ReLU feed-forward), attention masked to each clip's frames.
* ``tcn``: ``layers`` residual blocks of a non-causal dilated convolution (kernel 3, dilation
  ``2^i``) → ReLU → Dropout; padded frames are zeroed before every convolution, so a clip sees
  zeros past its ends whatever the batch holds.
* ``mlp``: ``layers`` frame-wise Linear(``d_model``) → ReLU → Dropout blocks, no context.
* ``linear``: no projection and no context, standardise → Linear(n_labels): the frame-wise
  reference (``d_model`` and ``layers`` unused).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

HEADS = ("bigru", "transformer", "tcn", "mlp", "linear")
HEAD_DIM = 32


def reverse_clips(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each clip of a padded batch ``(B, T, ·)`` in time, leaving its padding in place."""
    steps = torch.arange(x.shape[1])[None, :]
    index = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


def frame_mask(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` True on each clip's real frames."""
    return torch.arange(x.shape[1])[None, :] < lengths[:, None]


class BiGRU(torch.nn.Module):
    """Stacked bidirectional GRU whose backward direction reads each clip reversed in place."""

    def __init__(self, d_model: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.forward_grus = torch.nn.ModuleList()
        self.backward_grus = torch.nn.ModuleList()
        for _ in range(layers):
            self.forward_grus.append(torch.nn.GRU(d_model, d_model // 2, batch_first=True))
            self.backward_grus.append(torch.nn.GRU(d_model, d_model // 2, batch_first=True))
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        for i, (ahead_gru, behind_gru) in enumerate(zip(self.forward_grus, self.backward_grus, strict=True)):
            if i:
                h = self.dropout(h)
            ahead, _ = ahead_gru(h)
            behind, _ = behind_gru(reverse_clips(h, lengths))
            h = torch.cat([ahead, reverse_clips(behind, lengths)], dim=-1)
        return h


def rotate(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of ``(B, heads, T, dim)`` queries or keys (half-split pairs)."""
    half = x.shape[-1] // 2
    freqs = 10000.0 ** (-torch.arange(half, dtype=torch.float32) / half)
    angles = torch.arange(x.shape[-2], dtype=torch.float32)[:, None] * freqs[None, :]
    cos, sin = angles.cos(), angles.sin()
    first, second = x[..., :half], x[..., half:]
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=-1)


class RotaryBlock(torch.nn.Module):
    """Pre-norm self-attention (rotary positions) and feed-forward, each with a residual."""

    def __init__(self, d_model: int, dropout: float) -> None:
        super().__init__()
        self.heads = max(1, d_model // HEAD_DIM)
        self.norm1 = torch.nn.LayerNorm(d_model)
        self.qkv = torch.nn.Linear(d_model, 3 * d_model)
        self.out = torch.nn.Linear(d_model, d_model)
        self.norm2 = torch.nn.LayerNorm(d_model)
        self.ff1 = torch.nn.Linear(d_model, 2 * d_model)
        self.ff2 = torch.nn.Linear(2 * d_model, d_model)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attend = mask[:, None, None, :]
        y = F.scaled_dot_product_attention(rotate(q), rotate(k), v, attn_mask=attend)
        h = h + self.dropout(self.out(y.transpose(1, 2).reshape(b, t, d)))
        return h + self.dropout(self.ff2(self.dropout(torch.relu(self.ff1(self.norm2(h))))))


class Transformer(torch.nn.Module):
    """``layers`` rotary encoder blocks and a final LayerNorm."""

    def __init__(self, d_model: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList(RotaryBlock(d_model, dropout) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(d_model)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = frame_mask(h, lengths)
        for block in self.blocks:
            h = block(h, mask)
        return self.norm(h)


class TCN(torch.nn.Module):
    """Residual dilated convolutions (kernel 3, dilation ``2^i``), padding zeroed before each."""

    def __init__(self, d_model: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv1d(d_model, d_model, 3, dilation=2**i, padding=2**i) for i in range(layers)
        )
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        keep = frame_mask(h, lengths)[:, :, None].to(h.dtype)
        for conv in self.convs:
            y = conv((h * keep).transpose(1, 2)).transpose(1, 2)
            h = h + self.dropout(torch.relu(y))
        return h


class FrameMLP(torch.nn.Module):
    """``layers`` frame-wise Linear → ReLU → Dropout blocks."""

    def __init__(self, d_model: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.linears = torch.nn.ModuleList(torch.nn.Linear(d_model, d_model) for _ in range(layers))
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        for linear in self.linears:
            h = self.dropout(torch.relu(linear(h)))
        return h


CONTEXTS: dict[str, type[torch.nn.Module]] = {
    "bigru": BiGRU,
    "transformer": Transformer,
    "tcn": TCN,
    "mlp": FrameMLP,
}


class SequenceNet(torch.nn.Module):
    """Standardise → project → context → per-frame logits, on padded batches of clips.

    Args:
        n_features: Embedding width.
        n_labels: Number of labels.
        d_model: Width of the projection and of the context model.
        dropout: Dropout after the projection and after the context model.
        mean: Per-feature mean subtracted from the input.
        scale: Per-feature scale the centred input is divided by.
        head: One of :data:`HEADS`.
        layers: Layers of the context model.
    """

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(
        self,
        n_features: int,
        n_labels: int,
        d_model: int,
        dropout: float,
        mean: torch.Tensor,
        scale: torch.Tensor,
        head: str = "bigru",
        layers: int = 1,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"sequence head must be one of {', '.join(HEADS)}, got {head!r}")
        self.register_buffer("mean", mean.reshape(1, 1, n_features).clone())
        self.register_buffer("scale", scale.reshape(1, 1, n_features).clone())
        self.kind = head
        self.dropout = torch.nn.Dropout(dropout)
        self.project: torch.nn.Module | None = None
        self.context: torch.nn.Module | None = None
        width = n_features
        if head != "linear":
            self.project = torch.nn.Linear(n_features, d_model)
            self.context = CONTEXTS[head](d_model, layers, dropout)
            width = d_model
        self.head = torch.nn.Linear(width, n_labels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, T, C)`` of padded clips ``x`` ``(B, T, F)`` with ``lengths`` ``(B,)``.

        Rows past a clip's length are padding; their logits are meaningless.
        """
        h = (x - self.mean) / self.scale
        if self.project is None or self.context is None:
            return self.head(h)
        h = self.dropout(torch.relu(self.project(h)))
        return self.head(self.dropout(self.context(h, lengths)))


def check_width(head: str, d_model: int) -> str | None:
    """Why ``d_model`` does not suit ``head``, or ``None`` when it does."""
    if head == "linear":
        return None
    if d_model < 2 or (head == "bigru" and d_model % 2):
        return f"d_model must be an even number >= 2 for {head}, got {d_model}"
    if head == "transformer":
        heads = max(1, d_model // HEAD_DIM)
        if d_model % heads or (d_model // heads) % 2:
            return f"d_model {d_model} must split into {heads} attention heads of even width"
    return None


