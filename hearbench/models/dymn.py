"""EfficientAT dynamic MobileNet (``DyMN``) in pure torch.

Schmid et al., "Dynamic Convolutional Neural Networks as Efficient Pre-trained Audio Models":
every MobileNetV3 block becomes a dynamic block whose convolutions mix ``K = 4`` kernels with
input-dependent attention (softmax with a temperature), whose depthwise activation is a dynamic
ReLU (``M = 2`` linear pieces per channel) and which ends with coordinate attention over
frequency and time. A per-block context generator pools the input over frequency and time and
produces the context vector (size ``H`` between ``32 * width`` and ``128 * width``) and the
coordinate-attention sequences. Module and parameter names equal the official checkpoints'.

The dynamic-convolution temperature is not stored in checkpoints: AudioSet-pretrained models
run at 1.0 (the default here); a model trained from scratch starts at 30.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from hearbench.models.mobilenet import (
    DEFAULT_STRIDES,
    NUM_CLASSES,
    STEM_STRIDE,
    BlockConfig,
    ConvBNAct,
    TappedNet,
    batch_norm,
    block_configs,
    init_weights,
    make_divisible,
    mlp_head,
)

DEFAULT_TEMPERATURE = 1.0


def context_size(
    config: BlockConfig, width_mult: float, ratio: int = 4, smallest: int = 32, largest: int = 128
) -> int:
    """Context width ``H`` of a dynamic block: ``expanded / ratio`` clipped to the scaled range."""
    size = make_divisible(config.expanded // ratio)
    low = make_divisible(smallest * width_mult)
    high = make_divisible(largest * width_mult)
    return min(max(size, low), high)


class DynamicConv(nn.Module):
    """Convolution whose kernel is an attention-weighted sum of ``k`` kernels.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        context_dim: Width of the context vector that parameterises the attention.
        kernel: Kernel size.
        stride: ``(frequency, time)`` stride.
        groups: Convolution groups.
        k: Number of kernels.
        temperature: Softmax temperature of the attention over kernels.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        context_dim: int,
        kernel: int,
        stride: tuple[int, int] = (1, 1),
        groups: int = 1,
        k: int = 4,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel = kernel
        self.stride = stride
        self.padding = (kernel - 1) // 2
        self.groups = groups
        self.k = k
        self.temperature = temperature
        self.residuals = nn.Sequential(nn.Linear(context_dim, k))
        kernels = torch.empty(k, out_channels, in_channels // groups, kernel, kernel)
        for index in range(k):
            nn.init.kaiming_normal_(kernels[index], mode="fan_out")
        self.weight = nn.Parameter(kernels.reshape(1, 1, k, -1))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Convolve each sample of ``x`` with its own mixed kernel.

        A pointwise (1x1, ungrouped, stride 1) kernel is applied as a per-sample matrix
        product; other kernels as one convolution grouped over the batch, in channels-last
        layout. Both equal the original grouped convolution up to float rounding and are
        faster on CPUs.
        """
        b, _, f, t = x.shape
        logits = self.residuals(context.reshape(b, -1)).reshape(b, 1, 1, -1)
        attention = F.softmax(logits / self.temperature, dim=-1)
        mixed = torch.matmul(attention, self.weight)
        if self.kernel == 1 and self.groups == 1 and self.stride == (1, 1):
            weight = mixed.reshape(b, self.out_channels, self.in_channels)
            product = torch.matmul(weight, x.reshape(b, self.in_channels, f * t))
            return product.reshape(b, self.out_channels, f, t)
        kernel = mixed.reshape(
            b * self.out_channels, self.in_channels // self.groups, self.kernel, self.kernel
        )
        out = F.conv2d(
            x.reshape(1, -1, f, t).contiguous(memory_format=torch.channels_last),
            kernel.contiguous(memory_format=torch.channels_last),
            stride=self.stride,
            padding=self.padding,
            groups=self.groups * b,
        )
        return out.contiguous().reshape(b, self.out_channels, out.shape[-2], out.shape[-1])


class DyReLU(nn.Module):
    """Dynamic ReLU (variant B): per-channel maximum of ``m`` context-dependent linear maps."""

    lambdas: torch.Tensor
    init_v: torch.Tensor

    def __init__(self, channels: int, context_dim: int, m: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self.m = m
        self.coef_net = nn.Sequential(nn.Linear(context_dim, 2 * m * channels))
        self.register_buffer("lambdas", torch.tensor([1.0] * m + [0.5] * m))
        self.register_buffer("init_v", torch.tensor([1.0] + [0.0] * (2 * m - 1)))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Apply the activation to ``x`` (batch, channels, freq, time)."""
        theta = self.coef_net(context.reshape(x.shape[0], -1))
        theta = 2 * torch.sigmoid(theta) - 1
        coefs = theta.reshape(-1, self.channels, 1, 1, 2 * self.m) * self.lambdas + self.init_v
        mapped = x.unsqueeze(-1) * coefs[..., : self.m] + coefs[..., self.m :]
        if self.m == 2:
            return torch.maximum(mapped[..., 0], mapped[..., 1])
        return mapped.max(dim=-1).values


class ContextGen(nn.Module):
    """Context of a dynamic block: pooled frequency and time sequences through a shared 1x1 conv.

    Returns ``(h_c, g_f, g_t)``: the context vector ``(b, H, 1, 1)`` and the coordinate-attention
    logits over frequency ``(b, C_exp, F', 1)`` and time ``(b, C_exp, 1, T')`` at the
    block's output resolution.
    """

    def __init__(
        self, context_dim: int, in_channels: int, expanded: int, stride: tuple[int, int]
    ) -> None:
        super().__init__()
        self.joint_conv = nn.Conv2d(in_channels, context_dim, 1, bias=False)
        self.joint_norm = batch_norm(context_dim)
        self.joint_act = nn.Hardswish()
        self.conv_f = nn.Conv2d(context_dim, expanded, 1)
        self.conv_t = nn.Conv2d(context_dim, expanded, 1)
        f_stride, t_stride = stride
        self.pool_f: nn.Module = (
            nn.AvgPool2d((3, 1), stride=(f_stride, 1), padding=(1, 0))
            if f_stride > 1
            else nn.Identity()
        )
        self.pool_t: nn.Module = (
            nn.AvgPool2d((1, 3), stride=(1, t_stride), padding=(0, 1))
            if t_stride > 1
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Context for input ``x`` (batch, channels, freq, time)."""
        cf = F.adaptive_avg_pool2d(x, (None, 1))
        ct = F.adaptive_avg_pool2d(x, (1, None)).permute(0, 1, 3, 2)
        n_f = cf.shape[2]
        joint = self.joint_act(self.joint_norm(self.joint_conv(torch.cat([cf, ct], dim=2))))
        h_f, h_t = torch.split(joint, [n_f, joint.shape[2] - n_f], dim=2)
        h_c = torch.mean(joint, dim=2, keepdim=True)
        g_f = self.conv_f(self.pool_f(h_f))
        g_t = self.conv_t(self.pool_t(h_t.permute(0, 1, 3, 2)))
        return h_c, g_f, g_t


class DynamicBlock(nn.Module):
    """Dynamic inverted-residual block: dynamic convs, dynamic ReLU, coordinate attention."""

    def __init__(
        self,
        config: BlockConfig,
        width_mult: float,
        temperature: float = DEFAULT_TEMPERATURE,
        dyconv_k: int = 4,
        dyrelu_m: int = 2,
    ) -> None:
        super().__init__()
        h = context_size(config, width_mult)
        activation: type[nn.Module] = nn.Hardswish if config.hardswish else nn.ReLU
        expand = config.expanded != config.in_channels
        self.exp_conv = (
            DynamicConv(
                config.in_channels, config.expanded, h, 1, k=dyconv_k, temperature=temperature
            )
            if expand
            else None
        )
        self.exp_norm: nn.Module = batch_norm(config.expanded) if expand else nn.Identity()
        self.exp_act: nn.Module = activation() if expand else nn.Identity()
        self.depth_conv = DynamicConv(
            config.expanded,
            config.expanded,
            h,
            config.kernel,
            stride=config.stride,
            groups=config.expanded,
            k=dyconv_k,
            temperature=temperature,
        )
        self.depth_norm = batch_norm(config.expanded)
        self.depth_act = DyReLU(config.expanded, h, m=dyrelu_m)
        self.proj_conv = DynamicConv(
            config.expanded, config.out_channels, h, 1, k=dyconv_k, temperature=temperature
        )
        self.proj_norm = batch_norm(config.out_channels)
        self.context_gen = ContextGen(h, config.in_channels, config.expanded, config.stride)
        self.residual = config.residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Block output."""
        h_c, g_f, g_t = self.context_gen(x)
        out = x
        if self.exp_conv is not None:
            out = self.exp_act(self.exp_norm(self.exp_conv(out, h_c)))
        out = self.depth_act(self.depth_norm(self.depth_conv(out, h_c)), h_c)
        out = out * torch.sigmoid(g_f) * torch.sigmoid(g_t)
        out = self.proj_norm(self.proj_conv(out, h_c))
        return out + x if self.residual else out


class DyMN(TappedNet):
    """EfficientAT dynamic MobileNet with an MLP head (keys as the official ``dymn*_as``).

    Args:
        width_mult: Channel multiplier.
        time_strides: Time strides of the four downsampling blocks.
        temperature: Softmax temperature of every dynamic convolution (1.0 for
            AudioSet-pretrained checkpoints).
        num_classes: Number of logits.
        layout: Stride layout, ``efficientat`` or ``fmn``.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        time_strides: Sequence[int] = DEFAULT_STRIDES,
        temperature: float = DEFAULT_TEMPERATURE,
        num_classes: int = NUM_CLASSES,
        layout: str = "efficientat",
    ) -> None:
        configs = block_configs(width_mult, time_strides, use_se=False, layout=layout)
        super().__init__(configs, width_mult)
        self.layers = nn.ModuleList()
        self.in_c = ConvBNAct(
            1, configs[0].in_channels, 3, stride=STEM_STRIDE, activation=nn.Hardswish
        )
        for config in configs:
            self.layers.append(DynamicBlock(config, width_mult, temperature))
        self.out_c = ConvBNAct(
            configs[-1].out_channels, self.out_channels, 1, activation=nn.Hardswish
        )
        self.classifier = mlp_head(self.out_channels, self.hidden_channels, num_classes)
        init_weights(self)

    @property
    def temperature(self) -> float:
        """Softmax temperature of the dynamic convolutions."""
        for module in self.modules():
            if isinstance(module, DynamicConv):
                return module.temperature
        return DEFAULT_TEMPERATURE

    def set_temperature(self, temperature: float) -> None:
        """Set the softmax temperature of every dynamic convolution."""
        for module in self.modules():
            if isinstance(module, DynamicConv):
                module.temperature = temperature

    def stages(self) -> Sequence[nn.Module]:
        """``in_c``, ``layers[0]`` … ``layers[14]``, ``out_c``."""
        return [self.in_c, *self.layers, self.out_c]
