"""Options of the PaSST embedder family: names, help, validation and defaults.

:data:`OPTIONS` declares them; :func:`parse_options` turns preset and user options (command-line strings allowed) into a frozen
:class:`PasstSettings`; every bad value is refused with a one-line error naming the option.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from hearbench.api import HearbenchError
from hearbench.options import Option, OptionSet
from hearbench.options import ms_to_samples as _ms_to_samples

SAMPLE_RATE = 32000
MEL_PART_FRAMES = 6
"""Spectrogram frames of the ``mel`` part when ``mel=true`` (60 ms at the default STFT hop)."""
DEFAULT_CHUNK_CONTEXT_MS = 1000.0
"""Token mode: context on each side of a chunk's kept patches when a clip needs several chunks."""

WINDOW = "window"
TOKENS = "tokens"
NATIVE = "native"


@dataclass(frozen=True)
class PasstSettings:
    """The validated options of one PaSST embedder; see :data:`OPTION_HELP`."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    n_mels: int = 128
    fstride: int = 10
    tstride: int = 10
    input_tdim: int = 998
    num_classes: int = 527
    stft_hop: int = 320
    max_seconds: float = 10.0
    scene_hop_ms: float | None = 2500.0
    mode: str = WINDOW
    hop_ms: float | None = 50.0
    window_ms: float | None = 160.0
    levels: tuple[float, ...] | None = (160.0,)
    mel: float | None = None
    layers: tuple[str, ...] = ()
    chunk_context_ms: float | None = None

    def to_options(self) -> dict[str, Any]:
        """JSON-able options for :class:`~hearbench.api.EmbedderConfig`."""
        options = asdict(self)
        options["hop_ms"] = NATIVE if self.hop_ms is None else self.hop_ms
        options["levels"] = None if self.levels is None else list(self.levels)
        options["mel"] = False if self.mel is None else self.mel
        options["layers"] = list(self.layers)
        if self.chunk_context_ms is None:
            del options["chunk_context_ms"]
        return options


OPTION_HELP: dict[str, str] = {
    "embed_dim": "token width E (768 for PaSST-S)",
    "depth": "transformer blocks (12)",
    "num_heads": "attention heads (12)",
    "n_mels": "mel bins (128)",
    "fstride": "patch stride over frequency (10)",
    "tstride": "patch stride over time in spectrogram frames (10)",
    "input_tdim": "frames the time positional embedding covers (998 for 10 s)",
    "num_classes": "classes of the head (527)",
    "stft_hop": "STFT hop in samples (320; 100 and 160 for the hop100/hop160 checkpoints)",
    "max_seconds": "longest audio in one forward: scene windows and token chunks (10)",
    "scene_hop_ms": "hop of the scene windows over clips longer than max_seconds (2500)",
    "mode": "'window' (hear21passt method) or 'tokens' (one pass, patch-token frames)",
    "hop_ms": "spacing of timestamp embeddings (50); 'native' = patch stride in token mode",
    "window_ms": "window of one timestamp embedding in window mode (160)",
    "levels": "window lengths in ms concatenated per timestamp, e.g. 160,800",
    "mel": "append the log-mel of a short window: true (6 frames) or its length in ms",
    "layers": "layers to concatenate: an int n (last n), indices or names (api.select_layers)",
    "chunk_context_ms": "token mode, clips over max_seconds: context kept on each side of a chunk (1000)",
}

_KINDS: dict[str, str] = {
    "max_seconds": "float",
    "scene_hop_ms": "float",
    "mode": "str",
    "hop_ms": "any",
    "window_ms": "float",
    "levels": "any",
    "mel": "any",
    "layers": "any",
    "chunk_context_ms": "float",
}
_DEFAULTS = PasstSettings()
_EXPECTED = {
    "hop_ms": "a float > 0 or 'native'",
    "levels": "window lengths in ms",
    "mel": "true, false or a length in ms",
    "layers": "an int, layer indices or names",
}
_MODE_DEPENDENT = ("scene_hop_ms", "window_ms", "levels", "mel", "layers", "chunk_context_ms")

OPTIONS = OptionSet(
    "passt",
    tuple(
        Option(
            name,
            _KINDS.get(name, "int"),
            None if name in _MODE_DEPENDENT else getattr(_DEFAULTS, name),
            text,
            minimum=None if _KINDS.get(name, "int") in ("any", "str") else 0,
            exclusive=True,
            nullable=True,
            expected=_EXPECTED.get(name),
            choices=(WINDOW, TOKENS) if name == "mode" else None,
        )
        for name, text in OPTION_HELP.items()
    ),
)
"""The declared PaSST options. Defaults that depend on ``mode`` are given as ``None`` and
decided by :func:`parse_options` (their help says the value): ``window_ms``, ``levels``,
``mel`` and ``scene_hop_ms`` apply to window mode, ``chunk_context_ms`` to token mode, and the
default ``layers`` depend on the mode and the levels."""

_INT_OPTIONS = (
    "embed_dim",
    "depth",
    "num_heads",
    "n_mels",
    "fstride",
    "tstride",
    "input_tdim",
    "num_classes",
    "stft_hop",
)


def parse_options(options: Mapping[str, Any], who: str = "passt") -> PasstSettings:
    """Validate PaSST options (command-line strings allowed) into :class:`PasstSettings`.

    Names and simple values go through the declaration :data:`OPTIONS`; the rules that tie
    options to ``mode`` are applied here.

    Raises:
        HearbenchError: naming the option for an unknown name or a bad value.
    """
    OPTIONS.check_known(options, who)
    given = {k: v for k, v in options.items() if v is not None and v != ""}
    values: dict[str, Any] = {
        name: OPTIONS[name].parse(given[name], who)
        for name in (*_INT_OPTIONS, "max_seconds", "scene_hop_ms")
        if name in given
    }
    mode = str(given.get("mode", WINDOW)).strip().lower()
    if mode not in (WINDOW, TOKENS):
        raise HearbenchError(f"mode: expected 'window' or 'tokens', got {given['mode']!r}")
    values["mode"] = mode
    hop = given.get("hop_ms", 50.0)
    if isinstance(hop, str) and hop.strip().lower() == NATIVE:
        if mode != TOKENS:
            raise HearbenchError("hop_ms: 'native' exists only with mode=tokens")
        values["hop_ms"] = None
    else:
        values["hop_ms"] = _positive_float("hop_ms", hop)
    if mode == WINDOW:
        values.update(_window_options(given))
    else:
        for name in ("window_ms", "levels", "mel", "scene_hop_ms"):
            if name in given and given[name] is not False and str(given[name]).lower() != "false":
                raise HearbenchError(f"{name}: only used with mode=window, not mode=tokens")
        values.update(window_ms=None, levels=None, mel=None, scene_hop_ms=None)
        values["chunk_context_ms"] = _positive_float(
            "chunk_context_ms", given.get("chunk_context_ms", DEFAULT_CHUNK_CONTEXT_MS)
        )
    if mode == WINDOW and "chunk_context_ms" in given:
        raise HearbenchError("chunk_context_ms: only used with mode=tokens, not mode=window")
    return PasstSettings(**values)


def _window_options(given: Mapping[str, Any]) -> dict[str, Any]:
    levels: tuple[float, ...]
    if "levels" in given:
        levels = _float_list("levels", given["levels"])
        if len(set(levels)) < len(levels):
            raise HearbenchError(f"levels: window lengths repeat in {list(levels)}")
        if "window_ms" in given and _positive_float("window_ms", given["window_ms"]) != levels[0]:
            raise HearbenchError(
                f"window_ms: {given['window_ms']} differs from the first of levels {list(levels)}"
            )
    else:
        levels = (_positive_float("window_ms", given.get("window_ms", 160.0)),)
    return {
        "levels": levels,
        "window_ms": levels[0],
        "mel": _mel_ms(given.get("mel", False), given),
    }


def _mel_ms(value: Any, given: Mapping[str, Any]) -> float | None:
    text = str(value).strip().lower()
    if value is False or text in ("false", "0", "no", "off"):
        return None
    if value is True or text in ("true", "yes", "on"):
        hop = _positive_int("stft_hop", given.get("stft_hop", 320))
        return MEL_PART_FRAMES * hop * 1000.0 / SAMPLE_RATE
    return _positive_float("mel", value)


def _positive_int(name: str, value: Any) -> int:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number >= 1 and number == int(number)):
        raise HearbenchError(f"passt: option {name!r} expects an int > 0, got {value!r}")
    return int(number)


def _positive_float(name: str, value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (number > 0 and math.isfinite(number)):
        raise HearbenchError(f"passt: option {name!r} expects a float > 0, got {value!r}")
    return number


def _float_list(name: str, value: Any) -> tuple[float, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, int | float):
        items = [items]
    try:
        parsed = tuple(_positive_float(name, item) for item in items if str(item).strip())
    except TypeError as exc:
        raise HearbenchError(f"{name}: expected a list of numbers, got {value!r}") from exc
    if not parsed:
        raise HearbenchError(f"{name}: expected at least one window length, got {value!r}")
    return parsed


def ms_to_samples(ms: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Milliseconds to the nearest whole number of samples at PaSST's rate
    (:func:`hearbench.options.ms_to_samples`)."""
    return _ms_to_samples(ms, sample_rate)
