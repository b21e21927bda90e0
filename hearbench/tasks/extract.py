"""Safe, bounded extraction of tar archives.

Extraction refuses any member that could write outside the target: absolute paths, ``..``,
symbolic or hard links pointing outside (directly or through a chain of links), device files
and FIFOs. It is bounded: a first pass over the archive's headers checks every member and
sums their declared sizes, which must fit both the free space of the target (with a margin)
and a cap (``max_bytes``; by default :data:`EXPAND_RATIO` times the archive's size, at least
:data:`MIN_CAP_BYTES` and at most :data:`MAX_CAP_BYTES`), before anything is written; while
writing, a member that holds more bytes than its header declares is refused.
"""

from __future__ import annotations

import errno
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from hearbench.api import HearbenchError

EXPAND_RATIO = 100
"""Default cap of the extracted size as a multiple of the archive's (audio barely compresses)."""
MIN_CAP_BYTES = 256 * 1024**2
MAX_CAP_BYTES = 200 * 1024**3
FREE_SPACE_MARGIN = 0.05
"""Free space to leave on the target: this fraction of the extracted size, plus 64 MiB."""


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
