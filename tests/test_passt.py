"""PaSST: the network against the original outputs, the hear21passt method, and token mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import ref_err

from hearbench.api import HearbenchError
from hearbench.embedders.passt import PasstEmbedder, ms_to_samples
from hearbench.frontend import MelFrontend
from hearbench.models.passt import PaSST
from hearbench.registry import EmbedderCard, all_cards, create_embedder
from hearbench.testing import check_embedder
from hearbench.weights import load_state_dict, load_strict

SMALL: dict[str, Any] = {"embed_dim": 192, "depth": 4, "num_heads": 3}
TINY: dict[str, Any] = {"embed_dim": 32, "depth": 2, "num_heads": 2}
CLIPS = ("short_fsdd_1_lucas_20", "exact10s_us8k_concat", "4s_us8k_car_horn")
TOL = 1e-4
COMBINED_800 = "logits+features@800ms"


def _wave(int16: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(int16.astype(np.float32) / 32768)


@pytest.fixture(scope="module")
def small_weights(reference_dir: Path) -> Path:
    return reference_dir / "weights" / "passt_small_random_seed0.pt"


@pytest.fixture(scope="module")
def small_net(small_weights: Path) -> PaSST:
    net = PaSST(**SMALL).eval()
    load_strict(net, load_state_dict(small_weights), str(small_weights))
    return net


@pytest.fixture(scope="module")
def passt_small(reference_dir: Path) -> Any:
    return np.load(reference_dir / "passt_small.npz")


@pytest.fixture(scope="module")
def hear_inputs(reference_dir: Path) -> dict[str, torch.Tensor]:
    data = np.load(reference_dir / "hear_inputs.npz")
    return {"batch": _wave(data["batch_wav_int16"]), "long": _wave(data["long_wav_int16"])}


def _small(name: str, weights: Path, **options: Any) -> PasstEmbedder:
    return PasstEmbedder(
        card=EmbedderCard(name, "passt"), options={**SMALL, **options}, weights=weights
    )


def _assert_evenly_spaced(stamps: torch.Tensor, n_samples: int) -> None:
    steps = torch.diff(stamps.double(), dim=-1)
    assert float(stamps.min()) >= 0.0
    assert float(stamps.max()) <= n_samples / 32.0
    if steps.numel():
        assert float((steps - steps[0, 0]).abs().max()) < 1e-3
        assert float(steps.min()) > 0


@pytest.mark.parametrize("clip", CLIPS)
def test_network_reproduces_original(clip: str, small_net: PaSST, passt_small: Any) -> None:
    ref = {key.split("__", 1)[1]: passt_small[key] for key in passt_small if key.startswith(clip)}
    with torch.inference_mode():
        mel = MelFrontend()(_wave(ref["wav_int16"]))
        tokens, kept = small_net.forward_blocks(mel, keep=range(4))
        features = small_net.features(tokens)
        got = {
            "mel": mel,
            "patch_embed": small_net.patch_embed(mel.unsqueeze(1)),
            "tokens_in": small_net.embed(mel),
            **{f"tokens_block{i}": kept[i] for i in range(4)},
            "tokens_norm": small_net.norm(tokens[:, :2]),
            "features": features,
            "logits": small_net.logits(features),
        }
    assert set(got) == set(ref) - {"wav_int16"}
    for name, value in got.items():
        assert ref_err(value, ref[name]) <= TOL, name


def test_network_batch(small_net: PaSST, passt_small: Any) -> None:
    first = _wave(passt_small["4s_us8k_car_horn__wav_int16"])
    second = _wave(passt_small["exact10s_us8k_concat__wav_int16"])[:, :128000]
    with torch.inference_mode():
        mel = MelFrontend()(torch.cat([first, second]))
        logits, features = small_net(mel)
    assert ref_err(mel, passt_small["batch__mel"]) <= TOL
    assert ref_err(features, passt_small["batch__features"]) <= TOL
    assert ref_err(logits, passt_small["batch__logits"]) <= TOL


@pytest.mark.parametrize(
    ("module", "options"),
    [
        ("base", {}),
        ("base2level", {"levels": [160, 800]}),
        ("base2levelmel", {"levels": "160,640", "mel": True}),
    ],
)
def test_hear21passt_wrappers(
    module: str,
    options: dict[str, Any],
    small_weights: Path,
    hear_inputs: dict[str, torch.Tensor],
    reference_dir: Path,
) -> None:
    ref = np.load(reference_dir / "hear_passt_small.npz")
    embedder = _small(module, small_weights, **options)
    embeddings, stamps = embedder.timestamp_embeddings(hear_inputs["batch"])
    assert embeddings.shape[-1] == embedder.timestamp_embedding_size
    assert ref_err(embeddings, ref[f"{module}__ts_embeddings"]) <= TOL
    assert stamps.dtype == torch.float32
    np.testing.assert_array_equal(stamps.numpy(), ref[f"{module}__timestamps"])
    scene = embedder.scene_embeddings(hear_inputs["batch"])
    assert scene.shape[-1] == embedder.scene_embedding_size
    assert ref_err(scene, ref[f"{module}__scene_embeddings"]) <= TOL
    long_scene = embedder.scene_embeddings(hear_inputs["long"])
    assert ref_err(long_scene, ref[f"{module}__long_scene_embeddings"]) <= TOL


def test_batched_windows_equal_window_loop(small_weights: Path, small_net: PaSST) -> None:
    audio = torch.randn(2, 9000, generator=torch.Generator().manual_seed(3)) * 0.3
    embedder = _small("loop", small_weights, window_ms=200, hop_ms=40)
    batched, stamps = embedder.timestamp_embeddings(audio)
    window, hop = ms_to_samples(200), ms_to_samples(40)
    padded = torch.nn.functional.pad(audio[:, None], (window // 2,) * 2, mode="reflect")[:, 0]
    frontend = MelFrontend()
    with torch.inference_mode():
        rows = [
            torch.cat(small_net(frontend(padded[:, i * hop : i * hop + window])), dim=1)
            for i in range(audio.shape[1] // hop + 1)
        ]
    np.testing.assert_allclose(batched, torch.stack(rows, dim=1), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(stamps[0].numpy(), np.arange(len(rows)) * 40.0)


def test_full_size_state_dict_matches_official_keys(reference_dir: Path) -> None:
    for keys_file, options in (
        ("passt_s_swa_p16_128_ap476.json", {}),
        ("passt_small_seed0.json", SMALL),
    ):
        expected = json.loads((reference_dir / "keys" / keys_file).read_text())["state_dict"]
        with torch.device("meta"):
            net = PaSST(**options)
        got = {name: list(t.shape) for name, t in net.state_dict().items()}
        assert list(got) == list(expected)
        assert got == {name: entry["shape"] for name, entry in expected.items()}
    with torch.device("meta"):
        params = sum(p.numel() for p in PaSST().parameters())
    assert abs(params - 86.1e6) / 86.1e6 < 0.01


def test_cards_build_and_announce_their_widths() -> None:
    cards = [card for card in all_cards().values() if card.family == "passt"]
    assert {"passt_base", "passt_base2levelmel", "passt_base30sec", "passt_tokens"} <= {
        card.name for card in cards
    }
    audio = torch.randn(2, 16000, generator=torch.Generator().manual_seed(0)) * 0.1
    for card in cards:
        full = {k: v for k, v in card.options.items() if k in ("input_tdim", "embed_dim", "depth", "num_heads")}
        with torch.device("meta"):
            params = sum(p.numel() for p in PaSST(**full).parameters())
        assert params == card.reference["params"], card.name
        if card.name != "passt_small":
            assert card.checkpoint is not None
            assert card.checkpoint.url.startswith("https://github.com/kkoutini/PaSST/releases/")
        embedder = create_embedder(card.name, pretrained=False, **TINY)
        assert not embedder.config.pretrained
        embeddings, stamps = embedder.timestamp_embeddings(audio)
        assert embeddings.shape[::2] == (2, embedder.timestamp_embedding_size), card.name
        assert stamps.shape == embeddings.shape[:2]
        _assert_evenly_spaced(stamps, audio.shape[1])
        assert embedder.scene_embeddings(audio).shape == (2, embedder.scene_embedding_size)


def test_layer_info_and_selection(small_weights: Path) -> None:
    window = _small("w", small_weights)
    names = [info.name for info in window.layer_info()]
    assert names == [*(f"block{i}" for i in range(4)), "features", "logits", "logits+features"]
    assert [info.width for info in window.layer_info()][-3:] == [192, 527, 719]
    assert window.config.options["layers"] == ["logits+features"]
    two = _small("w", small_weights, levels="160,800", mel=True)
    assert [info.name for info in two.layer_info()][-3:] == ["logits@800ms", COMBINED_800, "mel"]
    assert two.config.options["layers"] == ["logits+features", COMBINED_800, "mel"]
    picked = _small("w", small_weights, layers="block1,-1,block1@800ms,logits", levels="160,800")
    assert picked.config.options["layers"] == ["block1", COMBINED_800, "block1@800ms", "logits"]
    assert picked.timestamp_embedding_size == 192 + 719 + 192 + 527
    assert picked.scene_embedding_size == 192 + 719 + 527
    audio = torch.randn(1, 8000, generator=torch.Generator().manual_seed(1)) * 0.1
    embeddings, _ = picked.timestamp_embeddings(audio)
    assert embeddings.shape[-1] == picked.timestamp_embedding_size
    assert picked.scene_embeddings(audio).shape[-1] == picked.scene_embedding_size
    combined, _ = _small("w", small_weights, levels="160,800").timestamp_embeddings(audio)
    torch.testing.assert_close(embeddings[..., 192 : 192 + 719], combined[..., 719:])
    torch.testing.assert_close(embeddings[..., -527:], combined[..., :527])
    tokens = _small("t", small_weights, mode="tokens", layers=2)
    assert [info.name for info in tokens.layer_info()][-2:] == ["features", "logits"]
    assert tokens.config.options["layers"] == ["features", "logits"]
    assert tokens.layer_info()[0].hop_ms == 100.0 and tokens.layer_info()[-1].hop_ms is None


@pytest.mark.parametrize("name", ["passt_base2levelmel", "passt_tokens"])
def test_contract_checks_pass(name: str) -> None:
    embedder = create_embedder(name, pretrained=False, hop_ms=200, **TINY)
    report = check_embedder(embedder, long_seconds=12)
    assert report.passed, report.format()


@pytest.mark.parametrize(
    "options",
    [
        {"colour": "red"},
        {"mode": "frames"},
        {"hop_ms": "native"},
        {"levels": [160, 800], "mode": "tokens"},
        {"window_ms": 100},
        {"max_seconds": 11},
        {"layers": "block7"},
        {"depth": "two"},
        {"mel": 5},
        {"layers": "mel", "mel": True},
        {"chunk_context_ms": 500},
        {"chunk_context_ms": -1, "mode": "tokens"},
    ],
)
def test_bad_options_raise(options: dict[str, Any]) -> None:
    with pytest.raises(HearbenchError, match=str(next(iter(options))).replace("colour", "known")):
        create_embedder("passt_base", pretrained=False, **{**TINY, **options})


def test_random_weights_are_explicit_and_reproducible(small_weights: Path) -> None:
    first, second = (create_embedder("passt_base", pretrained=False, **TINY) for _ in range(2))
    assert first.config.weights_sha256 is None and not first.config.pretrained
    assert isinstance(first, PasstEmbedder) and isinstance(second, PasstEmbedder)
    for a, b in zip(first.net.state_dict().values(), second.net.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(HearbenchError, match="pretrained=False"):
        create_embedder("passt_base", small_weights, False, **SMALL)
    loaded = create_embedder("passt_base", weights=small_weights, **SMALL)
    assert loaded.config.weights_sha256 is not None and loaded.config.pretrained


def test_tokens_single_pass_equals_network(small_weights: Path, passt_small: Any) -> None:
    clip = "exact10s_us8k_concat"
    audio = _wave(passt_small[f"{clip}__wav_int16"])
    embedder = _small(
        "tok", small_weights, mode="tokens", hop_ms="native", layers="block3,features"
    )
    frames, stamps = embedder.timestamp_embeddings(audio)
    block3 = passt_small[f"{clip}__tokens_block3"][:, 2:].reshape(1, 12, 99, 192).mean(axis=1)
    assert ref_err(frames[..., :192], block3) <= TOL
    assert ref_err(frames[0, :, 192:], np.repeat(passt_small[f"{clip}__features"], 99, 0)) <= TOL
    np.testing.assert_array_equal(stamps[0].numpy(), 75.0 + 100.0 * np.arange(99))
    scene = embedder.scene_embeddings(audio)
    assert ref_err(scene[:, 192:], passt_small[f"{clip}__features"]) <= TOL


@pytest.mark.parametrize("hop_ms", [20, 50, 250, "native"])
def test_tokens_timestamps_evenly_spaced(hop_ms: Any, small_weights: Path) -> None:
    embedder = _small("tok", small_weights, mode="tokens", hop_ms=hop_ms, layers="0,2,-1")
    assert embedder.timestamp_embedding_size == 192 * 2 + 527
    for n_samples in (1000, 4801, 99999):
        audio = torch.randn(2, n_samples, generator=torch.Generator().manual_seed(n_samples))
        frames, stamps = embedder.timestamp_embeddings(audio * 0.1)
        assert frames.shape[::2] == (2, embedder.timestamp_embedding_size)
        assert stamps.shape == frames.shape[:2] and stamps.dtype == torch.float32
        _assert_evenly_spaced(stamps, n_samples)
        if hop_ms != "native":
            assert stamps.shape[1] == n_samples // ms_to_samples(float(hop_ms)) + 1


@pytest.mark.parametrize(("context", "step"), [(None, 79), ("2500", 49)])
def test_tokens_long_clip_is_stitched_without_seams(
    small_weights: Path,
    small_net: PaSST,
    hear_inputs: dict[str, torch.Tensor],
    context: str | None,
    step: int,
) -> None:
    # chunks of 99 patches overlap by twice chunk_context_ms (1 s = 10 patches by default),
    # at most by half a chunk
    audio = torch.cat([hear_inputs["long"][:1], hear_inputs["long"][1:, :416000]], dim=1)
    extra = {} if context is None else {"chunk_context_ms": context}
    embedder = _small("tok", small_weights, mode="tokens", hop_ms="native", layers="block2", **extra)
    frames, stamps = embedder.timestamp_embeddings(audio)
    n_patches = (audio.shape[1] // 320 + 1 - 16) // 10 + 1
    assert frames.shape == (1, n_patches, 192)
    np.testing.assert_array_equal(stamps[0].numpy(), 75.0 + 100.0 * np.arange(n_patches))
    starts = [*range(0, n_patches - 99, step), n_patches - 99]
    covered = torch.zeros(n_patches, dtype=torch.bool)
    with torch.inference_mode():
        mel = MelFrontend()(audio)
        for start in starts:
            _, kept = small_net.forward_blocks(mel[..., start * 10 : start * 10 + 996], keep={2})
            direct = small_net.patch_tokens(kept[2]).mean(dim=1)[0]
            error = (frames[0, start : start + 99] - direct).abs().amax(dim=-1)
            covered[start : start + 99] |= error <= 1e-5 * float(direct.abs().max())
    assert bool(covered.all())
    first, _ = embedder.timestamp_embeddings(audio[:, :320000])
    assert ref_err(frames[:, :50], first[:, :50]) <= TOL
    scene = embedder.scene_embeddings(audio)
    assert ref_err(scene, frames.mean(dim=1)) <= TOL


def test_short_clips(small_weights: Path) -> None:
    audio = torch.randn(2, 700, generator=torch.Generator().manual_seed(2)) * 0.1
    for options in ({}, {"mode": "tokens"}, {"mode": "tokens", "hop_ms": "native"}):
        embedder = _small("short", small_weights, **options)
        frames, stamps = embedder.timestamp_embeddings(audio)
        assert torch.isfinite(frames).all() and frames.shape[1] == stamps.shape[1] >= 1
        _assert_evenly_spaced(stamps, audio.shape[1])
        assert embedder.scene_embeddings(audio).shape == (2, embedder.scene_embedding_size)
