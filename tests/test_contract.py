"""The embedder contract checker: every registered preset passes it, broken embedders fail it
(also under ``python -O``) with every failing check named, and its pytest entry point works."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo
from hearbench.registry import FAMILIES, all_cards, create_embedder
from hearbench.testing import (
    ALL_CHECKS,
    CHECKS,
    ContractError,
    check_embedder,
    check_finite,
    check_sample_rate,
    parametrize_with_checks,
    validate_timestamp_outputs,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = REPO_ROOT.parent / "shared" / "reference" / "weights"
ON_DISK = {
    "mn04_as": WEIGHTS / "mn04_as.pt",
    "fmn04": WEIGHTS / "mn04_as.pt",
    "dymn04_as": WEIGHTS / "dymn04_random_seed0.pt",
    "passt_small": WEIGHTS / "passt_small_random_seed0.pt",
}
"""Presets whose checkpoint (official or a reference fixture) is on disk; the rest run on random weights."""

BIG = ("passt_", "mn40", "mn30", "dymn20")
"""Prefixes of presets too slow on two CPU cores for every check (PaSST-S, the widest MobileNets):
they get the cheap subset. Their methods get every check at small sizes in ``test_passt.py``."""

CHEAP = ("check_sample_rate", "check_embedding_sizes", "check_short_clip")
"""Checks that need no more than a 10 ms clip: attributes, sizes against layer_info, and outputs."""


def _factory(name: str) -> Callable[[], Embedder]:
    path = ON_DISK.get(name)

    def build() -> Embedder:
        if path is not None and path.is_file():
            return create_embedder(name, weights=path)
        return create_embedder(name, pretrained=False)

    build.__name__ = name
    return build


PRESETS = sorted(name for name, card in all_cards().items() if card.family in FAMILIES)
"""The presets hearbench ships (plugins installed beside it are theirs to check)."""
CHEAPLY = [n for n in PRESETS if n.startswith(BIG) and n != "passt_small"]
FULL = [n for n in PRESETS if n not in CHEAPLY]


def test_every_preset_is_checked() -> None:
    assert len(PRESETS) == 43 and len(FULL) + len(CHEAPLY) == len(PRESETS)
    assert {"baseline", "mn04_as", "dymn10_as", "passt_small"} <= set(FULL)
    assert {"passt_base", "passt_tokens", "mn40_as"} <= set(CHEAPLY) | set(FULL)


@pytest.mark.slow
@parametrize_with_checks([_factory(n) for n in FULL], long_seconds=11.0)
def test_preset_honours_the_contract(embedder: object, check: Callable[[object], str]) -> None:
    check(embedder)


@pytest.mark.slow
@parametrize_with_checks([_factory(n) for n in CHEAPLY], checks=CHEAP)
def test_big_preset_honours_the_cheap_checks(embedder: object, check: Callable[[object], str]) -> None:
    check(embedder)


class Broken(Embedder):
    """A 16 kHz embedder with a 50 ms hop whose faults are chosen per instance."""

    sample_rate = 16000

    def __init__(self, nan: bool = False, past_clip: bool = False, rate: int = 16000) -> None:
        super().__init__(EmbedderConfig("broken"))
        self.nan, self.past_clip, self.sample_rate = nan, past_clip, rate

    def layer_info(self) -> tuple[LayerInfo, ...]:
        return (LayerInfo(0, "out", 3, 50.0),)

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hop = 800
        n_frames = audio.shape[1] // hop + 1
        padded = torch.nn.functional.pad(audio, (hop // 2, hop))
        frames = padded[:, : n_frames * hop].reshape(audio.shape[0], n_frames, hop)
        emb = torch.stack([frames.mean(-1), frames.std(-1), frames.abs().amax(-1)], dim=-1)
        if self.nan:
            emb[:, -1, 0] = float("nan")
        stamps = torch.arange(n_frames, dtype=torch.float32) * 50.0 + (50.0 if self.past_clip else 0.0)
        return emb, stamps.expand(audio.shape[0], -1)

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        return self.timestamp_embeddings(audio)[0].nan_to_num(0.0).mean(dim=1)


def test_a_sound_embedder_passes_every_check() -> None:
    report = check_embedder(Broken(), long_seconds=5.0)
    assert report.passed, report.format()
    assert [r.name for r in report.results] == [fn.__name__ for fn in ALL_CHECKS]
    assert "hop 50.000 ms" in report.format() and "all checks passed" in report.format()


def test_every_failing_check_is_named() -> None:
    report = check_embedder(Broken(nan=True, past_clip=True), long_seconds=5.0)
    failed = {r.name for r in report.failures}
    assert failed == {
        "check_finite",
        "check_timestamps_within_clip",
        "check_timestamps_at_frame_centres",
        "check_batch_independence",
        "check_determinism",
        "check_short_clip",
        "check_long_clip",
        "check_no_timestamp_drift",
    }, report.format()
    text = report.format()
    assert f"8 of {len(ALL_CHECKS)} checks failed" in text
    assert "hold NaN or Inf" in text and "beyond the clip (0..1000.000 ms)" in text
    for line in text.splitlines()[:-1]:
        assert line.split()[0] in {"PASS", "FAIL"}
    with pytest.raises(ContractError, match="8 checks failed: check_finite"):
        report.raise_for_failures()


def test_one_check_known_failures_and_names() -> None:
    broken = Broken(rate=8000)
    with pytest.raises(ContractError, match=r"sample_rate is 8000, expected an int among 16000"):
        check_sample_rate(broken)
    report = check_embedder(
        broken, checks=["check_sample_rate", check_finite], known_failures={"check_sample_rate": "8 kHz model"}
    )
    assert report.passed and [(r.name, r.status) for r in report.results] == [
        ("check_sample_rate", "xfail"),
        ("check_finite", "pass"),
    ]
    assert "1 known failure" in report.format()
    xpass = check_embedder(Broken(), checks=["check_finite"], known_failures={"check_finite": "flaky"})
    assert xpass.passed and xpass.results[0].status == "xpass"
    with pytest.raises(HearbenchError, match=r"unknown check 'check_nope'; known: check_sample_rate"):
        check_embedder(Broken(), checks=["check_nope"])


def test_parametrize_with_checks_makes_one_case_per_embedder_and_check() -> None:
    mark = parametrize_with_checks(
        [Broken(rate=8000), Broken],
        checks=["check_sample_rate", "check_finite"],
        known_failures={"check_sample_rate": "8 kHz model"},
        ids=["low_rate", "built_late"],
    )
    argnames, params = mark.args
    assert argnames == ("embedder", "check")
    assert [p.id for p in params] == [
        "low_rate-check_sample_rate",
        "low_rate-check_finite",
        "built_late-check_sample_rate",
        "built_late-check_finite",
    ]
    assert [[m.name for m in p.marks] for p in params] == [["xfail"], [], ["xfail"], []]
    (embedder, check), (_, finite) = params[0].values, params[1].values
    with pytest.raises(ContractError, match="sample_rate is 8000"):
        check(embedder)
    assert finite(embedder) == "all values finite"
    late, late_check = params[2].values
    assert late is Broken and late_check(late) == "16000 Hz"
    with pytest.raises(HearbenchError, match="2 ids for 1 embedders"):
        parametrize_with_checks([Broken()], ids=["a", "b"])


def test_timestamp_rules_catch_seconds_frame_starts_and_drift() -> None:
    embedder, audio = Broken(), torch.zeros(1, 16000)
    emb = torch.zeros(1, 21, 3)
    ms = torch.arange(21, dtype=torch.float32)[None] * 50.0
    validate_timestamp_outputs(embedder, audio, emb, ms)
    with pytest.raises(ContractError, match="not in ms at frame centres"):
        validate_timestamp_outputs(embedder, audio, emb, ms / 1000.0)
    starts = torch.arange(17, dtype=torch.float32)[None] * 50.0  # 200 ms windows, no padding
    with pytest.raises(ContractError, match="not in ms at frame centres"):
        validate_timestamp_outputs(embedder, audio, emb[:, :17], starts)
    with pytest.raises(ContractError, match=r"not evenly spaced \(jitter 1.500 ms"):
        validate_timestamp_outputs(embedder, audio, emb, ms + torch.tensor([0.0] * 10 + [1.5] * 11))

    class Spread(Broken):
        """Spreads its frames' timestamps over the whole clip instead of using the true hop."""

        def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            emb, stamps = super().timestamp_embeddings(audio)
            end = audio.shape[1] / self.sample_rate * 1000.0
            return emb, torch.linspace(0.0, end, stamps.shape[1]).expand_as(stamps)

    checks = ["check_timestamps_evenly_spaced", "check_long_clip", "check_no_timestamp_drift"]
    report = check_embedder(Spread(), checks=checks, long_seconds=12.02)
    assert [r.status for r in report.results] == ["pass", "pass", "fail"], report.format()
    assert "drift by 20.000 ms from a 50.000 ms hop (frame 240" in report.results[2].message


