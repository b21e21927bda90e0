"""The tapped network: stem, 15 blocks and a 1x1 conv that hand out intermediate maps by name.

``b0`` is the stem, ``b1`` ... ``b15`` the inverted-residual blocks, ``b16`` the final 1x1
convolution, and ``se<i>`` the input of block ``i``'s squeeze-and-excitation (its depthwise
stage output).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hearbench.api import HearbenchError
from hearbench.models.mobilenet_blocks import (
    STEM_STRIDE,
    BlockConfig,
    InvertedResidual,
    last_channel,
)


@dataclass(frozen=True)
class Tap:
    """An intermediate map the network can hand out.

    Attributes:
        name: ``b<i>`` for the output of stage ``i`` (0 = stem, 16 = final 1x1 conv) or
            ``se<i>`` for the squeeze-and-excitation input of block ``i``.
        stage: Index of the stage that produces it (0 … 16).
        channels: Channels of the map.
        time_stride: Time stride of the map relative to the input frames.
    """

    name: str
    stage: int
    channels: int
    time_stride: int


class TappedNet(nn.Module, abc.ABC):
    """A stem → 15 blocks → 1x1 conv → MLP-head network that exposes intermediate maps.

    Subclasses build ``classifier`` (``AdaptiveAvgPool2d``, ``Flatten``, ``Linear``,
    ``Hardswish``, ``Dropout``, ``Linear``) and list their 17 stages in :meth:`stages`.
    """

    classifier: nn.Sequential

    def __init__(self, configs: Sequence[BlockConfig], width_mult: float) -> None:
        super().__init__()
        self.configs = tuple(configs)
        self.width_mult = width_mult

    @abc.abstractmethod
    def stages(self) -> Sequence[nn.Module]:
        """Stem, the 15 blocks and the final 1x1 conv, in order."""

    @property
    def out_channels(self) -> int:
        """Channels of the final 1x1 conv (the pooled embedding width)."""
        return 6 * self.configs[-1].out_channels

    @property
    def hidden_channels(self) -> int:
        """Hidden width of the MLP head."""
        return last_channel(self.width_mult)

    @property
    def num_classes(self) -> int:
        """Number of logits."""
        head = self.classifier[5]
        assert isinstance(head, nn.Linear)
        return head.out_features

    def taps(self) -> tuple[Tap, ...]:
        """Every map :meth:`forward_taps` can return, in stage order."""
        stride = STEM_STRIDE
        taps = [Tap("b0", 0, self.configs[0].in_channels, stride)]
        for index, config in enumerate(self.configs, start=1):
            stride *= config.stride[1]
            if config.use_se:
                taps.append(Tap(f"se{index}", index, config.expanded, stride))
            taps.append(Tap(f"b{index}", index, config.out_channels, stride))
        taps.append(
            Tap(f"b{len(self.configs) + 1}", len(self.configs) + 1, self.out_channels, stride)
        )
        return tuple(taps)

    def se_bottleneck(self, stage: int) -> nn.Linear:
        """``fc1`` of the squeeze-and-excitation in block ``stage``."""
        block = self.stages()[stage]
        se = block.se if isinstance(block, InvertedResidual) else None
        if se is None:
            raise HearbenchError(f"block {stage} has no squeeze-and-excitation")
        return se.fc1

    def forward_taps(self, x: torch.Tensor, names: Collection[str]) -> dict[str, torch.Tensor]:
        """Run the stages up to the deepest requested tap and return the requested maps.

        Args:
            x: Log-mel input ``(batch, 1, n_mels, frames)``.
            names: Tap names (see :meth:`taps`).
        """
        by_name = {tap.name: tap for tap in self.taps()}
        unknown = sorted(set(names) - set(by_name))
        if unknown:
            raise HearbenchError(f"unknown taps {unknown}; choose from {', '.join(by_name)}")
        if not names:
            return {}
        last = max(by_name[name].stage for name in names)
        out: dict[str, torch.Tensor] = {}
        for index, stage in enumerate(self.stages()[: last + 1]):
            se_name = f"se{index}"
            if se_name in names and isinstance(stage, InvertedResidual):
                x, out[se_name] = stage.forward_with_se_input(x)
            else:
                x = stage(x)
            if f"b{index}" in names:
                out[f"b{index}"] = x
        return out

    def head_hidden(self, pooled: torch.Tensor) -> torch.Tensor:
        """The MLP head's hidden activation (after its Hardswish) for pooled features."""
        return self.classifier[3](self.classifier[2](pooled))

    def head_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits from the head's hidden activation."""
        return self.classifier[5](hidden)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, embedding)`` for log-mel input ``(batch, 1, n_mels, frames)``."""
        for stage in self.stages():
            x = stage(x)
        embedding = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x), embedding
