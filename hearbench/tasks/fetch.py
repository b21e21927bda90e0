"""Fetch preprocessed HEAR 2021 task archives: resumable download, checksum, safe extraction.

``fetch_task("esc50-v2.0.0-full", "tasks/")`` looks the archive up in the task cards (see
:mod:`hearbench.tasks.cards`), downloads it to ``tasks/.downloads/`` (resuming a ``.part`` file
with an HTTP ``Range`` request), verifies its checksum, extracts it into a temporary directory
under ``tasks/`` and renames the task directory into place only once everything is complete.
A URL (``https://``, ``http://``, ``file://``) or an archive already on disk works the same way.

Extraction refuses any member that could write outside the target: absolute paths, ``..``,
symbolic or hard links pointing outside (directly or through a chain of links), device files
and FIFOs. It is bounded: a first pass over the archive's headers checks every member and
sums their declared sizes, which must fit both the free space of the target (with a margin)
and a cap (``max_bytes``; by default :data:`EXPAND_RATIO` times the archive's size, at least
:data:`MIN_CAP_BYTES` and at most :data:`MAX_CAP_BYTES`), before anything is written; while
writing, a member that holds more bytes than its header declares is refused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from tqdm import tqdm

from hearbench.api import HearbenchError
from hearbench.tasks.format import load_task
from hearbench.tasks.manifest import MANIFEST, merge_manifest

log = logging.getLogger(__name__)

CHUNK = 1 << 20
DOWNLOADS = ".downloads"
URL_SCHEMES = ("http", "https", "file")

EXPAND_RATIO = 100
"""Default cap of the extracted size as a multiple of the archive's (audio barely compresses)."""
MIN_CAP_BYTES = 256 * 1024**2
MAX_CAP_BYTES = 200 * 1024**3
FREE_SPACE_MARGIN = 0.05
"""Free space to leave on the target: this fraction of the extracted size, plus 64 MiB."""


@dataclass(frozen=True)
class ArchiveSource:
    """Where an archive comes from and what its checksums must be."""

    location: str
    sha256: str | None = None
    md5: str | None = None

    @property
    def is_url(self) -> bool:
        """Whether :attr:`location` is a URL rather than a local file."""
        return urlparse(self.location).scheme in URL_SCHEMES

    @property
    def filename(self) -> str:
        """The archive's file name (last part of its path or URL)."""
        path = urlparse(self.location).path if self.is_url else self.location
        return PurePosixPath(unquote(path)).name or "archive.tar.gz"


def resolve_source(spec: str | Path, sha256: str | None = None) -> ArchiveSource:
    """Turn a card name, URL or local path into an :class:`ArchiveSource`.

    Raises:
        HearbenchError: when the name is unknown, has no archive, or the file does not exist.
    """
    text = str(spec)
    if urlparse(text).scheme in URL_SCHEMES:
        return ArchiveSource(text, sha256)
    if Path(text).is_file():
        return ArchiveSource(str(Path(text)), sha256)
    if "/" in text or text.endswith((".tar.gz", ".tgz", ".tar")):
        raise HearbenchError(f"{text}: archive not found")
    from hearbench.tasks.cards import get_task_card

    card = get_task_card(text)
    if card.archive is None:
        hint = f"build it with 'hearbench tasks build {card.builder}'" if card.builder else ""
        raise HearbenchError(f"task {card.name!r} has no archive to fetch; {hint}".rstrip("; "))
    return ArchiveSource(card.archive.url, sha256 or card.archive.sha256, card.archive.md5)


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_archive(path: Path, sha256: str | None, md5: str | None, name: str) -> None:
    """Check an archive's SHA-256 (and MD5 where only that is published).

    Raises:
        HearbenchError: naming the archive and both digests on a mismatch.
    """
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected is None:
            continue
        got = _digest(path, algorithm)
        if got != expected.lower():
            raise HearbenchError(f"{name}: {algorithm} mismatch, expected {expected}, got {got}")


def _bar(total: int | None, initial: int, desc: str, progress: bool) -> tqdm:
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
    )


def _copy_file(url: str, part: Path, progress: bool) -> None:
    source = Path(urllib.request.url2pathname(urlparse(url).path))
    if not source.is_file():
        raise HearbenchError(f"{url}: file not found")
    size = source.stat().st_size
    with (
        source.open("rb") as src,
        part.open("wb") as dst,
        _bar(size, 0, source.name, progress) as bar,
    ):
        for block in iter(lambda: src.read(CHUNK), b""):
            dst.write(block)
            bar.update(len(block))


