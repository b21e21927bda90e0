"""The sequence-head family: grid, padding, context, cost, and training on the real event task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_sequence_probe import accuracy, accuracy_objective, clip, delay_task

from hearbench.api import HearbenchError
from hearbench.complexity.head import head_complexity
from hearbench.probes import resolve_probe_options
from hearbench.probes.base import ProbeData
from hearbench.probes.sequence import SequenceProbe
from hearbench.probes.sequence_nets import HEADS

CONTEXT_HEADS = ("bigru", "transformer", "tcn")


@pytest.fixture(scope="module")
def toy() -> tuple[ProbeData, ProbeData, ProbeData]:
    return delay_task(48, 0), delay_task(16, 1), delay_task(16, 2)


@pytest.fixture(scope="module")
def fitted(toy: tuple[ProbeData, ProbeData, ProbeData]) -> dict[str, SequenceProbe]:
    train, valid, _ = toy
    out = {}
    for head in HEADS:
        probe = SequenceProbe(
            prediction_type="multilabel", head=head, d_model=32, layers=2, lr=1e-2,
            max_epochs=30, check_every=3, patience=4, dropout=0.0,
        )
        out[head] = probe.fit(train, valid, accuracy_objective(valid))
    return out


def test_grid_and_options() -> None:
    grid = SequenceProbe.param_grid(head=["bigru", "tcn", "linear"], d_model=[64, 128], lr=1e-3)
    assert [(p["head"], p["d_model"]) for p in grid] == [("bigru", 64), ("tcn", 64), ("linear", 128), ("bigru", 128), ("tcn", 128)]
    assert resolve_probe_options("sequence", {"head": "transformer", "layers": "2"}) == {"head": "transformer", "layers": 2}
    with pytest.raises(HearbenchError, match="head"):
        resolve_probe_options("sequence", {"head": "lstm"})
    with pytest.raises(HearbenchError, match="layers"):
        resolve_probe_options("sequence", {"layers": 0})
    with pytest.raises(HearbenchError, match="attention heads"):
        SequenceProbe(head="transformer", d_model=70)  # 2 heads of 35
    with pytest.raises(HearbenchError, match="even"):
        SequenceProbe(head="bigru", d_model=33)


@pytest.mark.parametrize("head", HEADS)
def test_padding_never_changes_a_clips_predictions(
    fitted: dict[str, SequenceProbe], toy: tuple[ProbeData, ProbeData, ProbeData], head: str
) -> None:
    test = toy[2]
    assert test.offsets is not None
    together = fitted[head].predict_proba(test)
    for i in range(len(test.offsets) - 1):
        rows = slice(int(test.offsets[i]), int(test.offsets[i + 1]))
        np.testing.assert_allclose(together[rows], fitted[head].predict_proba(clip(test, i)), rtol=0, atol=1e-5)


def test_context_heads_learn_what_frame_wise_heads_cannot(
    fitted: dict[str, SequenceProbe], toy: tuple[ProbeData, ProbeData, ProbeData]
) -> None:
    test = toy[2]
    scores = {head: accuracy(probe.predict_proba(test), test) for head, probe in fitted.items()}
    for head in CONTEXT_HEADS:
        assert scores[head] > 0.9, scores
    for head in ("mlp", "linear"):
        assert scores[head] < 0.65, scores


@pytest.mark.parametrize("head", HEADS)
def test_head_cost_is_the_trained_networks(fitted: dict[str, SequenceProbe], head: str) -> None:
    probe = fitted[head]
    cost = head_complexity(probe, 4, 200, 10.0)
    assert cost.params == sum(p.numel() for p in probe.model_.parameters()) > 0
    if head == "linear":
        assert cost.params == 4 * 2 + 2 and cost.macs_per_second == 4 * 2 * 20.0
    else:
        assert cost.macs_per_second > (4 * 32 + 32 * 2) * 20.0


@pytest.mark.slow
def test_each_head_trains_on_the_real_event_task(data_dir: Path, tmp_path: Path) -> None:
    from hearbench import create_embedder
    from hearbench.cache import EmbeddingCache
    from hearbench.runner import evaluate
    from hearbench.tasks.builders import BUILDERS
    from hearbench.tasks.format import load_task

    report = BUILDERS["events-csv"].build(data_dir / "events", tmp_path / "events", progress=False)
    task = load_task(report.path)
    embedder = create_embedder("baseline")
    cache = EmbeddingCache(tmp_path / "cache")
    measured: dict[str, dict[str, Any]] = {}
    for head in HEADS:
        options = {"head": head, "d_model": 64, "layers": 2, "lr": 1e-3, "max_epochs": 30, "check_every": 5, "points": 1}
        result = evaluate(embedder, task, "sequence", cache=cache, probe_options=options,
                          complexity={"params": 0, "macs_per_second": 1.0}, progress=False)
        assert result.probe["params"]["head"] == head
        assert result.complexity is not None
        measured[head] = {
            "onset_f": result.scores["event_onset_200ms_fms"].mean,
            "psds1": result.scores["psds1"].mean,
            "head_params": result.complexity["head_params"],
        }
    print(measured)
    for head, figures in measured.items():
        assert figures["onset_f"] > 0.2, (head, measured)
        assert np.isfinite(figures["psds1"]), (head, measured)
