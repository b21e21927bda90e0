"""Options of the MobileNet embedder family (``mn*``, ``dymn*``): coercion and validation.

:data:`OPTIONS` declares every option once; :meth:`MobileNetOptions.parse` validates preset and
user options (command-line strings allowed) through it into a frozen :class:`MobileNetOptions`,
refusing every bad value with a one-line error naming the option.

Two frontends (option ``frontend``, :data:`FRONTENDS`): ``efficientat`` (32 kHz, 25 ms window,
1024-point FFT, ``log(x + 1e-5)``), as the EfficientAT checkpoints were trained, and
``efficientsed`` (16 kHz, 25 ms window, 512-point FFT, ``log(max(x, 1e-7))``), as EfficientSED's
frame-wise MobileNets were (github.com/theMoro/EfficientSED,
``models/efficient_cnns/fmn/fmn_wrapper.py`` and ``models/transformers/frame_passt/preprocess.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hearbench.api import HearbenchError, LayerSpec, parse_layer_spec
from hearbench.models.dymn import DEFAULT_TEMPERATURE
from hearbench.models.mobilenet import DEFAULT_STRIDES, STRIDE_LAYOUTS
from hearbench.options import Option, OptionSet, ms_to_samples

SAMPLE_RATE = 32000
"""Sample rate of the default (``efficientat``) frontend."""


@dataclass(frozen=True)
class FrontendSpec:
    """A log-mel frontend setting (the STFT hop is the separate ``hop_size`` option).

    Attributes:
        sample_rate: Input sample rate in Hz.
        win_length: STFT window in samples.
        n_fft: FFT size.
        log_eps: Floor of the logarithm.
        log_clip: Clip at ``log_eps`` (else add it).
    """

    sample_rate: int
    win_length: int
    n_fft: int
    log_eps: float
    log_clip: bool


FRONTENDS = {
    "efficientat": FrontendSpec(SAMPLE_RATE, 800, 1024, 1e-5, False),
    "efficientsed": FrontendSpec(16000, 400, 512, 1e-7, True),
}


def _strides(value: Any) -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else value
    strides = tuple(int(v) for v in items)
    if len(strides) != len(DEFAULT_STRIDES) or not set(strides) <= {1, 2}:
        raise ValueError(value)
    return strides


def _layers(value: Any) -> LayerSpec:
    spec = parse_layer_spec(value)
    return tuple(spec) if isinstance(spec, list) else spec


def _positive(name: str, kind: str, default: Any, text: str) -> Option:
    return Option(name, kind, default, text, minimum=0, exclusive=True)


OPTIONS = OptionSet(
    "mobilenet",
    (
        Option("arch", "str", "mn", "MobileNetV3 (mn) or dynamic MobileNet (dymn)", choices=("mn", "dymn")),
        _positive("width_mult", "float", 1.0, "channel multiplier of the checkpoint"),
        _positive("n_mels", "int", 128, "mel bins of the frontend (as the checkpoint was trained)"),
        Option("frontend", "str", "efficientat", "log-mel frontend: EfficientAT (32 kHz) or EfficientSED (16 kHz)",
               choices=tuple(FRONTENDS)),
        _positive("hop_size", "int", 320, "STFT hop in samples at the frontend's rate (320 = 10 ms at 32 kHz)"),
        Option("mode", "str", "window", "hear_mn windows (window) or one pass (frames)", choices=("window", "frames")),
        _positive("hop_ms", "float", 50.0, "spacing of timestamp embeddings in ms"),
        _positive("window_ms", "float", 160.0, "window length of window mode in ms"),
        _positive("scene_window_ms", "float", 10000.0, "longest clip embedded in one forward for scene embeddings"),
        _positive("scene_hop_ms", "float", 2500.0, "hop between scene windows in ms"),
        Option("layers", "any", "clf1", "layers to concatenate (the one layers rule)", coerce=_layers,
               expected="an int, layer indices or names"),
        Option("time_strides", "any", DEFAULT_STRIDES, "time strides of the four downsampling blocks",
               coerce=_strides, expected="4 strides of 1 or 2"),
        Option("stride_layout", "str", "efficientat", "per-block strides: EfficientAT's or EfficientSED's frame-wise fmn",
               choices=STRIDE_LAYOUTS),
        Option("temperature", "float", None, f"DyMN softmax temperature (arch=dymn; {DEFAULT_TEMPERATURE:g})",
               minimum=0, exclusive=True),
    ),
)


@dataclass(frozen=True)
class MobileNetOptions:
    """Validated options of the ``mobilenet`` family.

    Attributes:
        arch: ``mn`` (MobileNetV3) or ``dymn`` (dynamic MobileNet).
        width_mult: Channel multiplier of the checkpoint (0.1 … 4.0).
        n_mels: Mel bins of the frontend (must match the checkpoint's training).
        frontend: ``efficientat`` (32 kHz) or ``efficientsed`` (16 kHz), see :data:`FRONTENDS`.
        hop_size: STFT hop in samples at the frontend's rate (320 = 10 ms at 32 kHz;
            160/480/640/800 variants; 160 = 10 ms at 16 kHz).
        mode: ``window`` (hear_mn method) or ``frames`` (one pass, frame-wise outputs).
        hop_ms: Spacing of timestamp embeddings.
        window_ms: Window length of ``window`` mode.
        scene_window_ms: Longest clip embedded in one forward for scene embeddings; longer
            clips are averaged over windows of this length.
        scene_hop_ms: Hop between those scene windows.
        layers: Layer selection (the one ``layers`` rule); ``clf1`` by default.
        time_strides: Time strides of the four downsampling blocks (1 or 2 each).
        stride_layout: ``efficientat`` or ``fmn`` (EfficientSED's frame-wise layout: time x4,
            frequency x128); ``fmn`` fixes the strides, so ``time_strides`` stays default.
        temperature: DyMN dynamic-convolution softmax temperature (1.0 for pretrained models).
    """

    arch: str = "mn"
    width_mult: float = 1.0
    n_mels: int = 128
    frontend: str = "efficientat"
    hop_size: int = 320
    mode: str = "window"
    hop_ms: float = 50.0
    window_ms: float = 160.0
    scene_window_ms: float = 10000.0
    scene_hop_ms: float = 2500.0
    layers: LayerSpec = "clf1"
    time_strides: tuple[int, ...] = DEFAULT_STRIDES
    stride_layout: str = "efficientat"
    temperature: float = DEFAULT_TEMPERATURE

    @classmethod
    def parse(cls, name: str, options: Mapping[str, Any]) -> MobileNetOptions:
        """Validate ``options`` for preset ``name`` and fill in defaults."""
        values = {k: v for k, v in OPTIONS.resolve(options, name, defaults=False).items() if v is not None}
        if "temperature" in values and values.get("arch", cls.arch) != "dymn":
            raise HearbenchError(f"{name}: option 'temperature' applies to arch=dymn only")
        parsed = cls(**values)
        if parsed.stride_layout == "fmn" and parsed.time_strides != DEFAULT_STRIDES:
            raise HearbenchError(
                f"{name}: option 'time_strides' applies to stride_layout=efficientat only "
                f"(fmn fixes the strides), got {list(parsed.time_strides)}"
            )
        for key in ("hop_ms", "window_ms", "scene_window_ms", "scene_hop_ms"):
            ms_to_samples(getattr(parsed, key), parsed.sample_rate, name=key)
        return parsed

    @property
    def frontend_spec(self) -> FrontendSpec:
        """The frontend setting named by ``frontend``."""
        return FRONTENDS[self.frontend]

    @property
    def sample_rate(self) -> int:
        """Input sample rate of the frontend."""
        return self.frontend_spec.sample_rate

    def samples(self, key: str) -> int:
        """A millisecond option in samples at the frontend's rate."""
        return ms_to_samples(getattr(self, key), self.sample_rate, name=key)

    def to_dict(self, layer_names: Sequence[str]) -> dict[str, Any]:
        """Every option in effect, with the selected layers by name."""
        data = asdict(self)
        data["layers"] = list(layer_names)
        data["time_strides"] = list(self.time_strides)
        if self.arch != "dymn":
            del data["temperature"]
        for key in ("frontend", "stride_layout"):  # recorded only where they differ from the default
            if data[key] == "efficientat":
                del data[key]
        return data
