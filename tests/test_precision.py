"""The embedding ``precision`` option: autocast as a named option, never the default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hearbench import create_embedder
from hearbench.api import EmbedderConfig, HearbenchError
from hearbench.runner import embedder_id


def test_float32_configs_keep_their_digest() -> None:
    config = create_embedder("baseline").config
    assert config.precision == "float32" and "precision" not in config.to_dict()
    plain = EmbedderConfig(config.name, config.options, config.weights_sha256, config.pretrained)
    assert config.digest() == plain.digest()


def test_bfloat16_is_recorded_and_keys_apart(reference_dir: Path) -> None:
    weights = reference_dir / "weights" / "mn04_as.pt"
    exact = create_embedder("mn04_as", weights=weights)
    fast = create_embedder("mn04_as", weights=weights, precision="bfloat16")
    assert fast.config.to_dict()["precision"] == "bfloat16"
    assert fast.config.digest() != exact.config.digest()
    assert embedder_id(fast) != embedder_id(exact)
    audio = 0.1 * torch.randn(2, 32000, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        reference, stamps = exact.timestamp_embeddings(audio)
        with fast.autocast():
            approx, approx_stamps = fast.timestamp_embeddings(audio)
    assert torch.equal(stamps, approx_stamps)
    error = float((approx.float() - reference).abs().max() / reference.abs().max())
    assert 0 < error < 0.1, error  # bfloat16 keeps 8 mantissa bits through 15 blocks


def test_embed_split_runs_under_the_embedders_precision(us8k_task: Path, tmp_path: Path) -> None:
    from hearbench.embed import embed_split
    from hearbench.tasks.format import load_task

    task = load_task(us8k_task)
    exact = create_embedder("baseline")
    fast = create_embedder("baseline", precision="bfloat16")
    split = task.split_names[-1]
    a = embed_split(exact, task, split, progress=False)
    b = embed_split(fast, task, split, progress=False)
    assert b.embeddings.dtype == np.float32 and a.embeddings.shape == b.embeddings.shape
    # the baseline's projection is a matrix product, which autocast runs in bfloat16
    assert not np.array_equal(a.embeddings, b.embeddings)
    # ...and stays close on the whole (a few near-silent frames' log-mels move more)
    assert float(np.abs(b.embeddings - a.embeddings).mean()) < 0.02 * float(np.abs(a.embeddings).mean())


def test_unknown_precision_is_named() -> None:
    with pytest.raises(HearbenchError, match="precision: expected one of float32, bfloat16, float16, got 'int8'"):
        create_embedder("baseline", precision="int8")
