"""Checkpoints: find or download weights, verify their sha256, load state dicts safely."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from hearbench.api import HearbenchError
from hearbench.packaged import packaged_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """Where a preset's official weights live.

    Attributes:
        url: Official download location (``https://``, ``http://`` or ``file://``).
        filename: File name inside the weights cache directory.
        sha256: Expected SHA-256 of the file, or ``None`` where it is not published.
    """

    url: str
    filename: str
    sha256: str | None = None


def weights_cache_dir() -> Path:
    """The weights cache: ``$HEARBENCH_WEIGHTS`` or ``~/.cache/hearbench/weights``."""
    env = os.environ.get("HEARBENCH_WEIGHTS")
    return Path(env) if env else Path.home() / ".cache" / "hearbench" / "weights"


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path, sha256: str | None = None) -> Path:
    """Download ``url`` to ``target`` atomically, checking ``sha256`` when given.

    A partial download never appears at ``target``: data goes to a temporary file in the same
    directory and is renamed only once complete and verified.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out, length=1 << 20)
        if sha256 is not None:
            got = sha256_file(tmp)
            if got != sha256:
                raise HearbenchError(f"{url}: sha256 mismatch, expected {sha256}, got {got}")
        os.replace(tmp, target)
    except OSError as exc:
        raise HearbenchError(f"{url}: download failed ({exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def resolve_weights(
    name: str,
    checkpoint: Checkpoint | None,
    weights: str | Path | None,
    cache_dir: Path | None = None,
) -> Path:
    """Return a local weights file for preset ``name``.

    ``weights`` (an explicit path) wins; otherwise the cached copy of ``checkpoint`` is used,
    then a copy shipped inside the package (:mod:`hearbench.packaged`), else the checkpoint is
    downloaded on first use with its sha256 checked.

    Raises:
        HearbenchError: naming the file and where to put it when nothing can be found.
    """
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise HearbenchError(f"{path}: weights file not found")
        return path
    if checkpoint is None:
        raise HearbenchError(
            f"{name}: no official checkpoint is known; pass --weights PATH "
            "(or pretrained=False for random weights)"
        )
    cache = cache_dir or weights_cache_dir()
    target = cache / checkpoint.filename
    if target.is_file():
        if checkpoint.sha256 is not None and sha256_file(target) != checkpoint.sha256:
            raise HearbenchError(
                f"{target}: sha256 mismatch, expected {checkpoint.sha256}; delete it to re-download"
            )
        return target
    shipped = packaged_checkpoint(checkpoint.filename)
    if shipped is not None and checkpoint.sha256 is not None:
        if sha256_file(shipped) == checkpoint.sha256:
            return shipped
        log.warning("%s: shipped checkpoint does not match sha256 %s; ignored", shipped, checkpoint.sha256)
    log.info("downloading %s weights from %s", name, checkpoint.url)
    try:
        return download(checkpoint.url, target, checkpoint.sha256)
    except HearbenchError as exc:
        raise HearbenchError(
            f"{name}: weights not found at {target} and {exc}; put the file there "
            "or pass --weights PATH"
        ) from exc


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict with ``torch.load(weights_only=True)``; unwraps ``{"state_dict": ...}``.

    Raises:
        HearbenchError: naming the blocked global when the file needs unsafe unpickling, or
            the reason when it is corrupt or not a state dict.
    """
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError...
        blocked = _blocked_global(exc)
        if blocked is not None:
            raise HearbenchError(
                f"{path}: weights-only load refused: Unsupported global {blocked} is blocked; "
                "re-save the checkpoint as a plain state dict of tensors"
            ) from exc
        raise HearbenchError(
            f"{path}: not a loadable weights-only checkpoint (corrupt or truncated): {_load_reason(exc)}"
        ) from exc
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise HearbenchError(f"{path}: expected a state dict of tensors")
    return dict(obj)


def _blocked_global(exc: BaseException) -> str | None:
    """The global a weights-only load refused (``module.Name``), if that is why it failed."""
    match = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
    return match.group(1) if match else None


def _load_reason(exc: BaseException) -> str:
    """The line of a ``torch.load`` error that says what is wrong, without terminal escapes.

    torch's generic advice (re-run with ``weights_only=False``) is never the reason.
    """
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if line.startswith("WeightsUnpickler error:"):
            return line.removeprefix("WeightsUnpickler error:").strip().split(". ")[0]
    useful = [
        line
        for line in lines
        if "weights_only" not in line and not line.startswith(("Weights only load failed", "("))
    ]
    return useful[0] if useful else type(exc).__name__


def load_strict(
    module: torch.nn.Module,
    state: Mapping[str, torch.Tensor],
    source: str,
    may_lack: str | None = None,
) -> None:
    """Load ``state`` into ``module`` strictly, listing missing and unexpected keys on failure.

    Args:
        module: The model.
        state: The checkpoint's tensors under the model's names.
        source: The file, for messages.
        may_lack: A key prefix (``classifier.``) whose tensors the checkpoint may lack
            altogether; those keep their initialisation.
    """
    own = module.state_dict()
    optional = {k for k in own if k.startswith(may_lack)} if may_lack else set()
    if optional & set(state):
        optional = set()
    missing = sorted(set(own) - set(state) - optional)
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if own[k].shape != state[k].shape
    )
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {_short(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_short(unexpected)}")
        if wrong:
            parts.append(f"wrong shapes {_short(wrong)}")
        raise HearbenchError(f"{source}: checkpoint does not fit the model: " + "; ".join(parts))
    module.load_state_dict(dict(state), strict=not optional)


def _short(items: list[str], limit: int = 8) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return "[" + ", ".join(items[:limit]) + "]" + more
