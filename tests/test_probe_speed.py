"""The plain MLP loop's speed-ups change nothing: it equals the straightforward loop bit for bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from test_probe_progress import _data, _objective

from hearbench.probes.base import ProbeData
from hearbench.probes.mlp import MLPProbe
from hearbench.probes.mlp_net import SUMMARY_BATCH, build_spec_mlp
from hearbench.probes.stopping import EarlyStopping
from hearbench.probes.torch_utils import draw_loader_seed, logit_loss, seed_everything


def test_foreach_adam_equals_the_default_adam_on_the_cpu() -> None:
    shapes = [(64, 24), (64,), (64,), (64,), (5, 64), (5,)]

    def run(foreach: bool | None) -> list[torch.Tensor]:
        generator = torch.Generator().manual_seed(1)
        params = [torch.randn(s, generator=generator).requires_grad_() for s in shapes]
        optimizer = torch.optim.Adam(params, lr=3.2e-3, foreach=foreach)
        for _ in range(50):
            for p in params:
                p.grad = torch.randn(p.shape, generator=generator) * 10 ** torch.randint(-6, 2, (), generator=generator)
            optimizer.step()
        return [p.detach() for p in params]

    for a, b in zip(run(None), run(True), strict=True):
        assert torch.equal(a, b)


def _straightforward_fit(probe: MLPProbe, train: ProbeData, valid: ProbeData, objective) -> tuple[float, int, dict]:  # type: ignore[no-untyped-def]
    """heareval's loop as written before the speed-ups: default Adam, per-step target arg-max."""
    X, Y = torch.from_numpy(train.X), torch.from_numpy(train.Y)
    model = build_spec_mlp(probe, X.shape[1], Y.shape[1])
    torch.rand(SUMMARY_BATCH, X.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=probe.lr)
    stopping: EarlyStopping[dict] = EarlyStopping(objective, probe.patience)
    for epoch in range(probe.max_epochs):
        draw_loader_seed()
        model.train()
        for start in range(0, X.shape[0], probe.batch_size):
            stop = min(start + probe.batch_size, X.shape[0])
            if stop - start < 2:
                continue
            optimizer.zero_grad()
            loss = logit_loss(model(X[start:stop]), Y[start:stop], probe.prediction_type)
            loss.backward()
            optimizer.step()
        if (epoch + 1) % probe.check_val_every_n_epoch:
            continue
        draw_loader_seed()
        model.eval()
        with torch.no_grad():
            probs = torch.softmax(model(torch.from_numpy(valid.X)), dim=-1).numpy()
        score, info = objective.evaluate(probs)
        if stopping.check(score, info, epoch, lambda: copy.deepcopy(model.state_dict())):
            break
    assert stopping.best_state is not None
    return stopping.best_score, stopping.best_epoch, stopping.best_state


@pytest.mark.parametrize("patience", [2, 20])
def test_plain_grid_equals_the_straightforward_loop_bit_for_bit(patience: int) -> None:
    train, valid = _data(50, 1), _data(24, 2)
    points = MLPProbe.param_grid(max_epochs=24, hidden_dim=32, patience=patience, batch_size=16)
    seen: list[float] = []
    seed_everything(42)
    probes = MLPProbe.fit_grid(points, train, valid, _objective(valid, seen), {"prediction_type": "multiclass"})
    after = torch.get_rng_state()
    reference: list[float] = []
    seed_everything(42)
    for point, probe in zip(points, probes, strict=True):
        score, epoch, state = _straightforward_fit(
            MLPProbe(prediction_type="multiclass", **point), train, valid, _objective(valid, reference)
        )
        assert (probe.valid_score_, probe.best_epoch_) == (score, epoch)
        assert probe.model_ is not None
        for name, value in probe.model_.state_dict().items():
            assert torch.equal(value, state[name]), name
    assert seen == reference
    assert torch.equal(after, torch.get_rng_state())
    assert len({p.best_epoch_ for p in probes}) > 1 or patience == 20
    np.testing.assert_array_equal(np.float32(seen), np.float32(reference))
