"""The ``originals`` and ``suite`` benchmarks: skipped originals, the wrapper comparison, heareval."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from hearbench import create_embedder
from hearbench.bench import BenchSettings, Machine, run_bench
from hearbench.bench import originals as originals_bench
from hearbench.bench import originals_wrappers as wrappers
from hearbench.bench import suite as suite_bench
from hearbench.bench.context import BenchContext
from hearbench.bench.originals_common import missing_module

MISSING = "hearbench_test_absent_module"

pytestmark = [
    pytest.mark.filterwarnings(f"ignore:::{module}")
    for module in ("pytorch_lightning", "lightning_fabric", "heareval", "torch", "pandas", "torchmetrics")
]


@pytest.fixture
def context(tmp_path: Path) -> Iterator[BenchContext]:
    settings = BenchSettings(level="quick", sections=("originals",), work_dir=tmp_path, repeats=1)
    machine = Machine("test cpu", 2, 1, "cpu", None, str(torch.__version__), 1.0)
    with contextlib.ExitStack() as stack:
        yield BenchContext(settings, machine, stack)


def test_missing_originals_are_skipped_with_the_module_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(originals_bench, "HEAREVAL_MODULES", (MISSING,))
    absent = tuple(dataclasses.replace(o, requires=(f"{MISSING}_{i}",)) for i, o in enumerate(wrappers.ORIGINALS))
    monkeypatch.setattr(wrappers, "ORIGINALS", absent)
    printed: list[str] = []
    report = run_bench(
        BenchSettings(level="quick", sections=("originals",), work_dir=tmp_path, repeats=1),
        on_row=lambda row: printed.append(row.check),
    )
    assert [row.case for row in report.rows] == [
        "heareval 2021.1.3 runner: skipped",
        "hear21passt.base: skipped",
        "EfficientAT_HEAR hear_mn: skipped",
    ]
    assert printed[0] == f"not measured here: module '{MISSING}' is missing"
    assert f"'{MISSING}_1'" in printed[2]
    assert all(row.met is None and row.ours is None for row in report.rows)
    assert "targets met" not in report.format()


def test_missing_module_names_the_first_absent_one() -> None:
    assert missing_module(("json", "math")) is None
    reason = missing_module(("json", f"{MISSING}.sub", "math"))
    assert reason == f"module '{MISSING}' is missing"


def test_an_original_failing_on_import_is_skipped_with_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hearbench_test_bad_import.py").write_text("raise RuntimeError('built for another torch')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reason = missing_module(("hearbench_test_bad_import",))
    assert reason == "importing hearbench_test_bad_import failed (RuntimeError: built for another torch)"


def _fake_module(embedder: Any, scale: float) -> types.ModuleType:
    module = types.ModuleType("hearbench_test_fake_hear")

    def load_model(**_: Any) -> torch.nn.Module:
        return torch.nn.Identity()

    def get_timestamp_embeddings(audio: torch.Tensor, model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        emb, ts = embedder.timestamp_embeddings(audio)
        return emb * scale, ts

    module.load_model = load_model  # type: ignore[attr-defined]
    module.get_timestamp_embeddings = get_timestamp_embeddings  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(("scale", "agree"), [(1.0, True), (1.01, False)])
def test_wrapper_rows_compare_outputs(
    context: BenchContext, monkeypatch: pytest.MonkeyPatch, scale: float, agree: bool
) -> None:
    embedder = create_embedder("baseline")
    module = _fake_module(embedder, scale)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    original = wrappers.Original(
        "fake wrapper", module.__name__, (module.__name__,), "baseline",
        lambda mod, ctx: (mod.load_model(), embedder, "no weights"),
    )
    row = wrappers.measure(original, context)
    assert row.met is agree
    assert row.ours is not None and row.reference is not None and row.ratio == pytest.approx(row.reference / row.ours)
    if agree:
        assert row.details["max_rel_err"] == 0.0 and row.details["timestamps_equal"]
    else:
        assert row.details["max_rel_err"] == pytest.approx(0.01 / 1.01, rel=1e-3)


def test_a_failing_original_gives_a_failed_row(context: BenchContext, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("hearbench_test_broken_hear")
    monkeypatch.setitem(sys.modules, module.__name__, module)

    def load(mod: types.ModuleType, ctx: BenchContext) -> Any:
        raise RuntimeError("checkpoint download failed")

    row = wrappers.measure(wrappers.Original("broken", module.__name__, (module.__name__,), "baseline", load), context)
    assert row.met is False and row.check == "not measured: RuntimeError: checkpoint download failed"


def test_heareval_runner_beside_the_mlp_probe_gives_equal_scores(tmp_path: Path) -> None:
    reason = missing_module(originals_bench.HEAREVAL_MODULES)
    if reason is not None:
        pytest.skip(f"heareval 2021.1.3 cannot be imported: {reason}")
    from hearbench.cache import EmbeddingCache
    from hearbench.embed import embed_task
    from hearbench.tasks.format import load_task
    from hearbench.tasks.synthetic import build_synthetic_task

    task = load_task(build_synthetic_task("demo-pitch", tmp_path / "task"))
    embeddings, _ = embed_task(create_embedder("baseline"), task, EmbeddingCache(tmp_path / "cache"), progress=False)
    schedule = {"max_epochs": 6, "check_val_every_n_epoch": 3, "patience": 2, "hidden_dim": 64}
    work = tmp_path / "work"
    work.mkdir()
    row = originals_bench.compare_heareval(task, embeddings, work, schedule, points=2)
    assert row.details["equal"] and row.details["same_winner"], row.check
    assert row.details["max_score_diff"] <= originals_bench.PARITY_TOL
    ours, theirs = row.details["scores"]["test"], row.details["heareval_scores"]["test"]
    assert ours["pitch_acc"] == pytest.approx(theirs["pitch_acc"], abs=1e-6) and 0.0 < ours["pitch_acc"] <= 1.0
    assert row.ratio is not None and row.ratio > 0 and row.ratio_label == "heareval/hearbench"
    assert "shortened" in row.case and row.target is None and row.met is None
    assert row.details["chosen"]["lr"] == row.details["heareval_hparams"]["lr"]


def test_suite_target_applies_only_to_mn04_with_both_probes_on_two_cores() -> None:
    assert suite_bench.target_applies("mn04_as", ("linear", "mlp"), 2)
    assert not suite_bench.target_applies("mn04_as", ("linear",), 2)
    assert not suite_bench.target_applies("baseline", ("linear", "mlp"), 2)
    assert not suite_bench.target_applies("mn04_as", ("linear", "mlp"), 16)


def test_suite_rows_per_task_and_probe_and_the_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hearbench.tasks import cards
    from hearbench.tasks.synthetic import build_synthetic_task

    task_dir = build_synthetic_task("demo-pitch", tmp_path / "tasks" / "demo-pitch")
    monkeypatch.setattr(cards, "find_suite_tasks", lambda suite, root: ({"demo-pitch": task_dir}, ["events"]))
    settings = BenchSettings(
        level="quick", sections=("suite",), suite_dir=tmp_path / "tasks", suite_embedder="baseline",
        suite_probes=("linear", "knn"), work_dir=tmp_path / "work",
    )
    report = run_bench(settings)
    cases = [row.case for row in report.rows]
    assert cases[:2] == ["baseline (random init) + linear on demo-pitch", "baseline (random init) + knn on demo-pitch"]
    per_task = report.rows[:2]
    total = report.rows[-1]
    assert total.ours == pytest.approx(sum(row.ours or 0.0 for row in per_task))
    assert total.ratio == pytest.approx((total.ours or 0.0) / suite_bench.TARGET_S)
    assert total.met is None and "missing: events" in total.check
    assert "linear+knn" in total.case and "< 10 min on 2 cores" in (total.target or "")


def test_the_bench_command_offers_every_section() -> None:
    import click

    from hearbench.bench.common import SECTIONS
    from hearbench.cli_report import bench

    [option] = [p for p in bench.params if p.name == "sections"]
    assert isinstance(option.type, click.Choice)
    assert sorted(option.type.choices) == sorted(SECTIONS)
    [embedder] = [p for p in bench.params if p.name == "suite_embedder"]
    assert embedder.default == "mn04_as"
