"""Scene metrics against scikit-learn and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score

from hearbench.api import HearbenchError
from hearbench.metrics import EVENT_METRICS, METRICS, SCENE_METRICS, get_metric, metric_names
from hearbench.metrics.scene import (
    aucroc,
    chroma_acc,
    d_prime,
    mean_average_precision,
    pitch_acc,
    top1_acc,
)


def one_hot(labels: list[int], n: int) -> np.ndarray:
    out = np.zeros((len(labels), n))
    out[np.arange(len(labels)), labels] = 1
    return out


def test_top1_hand_worked() -> None:
    preds = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2]])
    targets = one_hot([1, 0, 1, 1], 3)
    # rows 0 and 1 right, row 2 wrong, row 3 ties break to the first index (0): wrong
    assert top1_acc(preds, targets) == pytest.approx(0.5)
    assert pitch_acc(preds, targets) == pytest.approx(0.5)


def test_chroma_forgives_octaves() -> None:
    preds = np.zeros((3, 24))
    preds[0, 14] = 1  # predicts 14, target 2: same chroma
    preds[1, 5] = 1  # predicts 5, target 5
    preds[2, 7] = 1  # predicts 7, target 8
    targets = one_hot([2, 5, 8], 24)
    assert chroma_acc(preds, targets) == pytest.approx(2 / 3)
    assert top1_acc(preds, targets) == pytest.approx(1 / 3)


@pytest.mark.parametrize("seed", range(20))
def test_against_sklearn_random(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, c = 60, 5
    targets = (rng.random((n, c)) < 0.3).astype(int)
    targets[0] = 1
    targets[1] = 0
    preds = rng.random((n, c))
    assert mean_average_precision(preds, targets) == pytest.approx(
        average_precision_score(targets, preds, average="macro")
    )
    assert aucroc(preds, targets) == pytest.approx(roc_auc_score(targets, preds, average="macro"))
    expected_d = np.mean(stats.norm.ppf(roc_auc_score(targets, preds, average=None)) * np.sqrt(2))
    assert d_prime(preds, targets) == pytest.approx(expected_d)
    labels = rng.integers(0, c, n)
    mc_targets = one_hot(list(labels), c)
    assert top1_acc(preds, mc_targets) == pytest.approx(accuracy_score(labels, preds.argmax(1)))


def test_d_prime_hand_worked() -> None:
    # one class, AUC = 0.75 (3 of 4 positive/negative pairs ordered right)
    preds = np.array([[0.9], [0.4], [0.6], [0.1]])
    targets = np.array([[1], [1], [0], [0]])
    assert aucroc(preds, targets) == pytest.approx(0.75)
    assert d_prime(preds, targets) == pytest.approx(np.sqrt(2) * stats.norm.ppf(0.75))


def test_undefined_auc_is_nan_like_heareval() -> None:
    preds = np.array([[0.2, 0.8], [0.6, 0.4]])
    targets = np.array([[1, 0], [1, 0]])  # second class never positive, first never negative
    # scikit-learn says so, as it does under heareval
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present"):
        assert np.isnan(aucroc(preds, targets))
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present"):
        assert np.isnan(d_prime(preds, targets))


def test_registry_and_direction() -> None:
    assert set(SCENE_METRICS) == {"top1_acc", "pitch_acc", "chroma_acc", "mAP", "aucroc", "d_prime"}
    assert all(m.higher_is_better for m in SCENE_METRICS.values())
    with pytest.raises(HearbenchError, match="unknown"):
        get_metric("nope")


def test_one_registry_for_every_metric() -> None:
    from hearbench.tasks.format import ALL_METRICS

    assert metric_names() == tuple(METRICS)
    assert metric_names("frames") == ("psds1", "psds2", "segment_1s_pauroc")
    assert metric_names("scene") + metric_names("event") == ALL_METRICS
    assert ALL_METRICS == (
        "top1_acc",
        "pitch_acc",
        "chroma_acc",
        "mAP",
        "d_prime",
        "aucroc",
        "event_onset_200ms_fms",
        "event_onset_50ms_fms",
        "event_onset_offset_50ms_20perc_fms",
        "segment_1s_er",
    )
    assert {n: METRICS[n] for n in ALL_METRICS} == {**SCENE_METRICS, **EVENT_METRICS}
    assert not set(SCENE_METRICS) & set(EVENT_METRICS)
    assert [n for n, m in METRICS.items() if not m.higher_is_better] == ["segment_1s_er"]
    assert get_metric("segment_1s_er", "event").kind == "event"
    with pytest.raises(HearbenchError, match="'top1_acc' is not of kind 'event'; choose from event_onset_200ms_fms"):
        get_metric("top1_acc", "event")


def test_per_item_scores_average_to_the_metric() -> None:
    rng = np.random.default_rng(3)
    itemwise = [n for n, m in METRICS.items() if m.per_item is not None]
    assert itemwise == ["top1_acc", "pitch_acc", "chroma_acc"]
    for seed in range(20):
        preds = rng.random((30, 25))
        targets = one_hot(list(rng.integers(0, 25, 30)), 25)
        for name in itemwise:
            metric = get_metric(name)
            values = metric.item_scores(preds, targets)
            assert values is not None and values.shape == (30,) and set(values) <= {0.0, 1.0}
            assert values.mean() == metric(preds, targets), (seed, name)
    assert get_metric("mAP").item_scores(preds, targets) is None