def _http_download(url: str, part: Path, progress: bool) -> None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "hearbench"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            log.info("%s: %d bytes already downloaded", url, have)
            return
        raise HearbenchError(f"{url}: download failed (HTTP {exc.code} {exc.reason})") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise HearbenchError(f"{url}: download failed ({exc})") from exc
    with response:
        resumed = have > 0 and response.status == 206
        content_range = response.headers.get("Content-Range", f"bytes {have}-")
        if resumed and not content_range.startswith(f"bytes {have}-"):
            part.unlink(missing_ok=True)
            raise HearbenchError(f"{url}: server resumed at the wrong offset ({content_range})")
        if have and not resumed:
            log.info("%s: server ignored the range request, restarting", url)
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        try:
            with (
                part.open("ab" if resumed else "wb") as out,
                _bar(total, have, part.name.removesuffix(".part"), progress) as bar,
            ):
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
        except (http.client.HTTPException, OSError) as exc:
            raise HearbenchError(
                f"{url}: download interrupted ({type(exc).__name__}); run again to resume"
            ) from exc
    size = part.stat().st_size
    if total is not None and size < total:
        raise HearbenchError(f"{url}: download incomplete ({size} of {total} bytes); run again")


def download_archive(source: ArchiveSource, folder: Path, progress: bool = True) -> Path:
    """Download ``source`` into ``folder`` (resuming ``<name>.part``) and verify it.

    A file that fails its checksum is deleted so the next attempt starts afresh.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.filename
    part = folder / f"{source.filename}.part"
    if not target.is_file():
        if urlparse(source.location).scheme == "file":
            _copy_file(source.location, part, progress)
        else:
            _http_download(source.location, part, progress)
        candidate = part
    else:
        candidate = target
    try:
        verify_archive(candidate, source.sha256, source.md5, source.filename)
    except HearbenchError:
        candidate.unlink(missing_ok=True)
        raise
    if candidate is part:
        os.replace(part, target)
    return target


def _member_problem(member: tarfile.TarInfo) -> str | None:
    name = member.name
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in path.parts:
        return "escapes the target with '..'"
    if member.isdev() or member.isfifo():
        return "is a device file or FIFO"
    if member.issym() or member.islnk():
        link = PurePosixPath(member.linkname)
        if link.is_absolute() or member.linkname.startswith("\\"):
            return f"links to the absolute path {member.linkname!r}"
        base = path.parent if member.issym() else PurePosixPath()
        depth = 0
        for part in (base / link).parts:
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if depth < 0:
                return f"links outside the archive ({member.linkname!r})"
        return None
    if not (member.isfile() or member.isdir()):
        return "is not a regular file or directory"
    return None


def default_cap(archive: Path) -> int:
    """The default bound of an archive's extracted size (see the module docstring)."""
    return min(MAX_CAP_BYTES, max(MIN_CAP_BYTES, EXPAND_RATIO * archive.stat().st_size))


def _open_error(archive: Path, exc: BaseException) -> HearbenchError:
    if isinstance(exc, tarfile.FilterError):
        member = getattr(getattr(exc, "tarinfo", None), "name", "?")
        return HearbenchError(f"{archive}: member {member!r} escapes the target ({exc}); refused")
    if isinstance(exc, tarfile.TarError | EOFError | zlib.error):
        return HearbenchError(f"{archive}: truncated or corrupt archive ({exc})")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        name = exc.filename or archive
        return HearbenchError(f"{name}: no space left on the device while extracting {archive.name}")
    return HearbenchError(f"{archive}: cannot extract ({exc})")


def scan_archive(archive: Path) -> int:
    """Check every member's header (see :func:`extract_archive`); returns their total size.

    Raises:
        HearbenchError: naming the archive and the first unsafe member, or the archive when
            it is truncated or corrupt.
    """
    total = 0
    try:
        with tarfile.open(archive, "r|*") as tar:
            for member in tar:
                problem = _member_problem(member)
                if problem is not None:
                    raise HearbenchError(f"{archive}: member {member.name!r} {problem}; refused")
                total += max(0, member.size) if member.isfile() else 0
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _open_error(archive, exc) from exc
    return total


def check_room(archive: Path, target: Path, total: int, max_bytes: int | None) -> None:
    """Refuse an extraction of ``total`` bytes past the cap or the target's free space."""
    cap = default_cap(archive) if max_bytes is None else max_bytes
    if total > cap:
        raise HearbenchError(
            f"{archive}: members declare {total} bytes, over the extraction cap of {cap} bytes "
            "(raise it with --max-extract-bytes)"
        )
    free = shutil.disk_usage(target).free
    need = total + int(FREE_SPACE_MARGIN * total) + 64 * 1024**2
    if need > free:
        raise HearbenchError(
            f"{archive}: members declare {total} bytes; {target} has {free} bytes free "
            f"(needs {need} with the margin)"
        )


