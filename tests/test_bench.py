"""``hearbench bench``: the straightforward references it times, its report and its command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from hearbench import create_embedder
from hearbench.bench import BenchSettings, Row, format_rows
from hearbench.bench.common import max_rel_err
from hearbench.bench.windows import per_window_loop
from hearbench.cli import main


@pytest.mark.parametrize("name", ["mn04_as", "dymn04_as"])
def test_per_window_loop_equals_batched_window_mode(name: str) -> None:
    embedder = create_embedder(name, pretrained=False)
    audio = 0.1 * torch.randn(2, 16000, generator=torch.Generator().manual_seed(0))
    batched, _ = embedder.timestamp_embeddings(audio)
    with torch.no_grad():
        looped = per_window_loop(embedder, audio)
    assert looped.shape == batched.shape
    assert max_rel_err(batched, looped) <= 1e-4


def test_settings_are_checked() -> None:
    with pytest.raises(Exception, match="level"):
        BenchSettings(level="huge")
    with pytest.raises(Exception, match="sections"):
        BenchSettings(sections=("nope",))


def test_rows_format_as_a_table() -> None:
    row = Row("windows", "mn04_as 10 s", 0.05, 0.5, 10.0, "loop/batched", check="ok", target="≥5×", met=True)
    table = format_rows([row]).splitlines()
    assert table[0].startswith("| section | case |")
    assert "10.00× loop/batched" in table[-1] and "| yes |" in table[-1]


def test_quick_grid_section_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        main,
        ["bench", "--quick", "--section", "mlp-grid", "--work-dir", str(tmp_path), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    exact, fast = report["rows"]
    assert exact["section"] == fast["section"] == "mlp-grid"
    assert exact["details"]["precision"] == "float32" and exact["target"] is None
    # the default protocol's stacked grid is the sequential grid's arithmetic
    assert exact["details"]["chosen"] == exact["details"]["chosen_sequential"]
    assert exact["details"]["valid_stacked"] == exact["details"]["valid_sequential"]
    assert exact["details"]["test_stacked"] == exact["details"]["test_sequential"]
    # the bfloat16 variant is judged on its speed and its test score
    assert fast["details"]["precision"] == "bfloat16" and fast["met"] is not None
    assert abs(fast["details"]["test_stacked"] - fast["details"]["test_sequential"]) < 0.2
    assert report["machine"]["matmul_gflops"] > 0
