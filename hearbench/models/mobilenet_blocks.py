"""MobileNetV3 building blocks shared by EfficientAT's ``MN`` and ``DyMN``, in pure torch.

The MobileNetV3-Large block table scaled by a width multiplier (:func:`block_configs`), the
per-block ``(frequency, time)`` stride layouts (:data:`STRIDE_LAYOUTS`), BatchNorm with
EfficientAT's settings, channel squeeze-and-excitation, the inverted-residual block, the MLP
head and EfficientAT's initialisation. Module names equal the official checkpoints'.

Stride layouts (facts from the upstream code):

* ``efficientat``: EfficientAT's ``MN`` (the MobileNetV3-Large table): blocks 2, 4, 7 and 13
  (1-based) stride 2 in frequency and time; their time strides can be reduced with
  ``time_strides``.
* ``fmn``: EfficientSED's frame-wise MobileNet (github.com/theMoro/EfficientSED,
  ``models/efficient_cnns/fmn/model.py``, ``_mobilenet_v3_conf``): frequency stride 2 in blocks
  2, 3, 6, 8, 11 and 15, time stride 2 in block 2 only. With the stem's stride 2 the time axis
  is reduced x4 and 128 mel bins shrink to one frequency row.

A block adds its input only with stride 1 and equal input and output widths (upstream's rule
as well), so the ``fmn`` layout drops the residuals of blocks 3, 6, 8 and 15 and, where the
width multiplier makes block 4's widths equal (0.4), adds one there. No weight shape depends
on strides, so EfficientAT checkpoints load into either layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hearbench.api import HearbenchError

BN_EPS = 0.001
BN_MOMENTUM = 0.01
NUM_CLASSES = 527
STEM_STRIDE = 2
DEFAULT_STRIDES = (2, 2, 2, 2)

# in, kernel, expanded, out, squeeze-excitation, hardswish, downsampling slot (None = stride 1)
_MOBILENET_V3_LARGE: tuple[tuple[int, int, int, int, bool, bool, int | None], ...] = (
    (16, 3, 16, 16, False, False, None),
    (16, 3, 64, 24, False, False, 0),
    (24, 3, 72, 24, False, False, None),
    (24, 5, 72, 40, True, False, 1),
    (40, 5, 120, 40, True, False, None),
    (40, 5, 120, 40, True, False, None),
    (40, 3, 240, 80, False, True, 2),
    (80, 3, 200, 80, False, True, None),
    (80, 3, 184, 80, False, True, None),
    (80, 3, 184, 80, False, True, None),
    (80, 3, 480, 112, True, True, None),
    (112, 3, 672, 112, True, True, None),
    (112, 5, 672, 160, True, True, 3),
    (160, 5, 960, 160, True, True, None),
    (160, 5, 960, 160, True, True, None),
)
_LAST_CHANNEL = 1280


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to a multiple of ``divisor``, never more than 10 % below it."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


@dataclass(frozen=True)
class BlockConfig:
    """One inverted-residual block, channels already scaled by the width multiplier.

    Attributes:
        in_channels: Input channels.
        kernel: Depthwise kernel size.
        expanded: Channels after the 1x1 expansion.
        out_channels: Output channels.
        use_se: Whether the block has channel squeeze-and-excitation.
        hardswish: Hardswish activations (else ReLU).
        stride: ``(frequency, time)`` stride of the depthwise convolution.
    """

    in_channels: int
    kernel: int
    expanded: int
    out_channels: int
    use_se: bool
    hardswish: bool
    stride: tuple[int, int]

    @property
    def residual(self) -> bool:
        """Whether the block adds its input to its output."""
        return self.stride == (1, 1) and self.in_channels == self.out_channels

    @property
    def se_channels(self) -> int:
        """Width of the squeeze-and-excitation bottleneck (``fc1`` output)."""
        return make_divisible(self.expanded // 4)


# (frequency, time) stride of each of the 15 blocks in the fmn layout (upstream's f/t tables)
_FMN_STRIDES: tuple[tuple[int, int], ...] = tuple(
    zip(
        (1, 2, 2, 1, 1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 2),
        (1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        strict=True,
    )
)
STRIDE_LAYOUTS = ("efficientat", "fmn")
"""Named per-block stride layouts (see the module docstring)."""


def block_strides(
    layout: str = "efficientat", time_strides: Sequence[int] = DEFAULT_STRIDES
) -> tuple[tuple[int, int], ...]:
    """``(frequency, time)`` stride of each of the 15 blocks.

    Args:
        layout: ``efficientat`` or ``fmn``.
        time_strides: Time strides of the four downsampling blocks of the ``efficientat``
            layout (1 or 2 each); the ``fmn`` layout takes only the default.
    """
    if len(time_strides) != len(DEFAULT_STRIDES):
        raise HearbenchError(
            f"time_strides: expected {len(DEFAULT_STRIDES)} values, got {list(time_strides)}"
        )
    if layout == "fmn":
        if tuple(time_strides) != DEFAULT_STRIDES:
            raise HearbenchError(
                f"time_strides: stride_layout=fmn fixes the strides, got {list(time_strides)}"
            )
        return _FMN_STRIDES
    if layout != "efficientat":
        raise HearbenchError(
            f"stride_layout: expected one of {', '.join(STRIDE_LAYOUTS)}, got {layout!r}"
        )
    return tuple(
        (1, 1) if slot is None else (DEFAULT_STRIDES[slot], int(time_strides[slot]))
        for *_, slot in _MOBILENET_V3_LARGE
    )


def block_configs(
    width_mult: float,
    time_strides: Sequence[int] = DEFAULT_STRIDES,
    use_se: bool = True,
    layout: str = "efficientat",
) -> tuple[BlockConfig, ...]:
    """The 15 MobileNetV3-Large blocks scaled by ``width_mult``.

    Args:
        width_mult: Channel multiplier (0.1 … 4.0 in the EfficientAT model zoo).
        time_strides: Time strides of the four downsampling blocks (1 or 2 each); frequency
            strides stay 2.
        use_se: ``False`` drops squeeze-and-excitation everywhere (DyMN blocks).
        layout: Stride layout, ``efficientat`` or ``fmn`` (:func:`block_strides`).
    """
    strides = block_strides(layout, time_strides)
    configs = []
    for (c_in, kernel, c_exp, c_out, se, hs, _), stride in zip(
        _MOBILENET_V3_LARGE, strides, strict=True
    ):
        configs.append(
            BlockConfig(
                in_channels=make_divisible(c_in * width_mult),
                kernel=kernel,
                expanded=make_divisible(c_exp * width_mult),
                out_channels=make_divisible(c_out * width_mult),
                use_se=se and use_se,
                hardswish=hs,
                stride=stride,
            )
        )
    return tuple(configs)


def last_channel(width_mult: float) -> int:
    """Hidden width of the MLP head."""
    return make_divisible(_LAST_CHANNEL * width_mult)


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """BatchNorm with EfficientAT's settings."""
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) → BatchNorm → optional activation; children named ``0``, ``1``, ``2``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int | tuple[int, int] = 1,
        groups: int = 1,
        activation: type[nn.Module] | None = None,
    ) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel,
                stride=stride,
                padding=(kernel - 1) // 2,
                groups=groups,
                bias=False,
            ),
            batch_norm(out_channels),
        ]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """Channel squeeze-and-excitation: ``x * sigmoid(fc2(relu(fc1(mean_ft(x)))))``."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, squeeze)
        self.fc2 = nn.Linear(squeeze, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale the channels of ``x`` (batch, channels, freq, time)."""
        scale = torch.mean(x, (2, 3))
        scale = self.fc2(F.relu(self.fc1(scale)))
        return torch.sigmoid(scale)[:, :, None, None] * x


