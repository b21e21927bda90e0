"""Fetching task archives: HTTP (with resume) and file:// downloads, checksums, safe extraction."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from hearbench.api import HearbenchError
from hearbench.tasks.fetch import DOWNLOADS, extract_archive, fetch_task
from hearbench.tasks.format import TaskItem, load_task, write_task

TASK = "toy_task-v1-full"


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with single ``bytes=N-`` range support; can cut one response short."""

    ranges: ClassVar[list[str | None]] = []
    cut_next: ClassVar[int | None] = None

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        start = int(header.removeprefix("bytes=").rstrip("-")) if header else 0
        if start >= len(data) and header:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.end_headers()
            return
        body = data[start:]
        self.send_response(206 if header else 200)
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = type(self).cut_next
        if cut is not None:
            type(self).cut_next = None
            body = body[:cut]
        self.wfile.write(body)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a temporary folder: (base URL, folder)."""
    root = tmp_path / "served"
    root.mkdir()
    RangeHandler.ranges = []
    RangeHandler.cut_next = None

    def handler(*args: object, **kwargs: object) -> RangeHandler:
        return RangeHandler(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _task(tmp_path: Path, rate: int = 16000) -> Path:
    meta = {
        "task_name": "toy_task",
        "version": "v1",
        "mode": "full",
        "embedding_type": "scene",
        "prediction_type": "multiclass",
        "split_mode": "trainvaltest",
        "sample_duration": 0.25,
        "evaluation": ["top1_acc"],
    }
    rng = np.random.default_rng(0)
    items = [
        TaskItem(
            split,
            f"{split}{i}.wav",
            0.1 * rng.standard_normal(4000).astype(np.float32),
            16000,
            [label],
        )
        for split in ("train", "valid", "test")
        for i, label in enumerate("ab")
    ]
    return write_task(tmp_path / f"build-{rate}" / TASK, meta, ["a", "b"], items, [rate])


def make_archive(
    tmp_path: Path, name: str = f"hear2021-{TASK}-16000.tar.gz", rate: int = 16000
) -> Path:
    """A HEAR-style archive: ``tasks/<task>/...`` inside a .tar.gz."""
    task = _task(tmp_path, rate)
    archive = tmp_path / name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(task, arcname=f"tasks/{TASK}")
    return archive


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_http_fetch_installs_task(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, root = server
    archive = make_archive(tmp_path)
    (root / archive.name).write_bytes(archive.read_bytes())
    out = tmp_path / "tasks"
    path = fetch_task(
        f"{url}/{archive.name}?download=1", out, sha256=sha256(archive), progress=False
    )
    assert path == out / TASK
    assert load_task(path).name == "toy_task"
    assert sorted(p.name for p in out.iterdir()) == [TASK]


def test_file_url_and_local_path(tmp_path: Path) -> None:
    archive = make_archive(tmp_path)
    path = fetch_task(archive.as_uri(), tmp_path / "a", sha256=sha256(archive), progress=False)
    assert load_task(path).sample_rates == (16000,)
    with pytest.raises(HearbenchError, match="sha256 mismatch"):
        fetch_task(archive.as_uri(), tmp_path / "refused", sha256="0" * 64, progress=False)
    assert list((tmp_path / "refused").iterdir()) == []
    path = fetch_task(archive, tmp_path / "b", progress=False)
    assert load_task(path).name == "toy_task"
    assert archive.is_file()


def test_second_sample_rate_is_merged(tmp_path: Path) -> None:
    first = make_archive(tmp_path / "x", rate=16000)
    second = make_archive(tmp_path / "y", rate=48000)
    out = tmp_path / "tasks"
    fetch_task(first, out, progress=False)
    path = fetch_task(second, out, progress=False)
    assert load_task(path).sample_rates == (16000, 48000)


def test_checksum_mismatch(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, root = server
    archive = make_archive(tmp_path)
    (root / archive.name).write_bytes(archive.read_bytes())
    out = tmp_path / "tasks"
    with pytest.raises(HearbenchError) as exc:
        fetch_task(f"{url}/{archive.name}", out, sha256="0" * 64, progress=False)
    message = str(exc.value)
    assert "\n" not in message and archive.name in message and "sha256 mismatch" in message
    assert not (out / TASK).exists()
    assert not (out / DOWNLOADS).exists()


def test_truncated_archive(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, root = server
    data = make_archive(tmp_path).read_bytes()
    (root / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    out = tmp_path / "tasks"
    with pytest.raises(HearbenchError, match="truncated or corrupt") as exc:
        fetch_task(f"{url}/cut.tar.gz", out, progress=False)
    assert "cut.tar.gz" in str(exc.value) and "\n" not in str(exc.value)
    assert list(out.iterdir()) == []


def _malicious(tmp_path: Path, kind: str) -> Path:
    archive = tmp_path / f"{kind}.tar.gz"
    payload = b"gotcha"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(f"tasks/{TASK}/task_metadata.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
        if kind == "dotdot":
            info = tarfile.TarInfo("tasks/../../evil")
        elif kind == "absolute":
            info = tarfile.TarInfo(str(tmp_path / "evil_abs"))
        elif kind == "symlink":
            info = tarfile.TarInfo(f"tasks/{TASK}/etc")
            info.type, info.linkname = tarfile.SYMTYPE, "/etc"
        elif kind == "relative_symlink":
            info = tarfile.TarInfo(f"tasks/{TASK}/up")
            info.type, info.linkname = tarfile.SYMTYPE, "../../.."
        elif kind == "hardlink":
            info = tarfile.TarInfo(f"tasks/{TASK}/passwd")
            info.type, info.linkname = tarfile.LNKTYPE, "../../../etc/passwd"
        elif kind == "device":
            info = tarfile.TarInfo(f"tasks/{TASK}/null")
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        if info.type == tarfile.REGTYPE:
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        else:
            tar.addfile(info)
    return archive


@pytest.mark.parametrize(
    "kind", ["dotdot", "absolute", "symlink", "relative_symlink", "hardlink", "device"]
)
def test_malicious_archives_are_refused(tmp_path: Path, kind: str) -> None:
    archive = _malicious(tmp_path, kind)
    out = tmp_path / "tasks"
    with pytest.raises(HearbenchError) as exc:
        fetch_task(archive, out, progress=False)
    message = str(exc.value)
    assert "\n" not in message and archive.name in message and "member" in message
    assert not (tmp_path / "evil").exists() and not (tmp_path / "evil_abs").exists()
    assert list(out.iterdir()) == []


def test_extract_archive_allows_inner_links(tmp_path: Path) -> None:
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("a/file.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
        link = tarfile.TarInfo("a/b/link")
        link.type, link.linkname = tarfile.SYMTYPE, "../file.txt"
        tar.addfile(link)
    target = tmp_path / "x"
    target.mkdir()
    extract_archive(archive, target, progress=False)
    assert (target / "a" / "b" / "link").read_text() == "hi"


def test_resume_partial_download(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, root = server
    archive = make_archive(tmp_path)
    data = archive.read_bytes()
    (root / archive.name).write_bytes(data)
    out = tmp_path / "tasks"
    (out / DOWNLOADS).mkdir(parents=True)
    (out / DOWNLOADS / f"{archive.name}.part").write_bytes(data[:1000])
    path = fetch_task(f"{url}/{archive.name}", out, sha256=sha256(archive), progress=False)
    assert RangeHandler.ranges == ["bytes=1000-"]
    assert load_task(path).name == "toy_task"


def test_interrupted_download_resumes_on_retry(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, root = server
    archive = make_archive(tmp_path)
    (root / archive.name).write_bytes(archive.read_bytes())
    out = tmp_path / "tasks"
    RangeHandler.cut_next = 700
    with pytest.raises(HearbenchError, match="run again") as exc:
        fetch_task(f"{url}/{archive.name}", out, sha256=sha256(archive), progress=False)
    assert "\n" not in str(exc.value)
    assert (out / DOWNLOADS / f"{archive.name}.part").stat().st_size == 700
    path = fetch_task(f"{url}/{archive.name}", out, sha256=sha256(archive), progress=False)
    assert RangeHandler.ranges == [None, "bytes=700-"]
    assert load_task(path).name == "toy_task"


def test_http_errors_and_names(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, _ = server
    with pytest.raises(HearbenchError, match="HTTP 404"):
        fetch_task(f"{url}/missing.tar.gz", tmp_path / "t", progress=False)
    with pytest.raises(HearbenchError, match="no archive"):
        fetch_task("fsdd-digit", tmp_path / "t", progress=False)
    with pytest.raises(HearbenchError, match="unknown task"):
        fetch_task("esc-fifty", tmp_path / "t", progress=False)
    with pytest.raises(HearbenchError, match="archive not found"):
        fetch_task(tmp_path / "absent.tar.gz", tmp_path / "t", progress=False)


def test_complete_part_file_is_used(tmp_path: Path, server: tuple[str, Path]) -> None:
    url, root = server
    archive = make_archive(tmp_path)
    (root / archive.name).write_bytes(archive.read_bytes())
    out = tmp_path / "tasks"
    (out / DOWNLOADS).mkdir(parents=True)
    (out / DOWNLOADS / f"{archive.name}.part").write_bytes(archive.read_bytes())
    path = fetch_task(f"{url}/{archive.name}", out, sha256=sha256(archive), progress=False)
    assert RangeHandler.ranges == [f"bytes={archive.stat().st_size}-"]
    assert load_task(path).name == "toy_task"


def _bomb(tmp_path: Path, inflated: int) -> Path:
    """A valid task archive plus one member of ``inflated`` zero bytes (a few KB gzipped)."""
    task = _task(tmp_path, 16000)
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(task, arcname=f"tasks/{TASK}")
        info = tarfile.TarInfo(f"tasks/{TASK}/padding.bin")
        info.size = inflated

        class Zeros(io.RawIOBase):
            def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
                buffer[:] = bytes(len(buffer))
                return len(buffer)

        tar.addfile(info, Zeros())
    return archive


def test_archive_inflating_past_the_cap_is_refused_before_writing(tmp_path: Path) -> None:
    archive = _bomb(tmp_path, 300 * 1024**2)
    assert archive.stat().st_size < 1024**2
    out = tmp_path / "tasks"
    with pytest.raises(HearbenchError) as exc:
        fetch_task(archive, out, progress=False)
    message = str(exc.value)
    assert "\n" not in message and archive.name in message
    assert f"over the extraction cap of {256 * 1024**2} bytes" in message
    assert list(out.iterdir()) == []

    target = tmp_path / "direct"
    target.mkdir()
    with pytest.raises(HearbenchError, match="over the extraction cap of 1000 bytes"):
        extract_archive(make_archive(tmp_path / "small"), target, progress=False, max_bytes=1000)
    assert list(target.iterdir()) == []


def test_archive_past_the_free_space_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil as shutil_module
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil_module, "disk_usage", lambda _: usage(10**6, 0, 10**6))
    out = tmp_path / "tasks"
    with pytest.raises(HearbenchError, match="bytes free") as exc:
        fetch_task(make_archive(tmp_path), out, progress=False)
    assert "\n" not in str(exc.value)
    assert list(out.iterdir()) == []


def test_cli_cap_option_and_symlink_chain_escape(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hearbench.cli import main

    archive = make_archive(tmp_path)
    out = tmp_path / "tasks"
    outcome = CliRunner().invoke(
        main, ["tasks", "fetch", str(archive), "--out", str(out), "--max-extract-bytes", "10"]
    )
    assert outcome.exit_code == 1
    assert outcome.output.strip().startswith("error: ") and len(outcome.output.strip().splitlines()) == 1
    assert "over the extraction cap of 10 bytes" in outcome.output

    chain = tmp_path / "chain.tar"
    with tarfile.open(chain, "w") as tar:
        for name, target in (("a/l1", "."), ("a/l2", "l1/.."), ("a/l3", "l2/..")):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            tar.addfile(link)
    staging = tmp_path / "x"
    staging.mkdir()
    with pytest.raises(HearbenchError) as exc:
        extract_archive(chain, staging, progress=False)
    message = str(exc.value)
    assert "\n" not in message and "escape" in message and "corrupt" not in message
