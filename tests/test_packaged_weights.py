"""The mn04_as checkpoint shipped with the package: used offline when no other copy exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearbench.api import HearbenchError
from hearbench.registry import all_cards
from hearbench.weights import Checkpoint, resolve_weights, sha256_file


def test_shipped_mn04_as_is_the_official_checkpoint(tmp_path: Path, reference_dir: Path) -> None:
    card = all_cards()["mn04_as"]
    assert card.checkpoint is not None
    path = resolve_weights("mn04_as", card.checkpoint, None, cache_dir=tmp_path)
    assert "packaged_weights" in str(path)
    assert sha256_file(path) == card.checkpoint.sha256
    assert path.read_bytes() == (reference_dir / "weights" / "mn04_as.pt").read_bytes()
    assert (path.parent / "LICENSE-EfficientAT.md").read_text().count("Copyright (c) 2022 Florian Schmid") == 1


def test_cached_copy_wins_over_the_shipped_one(tmp_path: Path, reference_dir: Path) -> None:
    card = all_cards()["mn04_as"]
    assert card.checkpoint is not None
    cached = tmp_path / card.checkpoint.filename
    cached.write_bytes((reference_dir / "weights" / "mn04_as.pt").read_bytes())
    assert resolve_weights("mn04_as", card.checkpoint, None, cache_dir=tmp_path) == cached


def test_shipped_file_with_another_checksum_is_not_used(tmp_path: Path) -> None:
    card = all_cards()["mn04_as"]
    assert card.checkpoint is not None
    other = Checkpoint(
        url=(tmp_path / "absent.pt").as_uri(), filename=card.checkpoint.filename, sha256="0" * 64
    )
    with pytest.raises(HearbenchError, match="weights not found at"):
        resolve_weights("mn04_as", other, None, cache_dir=tmp_path)


def test_mn04_as_runs_offline_from_the_shipped_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from hearbench import create_embedder

    monkeypatch.setenv("HEARBENCH_WEIGHTS", str(tmp_path))
    embedder = create_embedder("mn04_as")
    card = all_cards()["mn04_as"]
    assert card.checkpoint is not None
    assert embedder.config.pretrained and embedder.config.weights_sha256 == card.checkpoint.sha256
    scene = embedder.scene_embeddings(torch.zeros(1, 32000))
    assert scene.shape == (1, embedder.scene_embedding_size) and torch.isfinite(scene).all()
