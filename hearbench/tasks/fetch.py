"""Fetch preprocessed HEAR 2021 task archives: resumable download, checksum, safe extraction.

``fetch_task("esc50-v2.0.0-full", "tasks/")`` looks the archive up in the task cards (see
:mod:`hearbench.tasks.cards`), downloads it to ``tasks/.downloads/`` (resuming a ``.part`` file
with an HTTP ``Range`` request), verifies its checksum, extracts it into a temporary directory
under ``tasks/`` and renames the task directory into place only once everything is complete.
A URL (``https://``, ``http://``, ``file://``) or an archive already on disk works the same way.
Downloading and checksums are in :mod:`hearbench.tasks.download`; the safe, bounded extraction
is in :mod:`hearbench.tasks.extract`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hearbench.api import HearbenchError
from hearbench.tasks.download import download_archive, resolve_source, verify_archive
from hearbench.tasks.extract import extract_archive
from hearbench.tasks.format import load_task
from hearbench.tasks.manifest import MANIFEST, merge_manifest

__all__ = ["DOWNLOADS", "extract_archive", "fetch_task"]

log = logging.getLogger(__name__)

DOWNLOADS = ".downloads"


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
        max_bytes: Cap of the extracted size (default:
            :func:`~hearbench.tasks.extract.default_cap`).

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
