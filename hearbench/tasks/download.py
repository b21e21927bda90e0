"""Task archives from a card, a URL or disk: resumable download and checksums.

:func:`resolve_source` looks an archive up in the task cards (see :mod:`hearbench.tasks.cards`)
or takes a URL (``https://``, ``http://``, ``file://``) or a file on disk;
:func:`download_archive` downloads it (resuming a ``.part`` file with an HTTP ``Range``
request) and verifies its checksum.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from tqdm import tqdm

from hearbench.api import HearbenchError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
URL_SCHEMES = ("http", "https", "file")


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
