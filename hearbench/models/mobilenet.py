"""EfficientAT MobileNetV3 (``MN``) for log-mel input, in pure torch.

The network of Schmid et al., "Efficient Large-Scale Audio Tagging via Transformer-to-CNN
Knowledge Distillation" (EfficientAT): a MobileNetV3-Large body on a one-channel log-mel
spectrogram ``(batch, 1, n_mels, frames)``, channel squeeze-and-excitation (bottleneck
``make_divisible(expanded // 4)``), BatchNorm with ``eps=0.001`` and an MLP head
(pool → Linear → Hardswish → Dropout → Linear). Module and parameter names equal the official
checkpoints' (``features.<i>.block.<j>...``, ``classifier.<k>...``), so they load strictly.

Besides ``forward`` the network hands out intermediate maps by name
(:meth:`TappedNet.forward_taps`, :mod:`hearbench.models.tapped`). Time strides of the four
downsampling blocks can be reduced (``time_strides``) to keep a finer time resolution in the
deep blocks with the same weights, and the whole per-block stride layout can be switched to
EfficientSED's frame-wise ``fmn`` layout (``layout``, :mod:`hearbench.models.mobilenet_blocks`).

The building blocks live in :mod:`hearbench.models.mobilenet_blocks` and the tapped base class
in :mod:`hearbench.models.tapped`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from hearbench.models.mobilenet_blocks import (
    BN_EPS,
    BN_MOMENTUM,
    DEFAULT_STRIDES,
    NUM_CLASSES,
    STEM_STRIDE,
    STRIDE_LAYOUTS,
    BlockConfig,
    ChannelSE,
    ConvBNAct,
    InvertedResidual,
    SqueezeExcitation,
    batch_norm,
    block_configs,
    block_strides,
    init_weights,
    last_channel,
    make_divisible,
    mlp_head,
)
from hearbench.models.tapped import Tap, TappedNet

__all__ = [
    "BN_EPS",
    "BN_MOMENTUM",
    "DEFAULT_STRIDES",
    "MN",
    "NUM_CLASSES",
    "STEM_STRIDE",
    "STRIDE_LAYOUTS",
    "BlockConfig",
    "ChannelSE",
    "ConvBNAct",
    "InvertedResidual",
    "SqueezeExcitation",
    "Tap",
    "TappedNet",
    "batch_norm",
    "block_configs",
    "block_strides",
    "init_weights",
    "last_channel",
    "make_divisible",
    "mlp_head",
]


class MN(TappedNet):
    """EfficientAT MobileNetV3 with an MLP head (keys as the official ``mn*_as`` checkpoints).

    Args:
        width_mult: Channel multiplier.
        time_strides: Time strides of the four downsampling blocks.
        num_classes: Number of logits.
        layout: Stride layout, ``efficientat`` or ``fmn``.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        time_strides: Sequence[int] = DEFAULT_STRIDES,
        num_classes: int = NUM_CLASSES,
        layout: str = "efficientat",
    ) -> None:
        configs = block_configs(width_mult, time_strides, layout=layout)
        super().__init__(configs, width_mult)
        stem = ConvBNAct(1, configs[0].in_channels, 3, stride=STEM_STRIDE, activation=nn.Hardswish)
        blocks = [InvertedResidual(config) for config in configs]
        final = ConvBNAct(configs[-1].out_channels, self.out_channels, 1, activation=nn.Hardswish)
        self.features = nn.Sequential(stem, *blocks, final)
        self.classifier = mlp_head(self.out_channels, self.hidden_channels, num_classes)
        init_weights(self)

    def stages(self) -> Sequence[nn.Module]:
        """``features[0]`` … ``features[16]``."""
        return list(self.features)
