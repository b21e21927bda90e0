"""The trained head's parameters and MACs, the embedder + head totals, and the reporter's cost axes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hearbench.api import HearbenchError
from hearbench.complexity.head import frame_rate, head_complexity, with_head
from hearbench.probes import get_probe
from hearbench.probes.base import Objective, ProbeData

D, C, FPS = 24, 5, 20.0


def _frames(seed: int = 0, clips: int = 6, frames: int = 30) -> ProbeData:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(clips * frames, D)).astype(np.float32)
    Y = (X[:, :C] > 0.5).astype(np.float32)
    return ProbeData(X, Y, np.arange(clips + 1, dtype=np.int64) * frames)


def _fit(name: str, **params: Any) -> Any:
    objective = Objective(lambda probs: (float(-np.abs(probs).mean()), {}))
    probe = get_probe(name)(prediction_type="multilabel", **params)
    return probe.fit(_frames(0), _frames(1), objective)


def test_linear_head_by_hand() -> None:
    probe = _fit("linear")
    cost = head_complexity(probe, D, round(FPS * 10), 10.0)
    module = probe.head_module()
    assert cost.params == sum(p.numel() for p in module.parameters()) == D * C + C
    assert cost.macs_per_second == D * C * FPS  # in_dim x n_labels per frame x frames per second
    frames = _frames(2)
    import torch

    with torch.no_grad():
        traced = probe.head_forward(torch.from_numpy(frames.X)).numpy()
    np.testing.assert_allclose(traced, probe.predict_proba(frames), rtol=1e-6, atol=1e-7)


def test_mlp_knn_and_sequence_heads() -> None:
    mlp = _fit("mlp", hidden_layers=1, hidden_dim=16, max_epochs=3, check_val_every_n_epoch=3)
    cost = head_complexity(mlp, D, 200, 10.0)
    assert cost.params == sum(p.numel() for p in mlp.model_.parameters())
    assert cost.macs_per_second == (D * 16 + 16 * C) * FPS

    knn = _fit("knn", k=3)
    cost = head_complexity(knn, D, 200, 10.0)
    assert cost.params == 0 and cost.macs_per_second == 180 * D * FPS  # 180 stored training frames

    seq = _fit("sequence", d_model=8, max_epochs=2, check_every=1)
    cost = head_complexity(seq, D, 200, 10.0)
    assert cost.params == sum(p.numel() for p in seq.model_.parameters())
    gru = 2 * 3 * (8 * 4 + 4 * 4)  # two directions, three gates, input and hidden products
    assert cost.macs_per_second == (D * 8 + gru + 8 * C) * FPS


def test_totals_and_frame_rate() -> None:
    probe = _fit("linear")
    head = head_complexity(probe, D, 200, 10.0)
    event = with_head({"params": 1000, "macs_per_second": 5e6, "scene_macs_per_second": 7e6}, head, "event")
    assert event["head_params"] == head.params and event["total_params"] == 1000 + head.params
    assert event["total_macs_per_second"] == 5e6 + head.macs_per_second
    scene = with_head({"params": 1000, "macs_per_second": 5e6, "scene_macs_per_second": 7e6}, head, "scene")
    assert scene["total_macs_per_second"] == 7e6 + head.macs_per_second
    stamps = np.concatenate([np.arange(11) * 50.0, np.arange(5) * 50.0, [0.0]])
    assert frame_rate(stamps, [0, 11, 16, 17]) == pytest.approx(20.0)
    with pytest.raises(HearbenchError, match="two frames"):
        frame_rate([0.0], [0, 1])


@pytest.mark.slow
def test_event_result_carries_head_and_total_cost(data_dir: Path, tmp_path: Path) -> None:
    from hearbench import create_embedder
    from hearbench.cache import EmbeddingCache
    from hearbench.runner import evaluate
    from hearbench.tasks.builders import BUILDERS
    from hearbench.tasks.format import load_task

    report = BUILDERS["events-csv"].build(data_dir / "events", tmp_path / "events", progress=False)
    task = load_task(report.path)
    embedder = create_embedder("baseline")  # 512-d frames every 50 ms
    figures = {"params": 123, "macs_per_second": 1e6, "scene_macs_per_second": 2e6}
    result = evaluate(
        embedder, task, "linear", cache=EmbeddingCache(tmp_path / "cache"),
        probe_options={"l2": [1e-3]}, complexity=figures, progress=False,
    )
    assert result.complexity is not None
    n_labels = len(task.labels)
    assert result.complexity["head_params"] == 512 * n_labels + n_labels
    assert result.complexity["head_macs_per_second"] == 512 * n_labels * 20.0
    assert result.complexity["total_params"] == 123 + 512 * n_labels + n_labels
    assert result.complexity["total_macs_per_second"] == 1e6 + 512 * n_labels * 20.0
    assert {"psds1", "psds2", "segment_1s_pauroc"} <= set(result.scores)


def test_report_refuses_an_unknown_cost_before_reading_results(tmp_path: Path) -> None:
    from hearbench.report import write_report

    with pytest.raises(HearbenchError, match=r"--x: 'head_flops' is not a cost; choose from .*head_macs_per_second"):
        write_report(tmp_path / "missing", tmp_path / "out", x=("params", "head_flops"))


def test_report_plots_score_against_head_and_total_cost(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hearbench.cli import main
    from hearbench.results import read_results

    stored = Path(__file__).resolve().parents[1] / "results" / "event-metrics"
    for result in read_results(stored):
        c = result.complexity or {}
        assert c["total_params"] == c["params"] + c["head_params"]
        assert c["total_macs_per_second"] == c["macs_per_second"] + c["head_macs_per_second"]
    linear = next(r for r in read_results(stored) if r.probe["name"] == "linear")
    assert linear.complexity is not None and linear.complexity["head_macs_per_second"] == 512 * 6 * 20.0
    out = tmp_path / "report"
    args = ["report", str(stored), "--out", str(out), "--no-stats", "--format", "md",
            "--x", "head_macs_per_second,total_params,total_macs"]
    outcome = CliRunner().invoke(main, args)
    assert outcome.exit_code == 0, outcome.output
    for key in ("head_macs_per_second", "total_params", "total_macs_per_second"):
        assert (out / f"score_vs_{key}.svg").is_file() and (out / f"tasks_vs_{key}.png").is_file()
    bad = CliRunner().invoke(main, ["report", str(stored), "--out", str(out), "--x", "heads"])
    assert bad.exit_code != 0 and "'heads' is not a cost" in bad.output
