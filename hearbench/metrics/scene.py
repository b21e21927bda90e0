"""Scene (clip-level) metrics, as heareval computes them.

Each function takes ``predictions`` ``(n, C)`` (probabilities or scores) and ``targets``
``(n, C)`` (one-hot or multi-hot) and returns a float; ``*_hits`` give the per-item values of
the metrics that are their mean. scikit-learn and scipy are imported when first used.
"""

from __future__ import annotations

import numpy as np


def _check(predictions: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predictions, dtype=np.float64)
    t = np.asarray(targets)
    if p.ndim != 2 or t.shape != p.shape:
        raise ValueError(f"predictions {p.shape} and targets {t.shape} must both be (n, C)")
    if p.shape[0] == 0:
        raise ValueError("no items to score")
    return p, t


def top1_hits(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per item, 1.0 when the arg-max prediction is the arg-max target, else 0.0."""
    p, t = _check(predictions, targets)
    return (p.argmax(axis=1) == t.argmax(axis=1)).astype(np.float64)


def chroma_hits(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per item, 1.0 when the arg-max classes agree modulo 12 (octave errors forgiven)."""
    p, t = _check(predictions, targets)
    return (p.argmax(axis=1) % 12 == t.argmax(axis=1) % 12).astype(np.float64)


def top1_acc(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of items whose arg-max prediction is the arg-max target."""
    p, t = _check(predictions, targets)
    return float(np.mean(p.argmax(axis=1) == t.argmax(axis=1)))


def pitch_acc(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Top-1 accuracy over pitch classes (heareval's name for NSynth pitch)."""
    return top1_acc(predictions, targets)


def chroma_acc(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Top-1 accuracy that forgives octave errors: class indices compared modulo 12."""
    p, t = _check(predictions, targets)
    return float(np.mean(p.argmax(axis=1) % 12 == t.argmax(axis=1) % 12))


def mean_average_precision(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Macro-averaged average precision (scikit-learn's, as heareval)."""
    from sklearn.metrics import average_precision_score

    p, t = _check(predictions, targets)
    return float(average_precision_score(t, p, average="macro"))


def aucroc(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Macro ROC-AUC; NaN when a class has only one target value (as heareval)."""
    from sklearn.metrics import roc_auc_score

    p, t = _check(predictions, targets)
    try:
        return float(roc_auc_score(t, p, average="macro"))
    except ValueError:
        return float("nan")


def d_prime(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Mean over classes of ``sqrt(2) * Phi^-1(AUC)``; NaN where AUC is undefined."""
    from scipy import stats
    from sklearn.metrics import roc_auc_score

    p, t = _check(predictions, targets)
    try:
        auc = roc_auc_score(t, p, average=None)
    except ValueError:
        return float("nan")
    return float(np.mean(stats.norm().ppf(auc) * np.sqrt(2.0)))
