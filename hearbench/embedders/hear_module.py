"""Any HEAR 2021 module as an embedder (``hear:MODULE``).

The module must provide ``load_model``, ``get_timestamp_embeddings`` and
``get_scene_embeddings``; the model it returns must carry ``sample_rate``,
``scene_embedding_size`` and ``timestamp_embedding_size``.

Any exception the module raises is re-raised as a one-line :class:`HearbenchError` naming
the module and the function (``hear:MODULE: load_model failed: TypeError: ...``), chained to
the original so that ``--debug`` shows its traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo
from hearbench.weights import sha256_file

REQUIRED = ("load_model", "get_timestamp_embeddings", "get_scene_embeddings")


def call_module(module_name: str, function: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, turning any exception into one line naming module and function."""
    try:
        return fn(*args, **kwargs)
    except HearbenchError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise HearbenchError(
            f"hear:{module_name}: {function} failed: {type(exc).__name__}: {first}".rstrip(": ")
        ) from exc


class HearModuleEmbedder(Embedder):
    """Wraps a HEAR 2021 module; options are passed to its ``load_model``."""

    def __init__(self, module_name: str, weights: str | Path | None = None, **options: Any) -> None:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise HearbenchError(f"hear:{module_name}: cannot import the module ({exc})") from exc
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise HearbenchError(
                f"hear:{module_name}: import failed: {type(exc).__name__}: {first}"
            ) from exc
        self.module_name = module_name
        missing = [fn for fn in REQUIRED if not callable(getattr(module, fn, None))]
        if missing:
            raise HearbenchError(
                f"hear:{module_name}: not a HEAR module, missing {', '.join(missing)}"
            )
        self.module: ModuleType = module
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
        super().__init__(
            EmbedderConfig(name=f"hear:{module_name}", options=dict(options), weights_sha256=sha)
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
