"""Atomic file writes (temporary file in the same folder, fsync, rename) and strict JSON.

JSON is written strictly (no ``NaN``/``Infinity`` tokens): a non-finite number is stored as
``null`` and its JSON pointer and value are listed under the top-level key ``"nonfinite"``
(``{"/scores/mAP/mean": "NaN"}``), which :func:`loads_json` puts back. Files written before
this (with bare ``NaN`` tokens) still read.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from hearbench.api import HearbenchError

NONFINITE = "nonfinite"
TMP_SUFFIX = ".tmp"
_NAMES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
STALE_SECONDS = 24 * 3600
"""A temporary file of another machine (or an unreadable owner) this old is a leftover."""


def temp_prefix(name: str) -> str:
    """Prefix of a temporary file or folder for ``name``: hidden, naming this host and process."""
    return f".{name}.{socket.gethostname()}-{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_leftover(path: Path) -> bool:
    """Whether a hidden temporary file or folder belongs to a process that no longer runs.

    The owner is read from the name (see :func:`temp_prefix`): on this host, a dead process
    id; otherwise (another host, or an older name without an owner) an age past a day.
    """
    match = re.search(r"-(\d+)\.[A-Za-z0-9_]+(?:\.tmp)?$", path.name)
    if match and path.name[: match.start()].endswith("." + socket.gethostname()):
        return not _alive(int(match.group(1)))
    try:
        return time.time() - path.stat().st_mtime > STALE_SECONDS
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    Raises:
        HearbenchError: naming ``path`` when the disk is full or the folder not writable.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=temp_prefix(target.name), suffix=TMP_SUFFIX
        )
    except OSError as exc:
        raise HearbenchError(f"{target}: cannot write ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise HearbenchError(f"{target}: no space left on the device") from exc
        raise HearbenchError(f"{target}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _pointer_part(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _finite(obj: Any, pointer: str, found: dict[str, str]) -> Any:
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        found[pointer] = "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
        return None
    if isinstance(obj, dict):
        return {k: _finite(v, f"{pointer}/{_pointer_part(k)}", found) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v, f"{pointer}/{i}", found) for i, v in enumerate(obj)]
    return obj


def dumps_json(obj: Any) -> str:
    """Indented, key-sorted strict JSON of ``obj`` (a dict when it holds non-finite numbers)."""
    found: dict[str, str] = {}
    clean = _finite(obj, "", found)
    if found:
        if not isinstance(clean, dict):
            raise ValueError("non-finite numbers can only be flagged inside a JSON object")
        clean = {**clean, NONFINITE: found}
    return json.dumps(clean, indent=2, sort_keys=True, allow_nan=False) + "\n"


def loads_json(text: str) -> Any:
    """Parse JSON written by :func:`dumps_json` (or older files with ``NaN`` tokens).

    Raises:
        ValueError: when the text is not JSON (``json.JSONDecodeError``) or the flags are bad.
    """
    data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get(NONFINITE), dict):
        flags = data.pop(NONFINITE)
        for pointer, name in flags.items():
            if name not in _NAMES:
                raise ValueError(f"{NONFINITE}: unknown value {name!r} at {pointer}")
            try:
                _set(data, str(pointer), _NAMES[name])
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise ValueError(f"{NONFINITE}: bad pointer {pointer!r} ({exc})") from exc
    return data


def _set(data: Any, pointer: str, value: float) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if not parts:
        raise ValueError(f"{NONFINITE}: empty pointer")
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as strict, indented, key-sorted JSON atomically (see :func:`dumps_json`)."""
    return write_bytes_atomic(path, dumps_json(obj).encode("utf-8"))
