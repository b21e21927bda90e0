"""``index.html`` in a real headless browser: it renders, and its columns sort on a click.

Skipped only when no Chromium is installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report import make_result, write_results

from hearbench.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("no headless browser installed (apt-get install -y chromium)")
    return found


class _Leaderboard(HTMLParser):
    """Text of every body row of ``table.leaderboard``, and the header's sort state."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.row_classes: list[str] = []
        self.sorted: str | None = None
        self.aria: dict[int, str] = {}
        self._in_table = self._in_body = self._in_cell = False
        self._th = -1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and "leaderboard" in (a.get("class") or ""):
            self._in_table = True
            self.sorted = a.get("data-sorted")
        elif self._in_table and tag == "th":
            self._th += 1
            if a.get("aria-sort"):
                self.aria[self._th] = str(a["aria-sort"])
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._in_cell = True
            self.rows[-1].append("")
            if len(self.rows[-1]) == 1:
                self.row_classes.append(a.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data.strip()


def _dom(browser: str, page: Path, tmp: Path, fragment: str = "") -> _Leaderboard:
    url = page.resolve().as_uri() + fragment
    done = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    parsed = _Leaderboard()
    parsed.feed(done.stdout)
    return parsed


def _number(text: str) -> float:
    try:
        return float(text.strip("[]†"))
    except ValueError:
        return math.nan


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    write_results(root / "results")
    published = dataclasses.replace(make_result("pub", "t1", [0.95], probe="hear2021"), published=True)
    write_report(
        root / "results", root / "report", x=("params",), n_boot=50, with_published=[published]
    )
    return root / "report" / "index.html"


def test_index_renders_and_sorts_on_clicks(browser: str, report: Path, tmp_path: Path) -> None:
    plain = _dom(browser, report, tmp_path)
    assert plain.sorted is None and len(plain.rows) == 10
    assert sum("published" in c for c in plain.row_classes) == 1
    labels = [r[0] for r in plain.rows]

    # One click on "HEAR score": descending, rows outside the aggregate last.
    once = _dom(browser, report, tmp_path, "#click=1")
    assert once.sorted == "-1" and once.aria == {1: "descending"}
    scores = [_number(r[1]) for r in once.rows]
    present = [s for s in scores if not math.isnan(s)]
    assert present == sorted(present, reverse=True) and len(present) >= 3
    assert all(math.isnan(s) for s in scores[len(present) :])
    assert sorted(r[0] for r in once.rows) == sorted(labels)

    # A second click reverses it; a click on the label column sorts by name.
    twice = _dom(browser, report, tmp_path, "#click=1,1")
    assert twice.sorted == "1" and twice.aria == {1: "ascending"}
    again = [_number(r[1]) for r in twice.rows if not math.isnan(_number(r[1]))]
    assert again == sorted(present)
    by_name = _dom(browser, report, tmp_path, "#click=0")
    assert by_name.aria == {0: "ascending"}
    assert [r[0] for r in by_name.rows] == sorted(labels)


def test_index_screenshot_is_not_blank(browser: str, report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            browser,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            report.resolve().as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (900, 1200)
    assert pixels[..., :3].std() > 0.05  # text and plots, not an empty page
