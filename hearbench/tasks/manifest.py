"""The audio manifest of a task: every audio file's relative path, size and sha256.

A builder writes ``audio_manifest.json`` into the task directory (:func:`write_manifest`). A
record with modification times is kept outside the task, under ``$HEARBENCH_MANIFESTS``
(default ``~/.cache/hearbench/task-manifests``), so read-only task folders work; for a task
without a manifest (a HEAR 2021 archive) that record, computed on first use, is the reference.
At run time :func:`verified_audio` checks every file cheaply: its size always, its content
again only when its size or modification time differ from the record. A file whose size
or content no longer matches the manifest is a one-line error naming it; ``hearbench tasks
validate`` re-hashes everything (:func:`audit`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hearbench.api import HearbenchError
from hearbench.weights import sha256_file

MANIFEST = "audio_manifest.json"
FORMAT = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioRecord:
    """What a manifest knows of one audio file (``mtime_ns`` only in the computed record)."""

    size: int
    sha256: str
    mtime_ns: int | None = None

    def to_json(self) -> dict[str, int | str]:
        """The JSON form stored in a manifest."""
        data: dict[str, int | str] = {"size": self.size, "sha256": self.sha256}
        if self.mtime_ns is not None:
            data["mtime_ns"] = self.mtime_ns
        return data


def write_manifest(root: Path, relative: Iterable[str]) -> Path:
    """Record size and sha256 of every file of ``relative`` (paths under ``root``) in
    ``root/audio_manifest.json`` (byte-identical for identical audio)."""
    files = {
        rel: AudioRecord((root / rel).stat().st_size, sha256_file(root / rel)).to_json()
        for rel in sorted(relative)
    }
    path = root / MANIFEST
    path.write_text(json.dumps({"format": FORMAT, "files": files}, indent=1, sort_keys=True))
    return path


def side_manifest_path(root: Path) -> Path:
    """Where the computed record of a task's audio (with modification times) is kept."""
    base = os.environ.get("HEARBENCH_MANIFESTS")
    folder = Path(base) if base else Path.home() / ".cache" / "hearbench" / "task-manifests"
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return folder / f"{root.name}-{key}.json"


def _read(path: Path) -> dict[str, AudioRecord]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(rel): AudioRecord(
                int(v["size"]),
                str(v["sha256"]),
                int(v["mtime_ns"]) if "mtime_ns" in v else None,
            )
            for rel, v in data["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HearbenchError(f"{path}: unreadable audio manifest ({exc})") from exc


def verified_audio(root: Path, relative: Iterable[str]) -> dict[str, str]:
    """The sha256 of every file of ``relative``, checked against the task's manifest.

    The reference is the builder's manifest when the task has one, else the record computed
    on first use. Cheap: a file whose size and modification time equal the computed record's
    is not read again; any other file is re-hashed.

    Raises:
        HearbenchError: naming the first file whose size or content differs from the reference,
            or a file the builder's manifest does not list.
    """
    wanted = sorted(relative)
    own = root / MANIFEST
    reference = _read(own) if own.is_file() else None
    if reference is not None:
        unlisted = [rel for rel in wanted if rel not in reference]
        if unlisted:
            raise HearbenchError(
                f"{root / unlisted[0]}: not in the task's {MANIFEST} ({len(unlisted)} in all); "
                "rebuild the task"
            )
    side = side_manifest_path(root)
    seen = _read(side) if side.is_file() else {}
    source = own if reference is not None else side
    hashes: dict[str, str] = {}
    changed = False
    for rel in wanted:
        path = root / rel
        try:
            stat = path.stat()
        except OSError as exc:
            raise HearbenchError(f"{path}: audio file missing ({exc.strerror})") from exc
        known = reference[rel] if reference is not None else seen.get(rel)
        if known is not None and stat.st_size != known.size:
            raise HearbenchError(
                f"{path}: audio changed since the task's manifest was recorded "
                f"({stat.st_size} bytes, recorded {known.size}); rebuild the task or remove {source}"
            )
        last = seen.get(rel)
        if last is not None and last.mtime_ns == stat.st_mtime_ns and last.size == stat.st_size:
            sha = last.sha256
        else:
            sha = sha256_file(path)
            seen[rel] = AudioRecord(stat.st_size, sha, stat.st_mtime_ns)
            changed = True
        if known is not None and sha != known.sha256:
            raise HearbenchError(
                f"{path}: audio content changed since the task's manifest was recorded; "
                f"rebuild the task or remove {source}"
            )
        hashes[rel] = sha
    if changed:
        _write_side(side, root, seen)
    return hashes


def _write_side(side: Path, root: Path, records: Mapping[str, AudioRecord]) -> None:
    try:
        side.parent.mkdir(parents=True, exist_ok=True)
        tmp = side.with_suffix(f".{os.getpid()}.tmp")
        files = {rel: r.to_json() for rel, r in sorted(records.items())}
        tmp.write_text(json.dumps({"format": FORMAT, "task": str(root.resolve()), "files": files}))
        os.replace(tmp, side)
    except OSError as exc:
        log.warning("%s: cannot record the audio manifest (%s)", side, exc)


def audit(root: Path, relative: Iterable[str]) -> list[str]:
    """Re-hash every file against the manifest; one line per problem (none when intact)."""
    own = root / MANIFEST
    manifest = own if own.is_file() else side_manifest_path(root)
    if not manifest.is_file():
        return []
    records = _read(manifest)
    problems = []
    for rel in sorted(relative):
        path = root / rel
        known = records.get(rel)
        if known is None:
            if manifest == own:
                problems.append(f"{path}: not in the task's {MANIFEST}")
            continue
        if not path.is_file():
            problems.append(f"{path}: audio file missing")
        elif path.stat().st_size != known.size or sha256_file(path) != known.sha256:
            problems.append(f"{path}: audio differs from its manifest record ({manifest})")
    return problems


def digest_of(hashes: Mapping[str, str]) -> str:
    """One sha256 over relative paths and content hashes, in path order."""
    digest = hashlib.sha256()
    for rel in sorted(hashes):
        digest.update(rel.encode())
        digest.update(b"\0")
        digest.update(hashes[rel].encode())
    return digest.hexdigest()


def merge_manifest(source: Path, target: Path) -> None:
    """After audio of task folder ``source`` was moved into ``target``: make ``target``'s
    manifest cover it (the union of both), or remove ``target``'s manifest when ``source`` had
    none (the record computed on first use then covers every file)."""
    theirs, ours = source / MANIFEST, target / MANIFEST
    if not ours.is_file():
        return
    if not theirs.is_file():
        ours.unlink()
        return
    files = {rel: r.to_json() for rel, r in {**_read(ours), **_read(theirs)}.items()}
    ours.write_text(json.dumps({"format": FORMAT, "files": dict(sorted(files.items()))}, indent=1, sort_keys=True))
