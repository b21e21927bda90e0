"""Any HEAR 2021 module as an embedder (``hear:MODULE``).

The module must provide ``load_model``, ``get_timestamp_embeddings`` and
``get_scene_embeddings``; the model it returns must carry ``sample_rate``,
``scene_embedding_size`` and ``timestamp_embedding_size``. Options are ``load_model``'s keyword
parameters (typed by their defaults, checked before the model loads); random weights are
honoured only where ``load_model`` takes a ``pretrained`` argument, refused otherwise.

Any exception the module raises is re-raised as a one-line :class:`HearbenchError` naming
the module and the function (``hear:MODULE: load_model failed: TypeError: ...``), chained to
the original so that ``--debug`` shows its traceback.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo, exception_line
from hearbench.options import Option, OptionSet
from hearbench.weights import sha256_file

REQUIRED = ("load_model", "get_timestamp_embeddings", "get_scene_embeddings")
_KIND_OF = {bool: "bool", int: "int", float: "float", str: "str"}


def load_model_options(who: str, load_model: Any) -> OptionSet | None:
    """The options a module's ``load_model`` declares through its keyword parameters.

    Every parameter after the first (``model_file_path``) is an option, typed by its default.
    ``None`` when ``load_model`` takes ``**kwargs`` (then options reach it unchecked) or its
    signature cannot be read.
    """
    try:
        parameters = list(inspect.signature(load_model).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    declared = []
    for index, p in enumerate(parameters):
        if p.kind not in keyword or (index == 0 and p.kind is not inspect.Parameter.KEYWORD_ONLY):
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        kind = _KIND_OF.get(type(default), "any")
        declared.append(Option(p.name, kind, default, "load_model argument", nullable=True))
    return OptionSet(who, tuple(declared))


def call_module(module_name: str, function: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, turning any exception into one line naming module and function."""
    try:
        return fn(*args, **kwargs)
    except HearbenchError:
        raise
    except Exception as exc:
        raise HearbenchError(f"hear:{module_name}: {function} failed: {exception_line(exc)}") from exc


class HearModuleEmbedder(Embedder):
    """Wraps a HEAR 2021 module; options are passed to its ``load_model``."""

    def __init__(
        self,
        module_name: str,
        weights: str | Path | None = None,
        pretrained: bool = True,
        **options: Any,
    ) -> None:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise HearbenchError(f"hear:{module_name}: cannot import the module ({exc})") from exc
        except Exception as exc:
            raise HearbenchError(f"hear:{module_name}: import failed: {exception_line(exc)}") from exc
        self.module_name = module_name
        missing = [fn for fn in REQUIRED if not callable(getattr(module, fn, None))]
        if missing:
            raise HearbenchError(
                f"hear:{module_name}: not a HEAR module, missing {', '.join(missing)}"
            )
        self.module: ModuleType = module
        who = f"hear:{module_name}"
        declared = load_model_options(who, module.load_model)
        if declared is not None:
            options = declared.resolve(options, who, defaults=False)
        if not pretrained:
            if declared is None or "pretrained" not in declared.names:
                raise HearbenchError(
                    f"{who}: random weights are not available (its load_model takes no "
                    "'pretrained' argument); drop --random-weights"
                )
            options = {**options, "pretrained": False}
        if weights is not None:
            if not Path(weights).is_file():
                raise HearbenchError(f"{weights}: weights file not found")
            self.model = call_module(module_name, "load_model", module.load_model, str(weights), **options)
        else:
            self.model = call_module(module_name, "load_model", module.load_model, **options)
        for attr in ("sample_rate", "scene_embedding_size", "timestamp_embedding_size"):
            value = getattr(self.model, attr, None)
            if not isinstance(value, int) or isinstance(value, bool):
                raise HearbenchError(
                    f"hear:{module_name}: model.{attr} must be an int, got {value!r}"
                )
        self.sample_rate = int(self.model.sample_rate)
        sha = sha256_file(weights) if weights is not None else None
        recorded = {k: v for k, v in options.items() if k != "pretrained"}
        super().__init__(
            EmbedderConfig(
                name=who, options=recorded, weights_sha256=sha, pretrained=pretrained
            )
        )

    def layer_info(self) -> tuple[LayerInfo, ...]:
        return (LayerInfo(0, "output", int(self.model.timestamp_embedding_size), None),)

    @property
    def scene_embedding_size(self) -> int:
        return int(self.model.scene_embedding_size)

    def _device_audio(self, audio: torch.Tensor) -> torch.Tensor:
        return audio.to(self.device, torch.float32)

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            emb, stamps = call_module(
                self.module_name,
                "get_timestamp_embeddings",
                self.module.get_timestamp_embeddings,
                self._device_audio(audio),
                self.model,
            )
        return emb.detach().float().cpu(), stamps.detach().float().cpu()

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            emb = call_module(
                self.module_name,
                "get_scene_embeddings",
                self.module.get_scene_embeddings,
                self._device_audio(audio),
                self.model,
            )
        return emb.detach().float().cpu()

    def torch_module(self) -> torch.nn.Module | None:
        return self.model if isinstance(self.model, torch.nn.Module) else None
