"""Options of the MobileNet embedder family (``mn*``, ``dymn*``): coercion and validation.

:meth:`MobileNetOptions.parse` turns preset and user options (command-line strings allowed) into
a frozen :class:`MobileNetOptions`; every bad value is refused with a one-line error naming the
option.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hearbench.api import HearbenchError, LayerSpec, parse_layer_spec
from hearbench.models.dymn import DEFAULT_TEMPERATURE
from hearbench.models.mobilenet import DEFAULT_STRIDES

SAMPLE_RATE = 32000


def _number(kind: type[int] | type[float]) -> Callable[[str, Any], Any]:
    def coerce(name: str, value: Any) -> Any:
        expected = f"option {name!r}: expected a positive {kind.__name__}, got {value!r}"
        try:
            number = kind(float(value))
            exact = number == float(value)
        except (TypeError, ValueError) as exc:
            raise HearbenchError(expected) from exc
        if isinstance(value, bool) or number <= 0 or not exact:
            raise HearbenchError(expected)
        return number

    return coerce


def _choice(*allowed: str) -> Callable[[str, Any], str]:
    def coerce(name: str, value: Any) -> str:
        if value not in allowed:
            raise HearbenchError(
                f"option {name!r}: expected one of {', '.join(allowed)}, got {value!r}"
            )
        return str(value)

    return coerce


def _strides(name: str, value: Any) -> tuple[int, ...]:
    items = value.split(",") if isinstance(value, str) else value
    try:
        strides = tuple(int(v) for v in items)
    except (TypeError, ValueError) as exc:
        raise HearbenchError(
            f"option {name!r}: expected 4 strides of 1 or 2, got {value!r}"
        ) from exc
    if len(strides) != len(DEFAULT_STRIDES) or not set(strides) <= {1, 2}:
        raise HearbenchError(f"option {name!r}: expected 4 strides of 1 or 2, got {value!r}")
    return strides


def _layers(name: str, value: Any) -> LayerSpec:
    spec = parse_layer_spec(value)
    return tuple(spec) if isinstance(spec, list) else spec


_COERCE: dict[str, Callable[[str, Any], Any]] = {
    "arch": _choice("mn", "dymn"),
    "width_mult": _number(float),
    "n_mels": _number(int),
    "hop_size": _number(int),
    "mode": _choice("window", "frames"),
    "hop_ms": _number(float),
    "window_ms": _number(float),
    "scene_window_ms": _number(float),
    "scene_hop_ms": _number(float),
    "layers": _layers,
    "time_strides": _strides,
    "temperature": _number(float),
}


@dataclass(frozen=True)
class MobileNetOptions:
    """Validated options of the ``mobilenet`` family.

    Attributes:
        arch: ``mn`` (MobileNetV3) or ``dymn`` (dynamic MobileNet).
        width_mult: Channel multiplier of the checkpoint (0.1 … 4.0).
        n_mels: Mel bins of the frontend (must match the checkpoint's training).
        hop_size: STFT hop in samples at 32 kHz (320 = 10 ms; 160/480/640/800 variants).
        mode: ``window`` (hear_mn method) or ``frames`` (one pass, frame-wise outputs).
        hop_ms: Spacing of timestamp embeddings.
        window_ms: Window length of ``window`` mode.
        scene_window_ms: Longest clip embedded in one forward for scene embeddings; longer
            clips are averaged over windows of this length.
        scene_hop_ms: Hop between those scene windows.
        layers: Layer selection (the one ``layers`` rule); ``clf1`` by default.
        time_strides: Time strides of the four downsampling blocks (1 or 2 each).
        temperature: DyMN dynamic-convolution softmax temperature (1.0 for pretrained models).
    """

    arch: str = "mn"
    width_mult: float = 1.0
    n_mels: int = 128
    hop_size: int = 320
    mode: str = "window"
    hop_ms: float = 50.0
    window_ms: float = 160.0
    scene_window_ms: float = 10000.0
    scene_hop_ms: float = 2500.0
    layers: LayerSpec = "clf1"
    time_strides: tuple[int, ...] = DEFAULT_STRIDES
    temperature: float = DEFAULT_TEMPERATURE

    @classmethod
    def parse(cls, name: str, options: Mapping[str, Any]) -> MobileNetOptions:
        """Validate ``options`` for preset ``name`` and fill in defaults."""
        unknown = sorted(set(options) - set(_COERCE))
        if unknown:
            raise HearbenchError(
                f"{name}: unknown option(s) {', '.join(unknown)}; allowed: {', '.join(_COERCE)}"
            )
        values = {key: _COERCE[key](key, value) for key, value in options.items()}
        if "temperature" in values and values.get("arch", cls.arch) != "dymn":
            raise HearbenchError(f"{name}: option 'temperature' applies to arch=dymn only")
        parsed = cls(**values)
        for key in ("hop_ms", "window_ms", "scene_window_ms", "scene_hop_ms"):
            ms_to_samples(key, getattr(parsed, key))
        return parsed

    def samples(self, key: str) -> int:
        """A millisecond option in samples at 32 kHz."""
        return ms_to_samples(key, getattr(self, key))

    def to_dict(self, layer_names: Sequence[str]) -> dict[str, Any]:
        """Every option in effect, with the selected layers by name."""
        data = asdict(self)
        data["layers"] = list(layer_names)
        data["time_strides"] = list(self.time_strides)
        if self.arch != "dymn":
            del data["temperature"]
        return data


def ms_to_samples(name: str, ms: float) -> int:
    """``ms`` milliseconds as a whole number of samples at 32 kHz (error if it is not one)."""
    samples = ms * SAMPLE_RATE / 1000.0
    if abs(samples - round(samples)) > 1e-6 or round(samples) < 1:
        raise HearbenchError(
            f"option {name!r}: {ms} ms is not a whole, positive number of samples "
            f"at {SAMPLE_RATE} Hz"
        )
    return round(samples)
