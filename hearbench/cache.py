"""The embedding cache: embeddings computed once per (embedder config, task, split).

An entry is a directory ``<root>/<embedder digest>/<task>-<task checksum>/<split>/`` holding
``embeddings.npy`` (float32; one row per clip for scene tasks, one row per frame for event
tasks), ``timestamps.npy`` and ``offsets.npy`` (event tasks) and ``manifest.json`` with the
full key and the sha256 of every array. Entries are built in a temporary directory and renamed
into place, under a file lock, so a crashed run never leaves an entry a later run could
mistake for complete, and two runs sharing a cache never corrupt it.

Every read checks each array against its recorded sha256; an entry that fails (a flipped
byte, a truncated array, an unreadable manifest) is recomputed with a warning. Temporary
folders of killed writes are removed when the entry is next built, and by :meth:`prune`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from hearbench.api import HearbenchError
from hearbench.atomic import is_leftover, temp_prefix, write_json_atomic

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class CorruptEntry(HearbenchError):
    """A cache entry whose manifest or arrays do not read back as recorded."""


def default_cache_dir() -> Path:
    """``$HEARBENCH_CACHE`` or ``~/.cache/hearbench/embeddings``."""
    env = os.environ.get("HEARBENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hearbench" / "embeddings"


@dataclass(frozen=True)
class SplitEmbeddings:
    """Embeddings of one split.

    Attributes:
        files: Clip file names, in row (scene) or block (event) order.
        embeddings: ``(n_files, D)`` for scene tasks, ``(n_frames, D)`` for event tasks.
        timestamps: ``(n_frames,)`` ms for event tasks, else ``None``.
        offsets: ``(n_files + 1,)`` frame offsets of each file for event tasks, else ``None``.
    """

    files: tuple[str, ...]
    embeddings: np.ndarray
    timestamps: np.ndarray | None = None
    offsets: np.ndarray | None = None

    def frames_of(self, index: int) -> slice:
        """Rows of file ``index`` (event tasks)."""
        assert self.offsets is not None
        return slice(int(self.offsets[index]), int(self.offsets[index + 1]))


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


class EmbeddingCache:
    """A directory of embedding entries keyed by everything that changes the numbers."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def entry_dir(self, key: Mapping[str, Any]) -> Path:
        """Directory of the entry for ``key`` (``embedder_digest``, ``task``, ``split``...).

        A key with a ``variant`` (a perturbation's digest) gets its own directory
        ``<split>-<rate>-<variant>``, beside the clean entry.
        """
        variant = f"-{key['variant']}" if key.get("variant") else ""
        return (
            self.root
            / str(key["embedder_digest"])
            / f"{key['task']}-{str(key['task_checksum'])[:12]}"
            / f"{key['split']}-{key['sample_rate']}{variant}"
        )

    def load(self, key: Mapping[str, Any], verify: bool = True) -> SplitEmbeddings | None:
        """The entry for ``key`` if it is complete, else ``None``.

        Args:
            key: The entry's key.
            verify: Check every array against its recorded sha256.

        Raises:
            CorruptEntry: naming the file when the manifest or an array does not read back.
        """
        folder = self.entry_dir(key)
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            return None
        manifest = _read_manifest(folder)
        if manifest.get("key") != _jsonable(key):
            return None
        arrays = {name: _load_array(folder, name, digest if verify else None) for name, digest in manifest["arrays"].items()}
        return SplitEmbeddings(
            files=tuple(manifest["files"]),
            embeddings=arrays["embeddings"],
            timestamps=arrays.get("timestamps"),
            offsets=arrays.get("offsets"),
        )

    def _load_checked(self, key: Mapping[str, Any], warn: bool) -> SplitEmbeddings | None:
        try:
            return self.load(key)
        except CorruptEntry as exc:
            if warn:
                log.warning("%s; recomputing the entry", exc)
            return None

    def get_or_compute(
        self, key: Mapping[str, Any], compute: Callable[[], SplitEmbeddings]
    ) -> tuple[SplitEmbeddings, bool]:
        """Return ``(embeddings, computed)``; computes and stores the entry when absent or corrupt."""
        hit = self._load_checked(key, warn=True)
        if hit is not None:
            return hit, False
        folder = self.entry_dir(key)
        folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder) + ".lock"):
            hit = self._load_checked(key, warn=False)
            if hit is not None:
                return hit, False
            for tmp in folder.parent.glob(f".{folder.name}.*"):
                if tmp.is_dir() and is_leftover(tmp):
                    shutil.rmtree(tmp, ignore_errors=True)
            value = compute()
            self._store(folder, key, value)
            return value, True

    def _store(self, folder: Path, key: Mapping[str, Any], value: SplitEmbeddings) -> None:
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=temp_prefix(folder.name)))
        try:
            arrays: dict[str, np.ndarray] = {"embeddings": value.embeddings}
            if value.timestamps is not None:
                arrays["timestamps"] = value.timestamps
            if value.offsets is not None:
                arrays["offsets"] = value.offsets
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array)
            write_json_atomic(
                tmp / MANIFEST,
                {
                    "key": _jsonable(key),
                    "files": list(value.files),
                    "arrays": {name: _sha(a) for name, a in arrays.items()},
                },
            )
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def entries(self) -> list[Path]:
        """Every complete entry directory."""
        if not self.root.is_dir():
            return []
        return sorted(p.parent for p in self.root.glob(f"*/*/*/{MANIFEST}"))

    def _problems(self) -> Iterator[tuple[Path, str]]:
        for folder in self.entries():
            try:
                manifest = _read_manifest(folder)
                for name, digest in manifest["arrays"].items():
                    _load_array(folder, name, digest)
            except CorruptEntry as exc:
                yield folder, str(exc)

    def verify(self) -> list[str]:
        """Problems found by re-reading and re-hashing every entry (empty when all are intact)."""
        return [problem for _, problem in self._problems()]

    def prune(self) -> list[Path]:
        """Remove temporary leftovers of crashed runs and corrupt entries; returns what went."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for tmp in sorted(self.root.glob("*/*/.*")):
            if tmp.is_dir() and is_leftover(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
                removed.append(tmp)
        for folder, problem in list(self._problems()):
            log.info("%s; removing the entry", problem)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        return removed


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptEntry(f"{path}: unreadable manifest ({exc})") from exc
    if (
        not isinstance(manifest, dict)
        or not isinstance(manifest.get("arrays"), dict)
        or "embeddings" not in manifest["arrays"]
        or not isinstance(manifest.get("files"), list)
    ):
        raise CorruptEntry(f"{path}: manifest lacks 'arrays' or 'files'")
    return manifest


def _load_array(folder: Path, name: str, digest: str | None) -> np.ndarray:
    path = folder / f"{name}.npy"
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptEntry(f"{path}: unreadable ({exc})") from exc
    if digest is not None and _sha(array) != digest:
        raise CorruptEntry(f"{path}: checksum mismatch")
    return array


def _jsonable(key: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(key), sort_keys=True, default=str))
