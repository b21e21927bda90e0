"""EfficientAT MN / DyMN networks and the ``mobilenet`` embedder family against the originals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import ref_err

from hearbench import HearbenchError, create_embedder
from hearbench.embedders import mobilenet as family
from hearbench.embedders.mobilenet import MobileNetEmbedder, mel_frames
from hearbench.frontend import MelFrontend
from hearbench.models.dymn import DyMN
from hearbench.models.mobilenet import MN, TappedNet
from hearbench.registry import EmbedderCard, get_card
from hearbench.weights import Checkpoint, load_state_dict
from hearbench.windowing import reflect_pad

TOL = 1e-4
MN04_SHA = "899a8c6217063f6941793102a2780b3dd788ab11fce468d9cf5f0577c453321c"
CLIPS = ["fsdd_3_jackson_12", "fsdd_7_theo_30", "us8k_dog_bark", "us8k_street_music"]


def _wav(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.astype(np.float32) / 32768)


@pytest.fixture(scope="module")
def mn04_weights(reference_dir: Path) -> Path:
    return reference_dir / "weights" / "mn04_as.pt"


@pytest.fixture(scope="module")
def dymn04_weights(reference_dir: Path) -> Path:
    return reference_dir / "weights" / "dymn04_random_seed0.pt"


@pytest.fixture(scope="module")
def mn04(mn04_weights: Path) -> MN:
    net = MN(width_mult=0.4).eval()
    net.load_state_dict(load_state_dict(mn04_weights))
    return net


@pytest.fixture(scope="module")
def dymn04(dymn04_weights: Path) -> DyMN:
    net = DyMN(width_mult=0.4).eval()
    net.load_state_dict(load_state_dict(dymn04_weights))
    return net


@pytest.fixture(scope="module")
def hear_audio(reference_dir: Path) -> dict[str, torch.Tensor]:
    inputs = np.load(reference_dir / "hear_inputs.npz")
    return {"batch": _wav(inputs["batch_wav_int16"]), "long": _wav(inputs["long_wav_int16"])}


def _check_network(net: TappedNet, ref: Any, clip: str) -> None:
    mel = torch.from_numpy(ref[f"{clip}__mel"])[:, None]
    with torch.inference_mode():
        maps = net.forward_taps(mel, [f"b{i}" for i in range(17)])
        logits, embedding = net(mel)
    for i in range(17):
        assert ref_err(maps[f"b{i}"], ref[f"{clip}__fmap{i:02d}"]) <= TOL, f"fmap{i:02d}"
    assert ref_err(embedding, ref[f"{clip}__embedding"]) <= TOL
    assert ref_err(logits, ref[f"{clip}__logits"]) <= TOL


def _check_batch(net: TappedNet, ref: Any) -> None:
    with torch.inference_mode():
        logits, embedding = net(torch.from_numpy(ref["batch__mel"])[:, None])
    assert ref_err(logits, ref["batch__logits"]) <= TOL
    assert ref_err(embedding, ref["batch__embedding"]) <= TOL


@pytest.mark.parametrize("clip", CLIPS)
def test_mn04_reproduces_efficientat(reference_dir: Path, mn04: MN, clip: str) -> None:
    ref = np.load(reference_dir / "efficientat_mn04_as.npz")
    mel = MelFrontend()(_wav(ref[f"{clip}__wav_int16"]))
    assert ref_err(mel, ref[f"{clip}__mel"]) <= TOL
    _check_network(mn04, ref, clip)


def test_mn04_batch_reproduces_efficientat(reference_dir: Path, mn04: MN) -> None:
    _check_batch(mn04, np.load(reference_dir / "efficientat_mn04_as.npz"))


@pytest.mark.parametrize("clip", CLIPS)
def test_dymn04_reproduces_efficientat(reference_dir: Path, dymn04: DyMN, clip: str) -> None:
    ref = np.load(reference_dir / "efficientat_dymn04_random.npz")
    _check_network(dymn04, ref, clip)
    mel = torch.from_numpy(ref[f"{clip}__mel"])[:, None]
    dymn04.set_temperature(30.0)
    try:
        with torch.inference_mode():
            logits, embedding = dymn04(mel)
    finally:
        dymn04.set_temperature(1.0)
    assert ref_err(logits, ref[f"{clip}__logits_temp30"]) <= TOL
    assert ref_err(embedding, ref[f"{clip}__embedding_temp30"]) <= TOL


def test_dymn04_batch_reproduces_efficientat(reference_dir: Path, dymn04: DyMN) -> None:
    _check_batch(dymn04, np.load(reference_dir / "efficientat_dymn04_random.npz"))


def test_dymn_temperature_option_reaches_every_dynamic_conv(
    reference_dir: Path, dymn04_weights: Path
) -> None:
    ref = np.load(reference_dir / "efficientat_dymn04_random.npz")
    embedder = create_embedder("dymn04_as", weights=dymn04_weights, temperature=30)
    assert isinstance(embedder, MobileNetEmbedder)
    assert embedder.config.options["temperature"] == 30.0
    with torch.inference_mode():
        logits, _ = embedder.net(torch.from_numpy(ref["us8k_dog_bark__mel"])[:, None])
    assert ref_err(logits, ref["us8k_dog_bark__logits_temp30"]) <= TOL


@pytest.mark.parametrize(
    ("mode", "preset"),
    [
        ("clf1", "mn04_as"),
        ("b5_b11_b13_b15_mel", "mn04_as_b5_b11_b13_b15_mel"),
        ("allparts", "mn04_as_all"),
    ],
)
def test_hear_mn_wrapper_reproduced(
    reference_dir: Path,
    mn04_weights: Path,
    hear_audio: dict[str, torch.Tensor],
    mode: str,
    preset: str,
) -> None:
    ref = np.load(reference_dir / "hear_mn_mn04.npz")
    embedder = create_embedder(preset, weights=mn04_weights)
    if f"{mode}__ts_embeddings" in ref:
        embeddings, timestamps = embedder.timestamp_embeddings(hear_audio["batch"])
        assert embeddings.dtype == torch.float32
        assert ref_err(embeddings, ref[f"{mode}__ts_embeddings"]) <= TOL
        np.testing.assert_array_equal(timestamps.numpy(), ref[f"{mode}__timestamps"])
    scene = embedder.scene_embeddings(hear_audio["batch"])
    assert scene.shape[1] == embedder.scene_embedding_size
    assert ref_err(scene, ref[f"{mode}__scene_embeddings"]) <= TOL
    long_scene = embedder.scene_embeddings(hear_audio["long"])
    assert ref_err(long_scene, ref[f"{mode}__long_scene_embeddings"]) <= TOL


@pytest.mark.parametrize(
    ("keys", "arch", "width"),
    [
        ("mn04_as", MN, 0.4),
        ("mn10_as", MN, 1.0),
        ("mn40_as", MN, 4.0),
        ("dymn04_as", DyMN, 0.4),
        ("dymn10_as", DyMN, 1.0),
        ("dymn20_as", DyMN, 2.0),
    ],
)
def test_state_dict_equals_official_keys(
    reference_dir: Path, keys: str, arch: type[TappedNet], width: float
) -> None:
    official = json.loads((reference_dir / "keys" / f"{keys}.json").read_text())["state_dict"]
    with torch.device("meta"):
        net = arch(width_mult=width)  # type: ignore[call-arg]
    ours = [
        (name, list(t.shape), str(t.dtype).removeprefix("torch."))
        for name, t in net.state_dict().items()
    ]
    assert ours == [(name, v["shape"], v["dtype"]) for name, v in official.items()]


@pytest.mark.parametrize("name", ["mn04_as", "mn10_as", "mn40_as", "dymn10_as"])
def test_parameter_count_matches_published(name: str) -> None:
    card = get_card(name)
    arch = {"mn": MN, "dymn": DyMN}[card.options["arch"]]
    with torch.device("meta"):
        net = arch(width_mult=card.options["width_mult"])
    params = sum(p.numel() for p in net.parameters())
    assert abs(params - card.reference["params"]) <= 0.01 * card.reference["params"]


def test_checkpoint_with_wrong_keys_is_rejected(tmp_path: Path, mn04_weights: Path) -> None:
    state = load_state_dict(mn04_weights)
    state.pop("classifier.5.bias")
    state["features.99.weight"] = torch.zeros(1)
    broken = tmp_path / "broken.pt"
    torch.save(state, broken)
    with pytest.raises(HearbenchError) as info:
        create_embedder("mn04_as", weights=broken)
    message = str(info.value)
    assert "classifier.5.bias" in message and "features.99.weight" in message
    assert str(broken) in message


def test_missing_weights_error_says_where_to_put_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARBENCH_WEIGHTS", str(tmp_path / "cache"))
    card = EmbedderCard(
        name="mn04_offline",
        family="mobilenet",
        options={"arch": "mn", "width_mult": 0.4},
        checkpoint=Checkpoint((tmp_path / "absent.pt").as_uri(), "mn04_offline.pt", None),
    )
    with pytest.raises(HearbenchError) as info:
        MobileNetEmbedder(card=card, options=card.options, weights=None, pretrained=True)
    assert str(tmp_path / "cache" / "mn04_offline.pt") in str(info.value)


def test_random_weights_are_recorded() -> None:
    embedder = create_embedder("mn04_as", pretrained=False)
    assert embedder.config.pretrained is False
    assert embedder.config.weights_sha256 is None
    scene = embedder.scene_embeddings(torch.randn(1, 8000) * 0.1)
    assert torch.isfinite(scene).all()


def test_config_records_every_option(mn04_weights: Path) -> None:
    embedder = create_embedder("mn04_as", weights=mn04_weights, layers="5,11,-1")
    config = embedder.config
    assert config.name == "mn04_as"
    assert config.weights_sha256 == MN04_SHA
    assert config.options["layers"] == ["b5", "b11", "logits"]
    assert set(config.options) == {
        "arch",
        "width_mult",
        "n_mels",
        "hop_size",
        "mode",
        "hop_ms",
        "window_ms",
        "scene_window_ms",
        "scene_hop_ms",
        "layers",
        "time_strides",
    }
    assert embedder.torch_module() is not None


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"pooling": "max"}, "known: arch"),
        ({"arch": "resnet"}, "'arch'"),
        ({"mode": "tokens"}, "'mode'"),
        ({"hop_ms": 0.01}, "'hop_ms'"),
        ({"window_ms": -5}, "'window_ms'"),
        ({"time_strides": "2,3,2,2"}, "'time_strides'"),
        ({"temperature": 30}, "'temperature'"),
        ({"layers": "b99"}, "layers"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(HearbenchError, match=needle):
        create_embedder("mn04_as", pretrained=False, **options)


def test_window_mode_batches_equal_a_per_window_loop(mn04_weights: Path) -> None:
    embedder = create_embedder("mn04_as_b5_b11_b13_b15_mel", weights=mn04_weights)
    audio = torch.randn(2, 16000) * 0.1
    embeddings, _ = embedder.timestamp_embeddings(audio)
    padded = reflect_pad(audio, 2560)
    looped = torch.stack(
        [
            embedder.scene_embeddings(padded[:, i * 1600 : i * 1600 + 5120])
            for i in range(embeddings.shape[1])
        ],
        dim=1,
    )
    assert ref_err(embeddings, looped) <= 1e-5


@pytest.mark.parametrize("hop_ms", [10, 20, 25, 50])
def test_frames_mode_timestamps_and_widths(mn04_weights: Path, hop_ms: int) -> None:
    layers = "b2,b5,se13,b15,mel_avgs,clf1,logits"
    embedder = create_embedder(
        "mn04_as", weights=mn04_weights, mode="frames", hop_ms=hop_ms, layers=layers
    )
    n = 40321
    embeddings, timestamps = embedder.timestamp_embeddings(torch.randn(2, n) * 0.1)
    expected = np.arange(n // (hop_ms * 32) + 1) * hop_ms
    np.testing.assert_array_equal(timestamps.numpy(), np.stack([expected, expected]))
    assert timestamps.numpy().max() <= n / 32
    widths = {info.name: info.width for info in embedder.layer_info()}
    assert embeddings.shape == (2, len(expected), sum(widths[n] for n in layers.split(",")))
    assert embedder.timestamp_embedding_size == embeddings.shape[-1]
    assert torch.isfinite(embeddings).all()


def test_frames_mode_keeps_native_frames(mn04_weights: Path, mn04: MN) -> None:
    embedder = create_embedder(
        "mn04_as", weights=mn04_weights, mode="frames", hop_ms=80, layers="b5"
    )
    audio = torch.randn(1, 64000) * 0.1
    embeddings, _ = embedder.timestamp_embeddings(audio)
    with torch.inference_mode():
        native = mn04.forward_taps(MelFrontend()(audio)[:, None], ["b5"])["b5"].mean(dim=2)
    assert ref_err(embeddings[0, : native.shape[-1]], native[0].T) <= 1e-5


def test_reduced_time_strides_refine_deep_layers(mn04_weights: Path) -> None:
    embedder = create_embedder(
        "mn04_as",
        weights=mn04_weights,
        mode="frames",
        hop_ms=40,
        time_strides="2,1,1,1",
        layers="b15,clf1",
    )
    hops = {info.name: info.hop_ms for info in embedder.layer_info()}
    assert hops["b15"] == hops["clf1"] == 40.0 and hops["b1"] == 20.0
    assert embedder.config.weights_sha256 == MN04_SHA
    embeddings, _ = embedder.timestamp_embeddings(torch.randn(1, 32000) * 0.1)
    assert embeddings.shape == (1, 26, 64 + 384)
    assert torch.isfinite(embeddings).all()


def test_frames_mode_chunks_long_clips_seamlessly(
    mn04_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = create_embedder(
        "mn04_as", weights=mn04_weights, mode="frames", hop_ms=40, layers="b3"
    )
    audio = torch.randn(2, 12 * 32000) * 0.1
    whole, _ = embedder.timestamp_embeddings(audio)
    monkeypatch.setattr(family, "CHUNK_FRAMES", 320)
    monkeypatch.setattr(family, "CONTEXT_FRAMES", 64)
    chunked, _ = embedder.timestamp_embeddings(audio)
    assert ref_err(chunked, whole) <= 1e-5


def test_mel_frames_equal_a_slice_of_the_full_spectrogram() -> None:
    frontend = MelFrontend(hop_size=480)
    audio = torch.randn(2, 50000)
    full = frontend(audio)
    for start, stop in [(0, 10), (17, 60), (90, full.shape[-1])]:
        assert ref_err(mel_frames(frontend, audio, start, stop), full[:, :, start:stop]) <= 1e-6


def test_short_and_long_clips(mn04_weights: Path) -> None:
    embedder = create_embedder("mn04_as", weights=mn04_weights, mode="frames")
    for n in (100, 21 * 32000):
        embeddings, timestamps = embedder.timestamp_embeddings(torch.randn(1, n) * 0.1)
        assert embeddings.shape[1] == timestamps.shape[1] == n // 1600 + 1
        assert torch.isfinite(embeddings).all()
        assert torch.isfinite(embedder.scene_embeddings(torch.randn(1, n) * 0.1)).all()