def extract_archive(
    archive: Path, target: Path, progress: bool = True, max_bytes: int | None = None
) -> None:
    """Extract a tar archive into the existing directory ``target``, refusing unsafe members.

    Args:
        archive: The tar archive (any compression tarfile reads).
        target: An existing directory.
        progress: Show a progress bar.
        max_bytes: Cap of the total extracted size (default: :func:`default_cap`).

    Raises:
        HearbenchError: naming the archive and member that is unsafe, the sizes when the
            archive would not fit, or the archive when it is truncated or corrupt. A refusal
            found from the headers leaves ``target`` untouched; one found while writing
            (a link chain escaping, a member longer than its header) may leave a partial
            extraction there.
    """
    total = scan_archive(archive)
    check_room(archive, target, total, max_bytes)
    options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    written = 0
    try:
        with (
            tarfile.open(archive, "r|*") as tar,
            tqdm(desc=f"extract {archive.name}", unit="file", disable=not progress) as bar,
        ):
            for member in tar:
                problem = _member_problem(member)
                if problem is not None:
                    raise HearbenchError(f"{archive}: member {member.name!r} {problem}; refused")
                tar.extract(member, target, **options)  # type: ignore[arg-type]
                if member.isfile():
                    size = (target / member.name).stat().st_size
                    written += size
                    if size > member.size:
                        raise HearbenchError(
                            f"{archive}: member {member.name!r} holds {size} bytes, its header "
                            f"declares {member.size}; refused"
                        )
                    if written > total:
                        raise HearbenchError(
                            f"{archive}: extraction wrote {written} bytes, more than the "
                            f"{total} its headers declared; refused"
                        )
                bar.update(1)
    except HearbenchError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _open_error(archive, exc) from exc


def _task_dirs(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        if "task_metadata.json" in files:
            dirs.clear()
            yield Path(folder)
        else:
            dirs.sort()


def _same_task(a: Path, b: Path) -> bool:
    names = ["task_metadata.json", "labelvocabulary.csv"]
    names += sorted(p.name for p in a.glob("*.json") if p.name not in ("task_metadata.json", MANIFEST))
    return all((b / n).is_file() and (a / n).read_bytes() == (b / n).read_bytes() for n in names)


def _install(task: Path, target: Path, overwrite: bool) -> None:
    if target.exists() and overwrite:
        shutil.rmtree(target)
    if not target.exists():
        os.replace(task, target)
        return
    if not _same_task(task, target):
        raise HearbenchError(f"{target}: already exists with other content (use overwrite)")
    for rate in sorted(p for p in task.iterdir() if p.is_dir() and p.name.isdigit()):
        if (target / rate.name).exists():
            log.info("%s: %s Hz audio already present", target, rate.name)
        else:
            os.replace(rate, target / rate.name)
            log.info("%s: added %s Hz audio", target, rate.name)
    merge_manifest(task, target)


def fetch_task(
    name_or_url_or_path: str | Path,
    out_dir: str | Path,
    sha256: str | None = None,
    progress: bool = True,
    *,
    overwrite: bool = False,
    keep_archive: bool = False,
    max_bytes: int | None = None,
) -> Path:
    """Download (or take from disk) a HEAR task archive and install its task in ``out_dir``.

    Args:
        name_or_url_or_path: A task card name (``"esc50-v2.0.0-full"``), an ``https://``,
            ``http://`` or ``file://`` URL, or a local ``.tar.gz``.
        out_dir: The tasks directory; the task lands in ``out_dir/<its directory name>``.
        sha256: Expected SHA-256 of the archive (overrides the card's).
        progress: Show progress bars.
        overwrite: Replace an existing task directory. Without it, an identical task that
            lacks this archive's sample rate gets the new rate folder added; anything else is
            an error.
        keep_archive: Keep a downloaded archive in ``out_dir/.downloads`` after extraction.
        max_bytes: Cap of the extracted size (default: :func:`default_cap`).

    Returns:
        The installed task directory.

    Raises:
        HearbenchError: one line naming the archive (and member) on any failure; nothing
            half-extracted is left in ``out_dir``.
    """
    source = resolve_source(name_or_url_or_path, sha256)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if source.is_url:
        log.info("fetching %s", source.location)
        try:
            archive = download_archive(source, out / DOWNLOADS, progress)
        except HearbenchError:
            _remove_if_empty(out / DOWNLOADS)
            raise
    else:
        archive = Path(source.location)
        verify_archive(archive, source.sha256, source.md5, str(archive))
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".extract-"))
    try:
        try:
            extract_archive(archive, staging, progress, max_bytes=max_bytes)
        except HearbenchError:
            if source.is_url and not keep_archive:
                archive.unlink(missing_ok=True)
                _remove_if_empty(out / DOWNLOADS)
            raise
        tasks = list(_task_dirs(staging))
        if len(tasks) != 1:
            found = ", ".join(str(t.relative_to(staging)) for t in tasks) or "none"
            raise HearbenchError(f"{archive}: expected one task directory, found {found}")
        try:
            load_task(tasks[0])
        except HearbenchError as exc:
            raise HearbenchError(f"{archive}: the task inside is invalid ({exc})") from exc
        target = out / tasks[0].name
        _install(tasks[0], target, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if source.is_url and not keep_archive:
        archive.unlink(missing_ok=True)
        _remove_if_empty(out / DOWNLOADS)
    log.info("installed %s", target)
    return target


def _remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` when it exists and holds nothing (a partial download keeps it)."""
    with contextlib.suppress(OSError):
        folder.rmdir()