class ChannelSE(nn.Module):
    """EfficientAT's concurrent-SE container holding one channel SE (``conc_se_layers.0``)."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.conc_se_layers = nn.ModuleList([SqueezeExcitation(channels, squeeze)])

    @property
    def fc1(self) -> nn.Linear:
        """The bottleneck projection whose output the ``se<i>`` layers expose."""
        se = self.conc_se_layers[0]
        assert isinstance(se, SqueezeExcitation)
        return se.fc1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the single channel SE (max-aggregation over one branch is the identity)."""
        return self.conc_se_layers[0](x)


class InvertedResidual(nn.Module):
    """MobileNetV3 block: [1x1 expand] → depthwise → [SE] → 1x1 project (+ input)."""

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        activation: type[nn.Module] = nn.Hardswish if config.hardswish else nn.ReLU
        layers: list[nn.Module] = []
        if config.expanded != config.in_channels:
            layers.append(ConvBNAct(config.in_channels, config.expanded, 1, activation=activation))
        layers.append(
            ConvBNAct(
                config.expanded,
                config.expanded,
                config.kernel,
                stride=config.stride,
                groups=config.expanded,
                activation=activation,
            )
        )
        self.se_position: int | None = None
        if config.use_se:
            self.se_position = len(layers)
            layers.append(ChannelSE(config.expanded, config.se_channels))
        layers.append(ConvBNAct(config.expanded, config.out_channels, 1))
        self.block = nn.Sequential(*layers)
        self.residual = config.residual

    @property
    def se(self) -> ChannelSE | None:
        """The block's squeeze-and-excitation module, if any."""
        if self.se_position is None:
            return None
        module = self.block[self.se_position]
        assert isinstance(module, ChannelSE)
        return module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Block output."""
        out = self.block(x)
        return out + x if self.residual else out

    def forward_with_se_input(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Block output and the SE input (the depthwise stage output)."""
        if self.se_position is None:
            raise HearbenchError("this block has no squeeze-and-excitation")
        h = x
        se_input = x
        for position, layer in enumerate(self.block):
            if position == self.se_position:
                se_input = h
            h = layer(h)
        return (h + x if self.residual else h), se_input


def mlp_head(
    in_channels: int, hidden: int, num_classes: int, dropout: float = 0.2
) -> nn.Sequential:
    """EfficientAT's ``mlp`` classifier (pooling included), module indices 0 … 5."""
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(start_dim=1),
        nn.Linear(in_channels, hidden),
        nn.Hardswish(),
        nn.Dropout(p=dropout),
        nn.Linear(hidden, num_classes),
    )


def init_weights(module: nn.Module) -> None:
    """EfficientAT's initialisation: Kaiming (fan-out) convs, unit norms, N(0, 0.01) linears."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
