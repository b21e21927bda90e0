"""A configuration is identified by what it computes, not by the name it was asked for."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, LayerInfo
from hearbench.cache import EmbeddingCache
from hearbench.embed import embed_task
from hearbench.registry import (
    EmbedderCard,
    configuration_id,
    create_embedder,
    get_card,
    identity_name,
    register_card,
)
from hearbench.results import read_results
from hearbench.runner import embedder_id, evaluate
from hearbench.tasks.format import TaskItem, load_task, write_task

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SRC = REPO / "examples" / "hearbench-example-plugin" / "src"
SR = 16000


def tone_task(out: Path, per_split: int = 4) -> Path:
    """A tiny trainvaltest scene task: low or high tones in noise, 0.5 s each."""
    rng = np.random.default_rng(0)
    t = np.arange(SR // 2) / SR
    items = []
    for split in ("train", "valid", "test"):
        for i in range(per_split):
            label = "low" if i % 2 == 0 else "high"
            freq = (300.0 if label == "low" else 2400.0) * (1 + 0.05 * rng.standard_normal())
            audio = 0.5 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.size)
            items.append(TaskItem(split, f"{split}_{i}.wav", audio.astype(np.float32), SR, [label]))
    meta = {
        "task_name": "tones", "version": "1", "embedding_type": "scene",
        "prediction_type": "multiclass", "split_mode": "trainvaltest", "sample_duration": 0.5,
        "evaluation": ["top1_acc"],
    }
    return write_task(out, meta, ["high", "low"], items, [SR])


def test_a_preset_and_its_options_spelled_out_share_cache_entry_and_results_id(
    tmp_path: Path, reference_dir: Path
) -> None:
    weights = reference_dir / "weights" / "mn04_as.pt"
    preset = create_embedder("mn04_as_all", weights=weights)
    layers = ",".join(get_card("mn04_as_all").options["layers"])
    spelled = create_embedder("mn04_as", weights=weights, layers=layers)
    assert preset.config.digest() == spelled.config.digest()
    assert embedder_id(preset) == embedder_id(spelled) == "mn04_as_all"
    task = load_task(tone_task(tmp_path / "tones", per_split=2))
    cache = EmbeddingCache(tmp_path / "cache")
    _, first = embed_task(preset, task, cache, progress=False)
    _, second = embed_task(spelled, task, cache, progress=False)
    assert sorted(first.computed) == ["test", "train", "valid"] and not first.cached
    assert sorted(second.cached) == ["test", "train", "valid"] and not second.computed
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()] == [preset.config.digest()]
    # a preset restated option by option is that preset; another value is another configuration
    assert embedder_id(create_embedder("mn04_as", weights=weights, layers="clf1")) == "mn04_as"
    other = create_embedder("mn04_as", weights=weights, layers="b5")
    assert embedder_id(other) == f"mn04_as-{other.config.digest()[:8]}"


def test_random_weights_variants_share_the_digest_but_never_a_preset_id() -> None:
    a = create_embedder("baseline_mel")
    b = create_embedder("baseline", layers="mel_mean,mel_std")
    assert a.config.digest() == b.config.digest()
    assert embedder_id(a) == embedder_id(b) == "baseline_mel"
    mn = create_embedder("mn04_as_all", pretrained=False)
    spelled = create_embedder("mn04_as", pretrained=False, layers=",".join(get_card("mn04_as_all").options["layers"]))
    assert embedder_id(mn) == embedder_id(spelled) == f"mn04_as-{mn.config.digest()[:8]}"
    assert mn.config.pretrained is False


@pytest.mark.parametrize("folder", ["reference", "sweeps"])
def test_stored_results_keep_their_digests_and_ids(folder: str) -> None:
    results = read_results(REPO / "results" / folder)
    assert results
    for result in results:
        e = result.embedder
        config = EmbedderConfig(
            e["name"], e["options"], e["weights_sha256"], e["pretrained"],
            e.get("precision", "float32"), identity_name(get_card(e["name"])),
        )
        stored = str(e["id"])
        if "-" in stored:
            assert config.digest()[:8] == stored.split("-")[-1]
        assert configuration_id(config) == stored, stored


def _plugin_family() -> str:
    if importlib_find("hearbench_example_plugin") is None:
        sys.path.insert(0, str(EXAMPLE_SRC))
    return "hearbench_example_plugin:LogMelProjection"


def importlib_find(name: str) -> Any:
    import importlib.util

    return importlib.util.find_spec(name)


def test_a_plugin_run_with_two_weights_files_is_two_configurations(tmp_path: Path) -> None:
    family = _plugin_family()
    from hearbench_example_plugin import write_dct_weights

    register_card(EmbedderCard("plugin_under_test", family))
    dct = write_dct_weights(tmp_path / "dct.pt")
    zeros = tmp_path / "zeros.pt"
    torch.save({"weight": torch.zeros(20, 64)}, zeros)
    task = load_task(tone_task(tmp_path / "tones"))
    cache = EmbeddingCache(tmp_path / "cache")
    scores, ids = [], []
    for weights in (dct, zeros, dct):
        embedder = create_embedder("plugin_under_test", weights=weights)
        result = evaluate(embedder, task, "linear", cache=cache, out_dir=tmp_path / "results", progress=False)
        scores.append(result.primary.mean)
        ids.append(result.embedder_id)
        assert result.embedder["weights_sha256"] is not None
    assert ids[0] != ids[1] and ids[0] == ids[2]
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 2
    assert scores[0] == scores[2] == 1.0
    assert scores[1] == 0.5  # zero weights: constant embeddings, one class everywhere
    assert {p.name for p in (tmp_path / "results").iterdir()} == set(ids[:2])


def _hear_module(name: str, with_pretrained: bool) -> types.ModuleType:
    module = types.ModuleType(name)

    class Model(torch.nn.Module):
        sample_rate = SR
        scene_embedding_size = 4
        timestamp_embedding_size = 4

        def __init__(self, pretrained: bool, scale: float) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.full((4,), scale if pretrained else -1.0))

    def get_timestamp_embeddings(audio: torch.Tensor, model: Model) -> tuple[torch.Tensor, torch.Tensor]:
        frames = max(1, audio.shape[1] // 800)
        stamps = (torch.arange(frames) * 50.0 + 25.0).expand(audio.shape[0], -1)
        return model.weight.expand(audio.shape[0], frames, 4), stamps

    def get_scene_embeddings(audio: torch.Tensor, model: Model) -> torch.Tensor:
        return model.weight.expand(audio.shape[0], 4)

    if with_pretrained:
        def load_model(model_file_path: str = "", pretrained: bool = True, scale: float = 1.0) -> Model:
            return Model(pretrained, scale)
    else:
        def load_model(model_file_path: str = "", scale: float = 1.0) -> Model:  # type: ignore[misc]
            return Model(True, scale)
    module.load_model = load_model  # type: ignore[attr-defined]
    module.get_timestamp_embeddings = get_timestamp_embeddings  # type: ignore[attr-defined]
    module.get_scene_embeddings = get_scene_embeddings  # type: ignore[attr-defined]
    return module


def test_hear_modules_honour_or_refuse_random_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hear_with_pretrained", _hear_module("hear_with_pretrained", True))
    monkeypatch.setitem(sys.modules, "hear_without", _hear_module("hear_without", False))
    random = create_embedder("hear:hear_with_pretrained", pretrained=False)
    assert random.config.pretrained is False
    assert float(random.scene_embeddings(torch.zeros(1, SR))[0, 0]) == -1.0
    assert embedder_id(random) != embedder_id(create_embedder("hear:hear_with_pretrained"))
    assert embedder_id(create_embedder("hear:hear_without")) == "hear_hear_without"
    with pytest.raises(HearbenchError, match=r"^hear:hear_without: random weights are not available"):
        create_embedder("hear:hear_without", pretrained=False)


def test_hear_module_options_are_checked_against_load_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hear_without", _hear_module("hear_without", False))
    with pytest.raises(HearbenchError, match=r"^hear:hear_without: unknown option 'scal'; known: scale$"):
        create_embedder("hear:hear_without", scal=2)
    with pytest.raises(HearbenchError, match=r"^hear:hear_without: option 'scale' expects a float, got 'big'$"):
        create_embedder("hear:hear_without", scale="big")
    made = create_embedder("hear:hear_without", scale="2")
    assert made.config.options == {"scale": 2.0}


def test_the_framework_hashes_any_weights_file_whatever_the_family_records(tmp_path: Path) -> None:
    family = _plugin_family()
    from hearbench_example_plugin import write_dct_weights

    register_card(EmbedderCard("plugin_hash", family))
    path = write_dct_weights(tmp_path / "w.pt")
    made = create_embedder("plugin_hash", weights=path)
    from hearbench.weights import sha256_file

    assert made.config.weights_sha256 == sha256_file(path)
    assert os.path.getsize(path) > 0


class ConfigOnly(Embedder):
    """A family written to a wrong constructor signature."""

    sample_rate = SR

    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__(config)

    def layer_info(self) -> tuple[LayerInfo, ...]:
        return (LayerInfo(0, "out", 1, 10.0),)

    def timestamp_embeddings(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def scene_embeddings(self, audio: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def test_a_family_off_the_constructor_contract_gets_one_line() -> None:
    register_card(EmbedderCard("config_only", f"{__name__}:ConfigOnly"))
    with pytest.raises(HearbenchError) as exc:
        create_embedder("config_only")
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(
        f"embedder 'config_only': family {__name__}:ConfigOnly must take (*, card, options, weights, pretrained)"
    )