BROKEN_HEAR_MODULE = """
import torch

class Model(torch.nn.Module):
    sample_rate = 16000
    timestamp_embedding_size = 2
    scene_embedding_size = 2

def load_model(model_file_path=""):
    return Model()

def get_timestamp_embeddings(audio, model):
    n_frames = audio.shape[1] // 800 + 1
    emb = torch.full((audio.shape[0], n_frames, 2), float("nan"))
    stamps = 50.0 * torch.arange(1, n_frames + 1, dtype=torch.float32)
    return emb, stamps.expand(audio.shape[0], -1)

def get_scene_embeddings(audio, model):
    return get_timestamp_embeddings(audio, model)[0].mean(dim=1)
"""


def _run_optimised(args: list[str], module_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": f"{module_dir}:{REPO_ROOT}", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-O", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_broken_embedder_fails_under_python_O(tmp_path: Path) -> None:
    (tmp_path / "broken_hear.py").write_text(BROKEN_HEAR_MODULE)
    script = textwrap.dedent(
        """
        import json, sys
        assert False, "asserts are stripped under -O"
        from hearbench.registry import create_embedder
        from hearbench.testing import check_embedder
        report = check_embedder(create_embedder("hear:broken_hear"), long_seconds=3)
        print(json.dumps({"optimize": sys.flags.optimize, "passed": report.passed,
                          "failed": [r.name for r in report.failures]}))
        """
    )
    done = _run_optimised(["-c", script], tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["optimize"] == 1 and out["passed"] is False
    expected = [
        "check_finite",
        "check_timestamps_within_clip",
        "check_timestamps_at_frame_centres",
        "check_batch_independence",
        "check_determinism",
        "check_short_clip",
        "check_long_clip",
        "check_no_timestamp_drift",
    ]
    assert out["failed"] == expected

    cli = _run_optimised(["-m", "hearbench.cli", "check", "hear:broken_hear", "--long-seconds", "3"], tmp_path)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    failed_lines = [line.split()[1].rstrip(":") for line in cli.stdout.splitlines() if line.startswith("FAIL")]
    assert failed_lines == expected
    assert f"8 of {len(CHECKS)} checks failed: {', '.join(expected)}" in cli.stdout


def test_check_command_runs_named_checks_and_refuses_unknown_ones() -> None:
    from click.testing import CliRunner

    from hearbench.cli import main

    done = CliRunner().invoke(main, ["check", "baseline", "--check", "check_finite", "--check", "check_sample_rate"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "PASS  check_finite: all values finite",
        "PASS  check_sample_rate: 16000 Hz",
        "baseline: all checks passed",
    ]
    bad = CliRunner().invoke(main, ["check", "baseline", "--check", "check_nope"])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "unknown check 'check_nope'" in bad.output
