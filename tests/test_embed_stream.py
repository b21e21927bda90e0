"""Embedding a split streams its clips: what waits for a batch is bounded by a sample count."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from hearbench.embed import MAX_BATCH_SAMPLES, _batches


def test_batches_hold_a_bounded_number_of_samples() -> None:
    lengths = [16000 * (1 + i % 7) for i in range(200)] + [9_600_000] * 3
    read: list[int] = []
    held_peak = 0
    out: list[str] = []

    def clips() -> Iterator[tuple[str, np.ndarray]]:
        for i, n in enumerate(lengths):
            read.append(n)
            yield f"c{i}", np.zeros(n, np.float32)

    for batch in _batches(clips(), batch_size=16, max_pending=2_000_000):
        held = sum(read) - sum(lengths[int(name[1:])] for name in out)
        held_peak = max(held_peak, held)
        assert len({clip.shape[0] for _, clip in batch}) == 1
        n = batch[0][1].shape[0]
        assert len(batch) <= max(1, min(16, MAX_BATCH_SAMPLES // n))
        out.extend(name for name, _ in batch)
    assert sorted(out) == sorted(f"c{i}" for i in range(len(lengths)))
    # never more than the budget plus the clip just read
    assert held_peak <= 2_000_000 + 9_600_000


def test_fixed_length_clips_batch_in_file_order() -> None:
    clips = ((f"c{i:02d}", np.full(16000, i, np.float32)) for i in range(40))
    batches = [[name for name, _ in b] for b in _batches(clips, batch_size=16)]
    assert batches == [[f"c{i:02d}" for i in range(s, min(s + 16, 40))] for s in (0, 16, 32)]
