"""EfficientSED's frame-wise MobileNet (``fmn*`` presets): stride layout, frontend, checkpoints."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import torch

from hearbench import HearbenchError, create_embedder
from hearbench.embedders.mobilenet import MobileNetEmbedder
from hearbench.embedders.mobilenet_options import MobileNetOptions
from hearbench.frontend import MelFrontend
from hearbench.models.mobilenet import MN, block_configs, block_strides
from hearbench.registry import get_card, identity_name
from hearbench.runner import embedder_id
from hearbench.weights import load_state_dict

# EfficientSED models/efficient_cnns/fmn/model.py, _mobilenet_v3_conf: per-block strides
UPSTREAM_F = (1, 2, 2, 1, 1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 2)
UPSTREAM_T = (1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)


@pytest.fixture(scope="module")
def mn04_weights(reference_dir: Path) -> Path:
    return reference_dir / "weights" / "mn04_as.pt"


@pytest.fixture(scope="module")
def fmn04(mn04_weights: Path) -> MobileNetEmbedder:
    embedder = create_embedder("fmn04", weights=mn04_weights)
    assert isinstance(embedder, MobileNetEmbedder)
    return embedder


def _audio(seconds: float, n: int = 2, rate: int = 16000) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    return 0.1 * torch.randn(n, round(seconds * rate), generator=generator)


def _random_fmn04() -> MN:
    torch.manual_seed(7)
    net = MN(0.4, layout="fmn")
    for module in net.modules():  # non-trivial BatchNorm statistics, as after training
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return net.eval()


def _efficientsed_layout(net: MN, prefix: str = "model.model.") -> dict[str, torch.Tensor]:
    """``net``'s backbone under EfficientSED's release keys, plus a sequence model and heads."""
    state = {prefix + k: v.clone() for k, v in net.state_dict().items() if k.startswith("features.")}
    width = net.out_channels
    state["seq_model.0.rnn.weight_ih_l0"] = torch.randn(3 * 104, width)
    state["seq_model.0.rnn.bias_ih_l0"] = torch.randn(3 * 104)
    state["strong_head.weight"] = torch.randn(447, 208)
    state["strong_head.bias"] = torch.randn(447)
    state["weak_head.weight"] = torch.randn(527, 208)
    state["weak_head.bias"] = torch.randn(527)
    return state


def _direct_frames(net: MN, frontend: MelFrontend, audio: torch.Tensor) -> torch.Tensor:
    """The final 1x1 conv map of one pass, its single frequency row squeezed: ``(n, T, C)``."""
    with torch.inference_mode():
        fmap = net.features(frontend(audio)[:, None])
    assert fmap.shape[2] == 1
    return fmap[:, :, 0].transpose(1, 2)


def test_fmn_layout_is_upstreams_per_block_strides() -> None:
    assert block_strides("fmn") == tuple(zip(UPSTREAM_F, UPSTREAM_T, strict=True))
    # stem x2 and one block x2 in time; stem x2 and six blocks x2 in frequency
    assert 2 * math.prod(t for _, t in block_strides("fmn")) == 4
    assert 2 * math.prod(f for f, _ in block_strides("fmn")) == 128
    # a residual needs stride 1 and equal widths (upstream's rule too): blocks 3, 6, 8 and 15
    # (1-based) lose theirs; at width 0.4 block 4 (16 -> 16 channels) gains one
    for width, gained in ((0.4, [4]), (1.0, [])):
        fmn = [c.residual for c in block_configs(width, layout="fmn")]
        ref = [c.residual for c in block_configs(width)]
        pairs = list(enumerate(zip(ref, fmn, strict=True), start=1))
        assert [i for i, (a, b) in pairs if a and not b] == [3, 6, 8, 15]
        assert [i for i, (a, b) in pairs if b and not a] == gained
    net = MN(0.4, layout="fmn").eval()
    with torch.inference_mode():
        out = net.features(torch.zeros(1, 1, 128, 1000))
    assert tuple(out.shape) == (1, 384, 1, 250)


def test_fmn_preset_is_16khz_with_frames_at_40ms(fmn04: MobileNetEmbedder) -> None:
    assert fmn04.sample_rate == 16000
    assert (fmn04.frontend.sample_rate, fmn04.frontend.win_length, fmn04.frontend.n_fft) == (16000, 400, 512)
    assert fmn04.frontend.hop_size == 160  # 10 ms
    (layer,) = fmn04.selected_layers
    assert (layer.name, layer.width, layer.hop_ms) == ("clf1", 384, 40.0)  # 10 ms x 4
    audio = _audio(3.0)
    embeddings, timestamps = fmn04.timestamp_embeddings(audio)
    assert tuple(embeddings.shape) == (2, 76, 384)  # 3000 ms / 40 ms + 1
    frames_per_second = 1000.0 / float(torch.diff(timestamps[0]).mean())
    assert frames_per_second == pytest.approx(25.0, abs=1e-9)
    # the timestamp embeddings are the network's own frames (frequency squeezed away)
    direct = _direct_frames(fmn04.net, fmn04.frontend, audio)
    assert direct.shape[1] == 75  # 300 mel frames (pre-emphasis takes one sample) / 4
    torch.testing.assert_close(embeddings[:, :75], direct, rtol=0, atol=1e-5)
    torch.testing.assert_close(embeddings[:, 75], direct[:, 74], rtol=0, atol=1e-5)  # 3000 ms repeats the last


def test_efficientsed_frontend_clips_the_log_at_1e_7() -> None:
    audio = _audio(1.0, n=1)
    audio[:, 4000:8000] = 0.0  # silence: the floor decides
    sed = MelFrontend(128, 16000, 400, 160, 512, log_eps=1e-7, log_clip=True)
    at = MelFrontend(128, 16000, 400, 160, 512)
    mel = torch.matmul(sed.mel_basis, sed.power_spectrogram(audio))
    torch.testing.assert_close(sed(audio), (torch.log(mel.clamp(min=1e-7)) + 4.5) / 5.0)
    torch.testing.assert_close(at(audio), (torch.log(mel + 1e-5) + 4.5) / 5.0)
    assert float(sed(audio).min()) == pytest.approx((math.log(1e-7) + 4.5) / 5.0, abs=1e-6)


def test_mn04_as_weights_load_into_the_fmn04_layout(
    fmn04: MobileNetEmbedder, mn04_weights: Path
) -> None:
    state = load_state_dict(mn04_weights)
    own = fmn04.net.state_dict()
    assert set(own) == set(state)
    backbone = [k for k in state if k.startswith("features.")]
    assert len(backbone) > 200
    for key in state:
        assert torch.equal(own[key], state[key]), key
    assert fmn04.has_classifier


@pytest.mark.parametrize("prefix", ["model.model.", "model.fmn.", "net.model.", "model.model.fmn."])
def test_efficientsed_checkpoint_loads_and_matches_the_original(
    tmp_path: Path, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    net = _random_fmn04()
    state = _efficientsed_layout(net, prefix)
    path = tmp_path / "fmn04_strong.pt"
    torch.save({"state_dict": state} if prefix.startswith("net.") else state, path)
    with caplog.at_level(logging.INFO, logger="hearbench.models.efficientsed"):
        embedder = create_embedder("fmn04", weights=path)
    assert isinstance(embedder, MobileNetEmbedder)
    assert "ignored 6 EfficientSED head tensors (seq_model, strong_head, weak_head)" in caplog.text
    assert not embedder.has_classifier
    own = embedder.net.state_dict()
    for key, value in net.state_dict().items():
        if key.startswith("features."):
            assert torch.equal(own[key], value), key
    audio = _audio(2.0)
    embeddings, _ = embedder.timestamp_embeddings(audio)
    direct = _direct_frames(net, embedder.frontend, audio)
    assert direct.shape[1] == 50 and embeddings.shape[1] == 51
    assert float((embeddings[:, :50] - direct).abs().max()) <= 1e-6


def test_efficientsed_checkpoint_has_no_audioset_head(tmp_path: Path) -> None:
    path = tmp_path / "fmn04_strong.pt"
    torch.save(_efficientsed_layout(_random_fmn04()), path)
    with pytest.raises(HearbenchError, match=r"layers \['logits'\] need EfficientAT's AudioSet head"):
        create_embedder("fmn04", weights=path, layers="logits")


def test_efficientsed_checkpoint_with_a_wrong_shape_names_the_key(tmp_path: Path) -> None:
    state = _efficientsed_layout(_random_fmn04())
    key = "model.model.features.5.block.2.conc_se_layers.0.fc1.weight"
    state[key] = torch.zeros(3, 3)
    path = tmp_path / "broken.pt"
    torch.save(state, path)
    with pytest.raises(HearbenchError) as info:
        create_embedder("fmn04", weights=path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "wrong shapes [features.5.block.2.conc_se_layers.0.fc1.weight (3, 3) != (16, 48)]" in message


def test_checkpoint_with_a_foreign_key_names_it(tmp_path: Path) -> None:
    state = _efficientsed_layout(_random_fmn04())
    state["model.teacher.proj.weight"] = torch.zeros(1)
    path = tmp_path / "foreign.pt"
    torch.save(state, path)
    with pytest.raises(HearbenchError, match=r"key 'model.teacher.proj.weight' is neither"):
        create_embedder("fmn04", weights=path)


def test_backbone_missing_a_tensor_is_refused(tmp_path: Path) -> None:
    state = _efficientsed_layout(_random_fmn04())
    del state["model.model.features.16.1.running_var"]
    path = tmp_path / "short.pt"
    torch.save(state, path)
    with pytest.raises(HearbenchError, match=r"missing keys \[features\.16\.1\.running_var\]"):
        create_embedder("fmn04", weights=path)


def test_fmn_layout_options_are_validated_and_recorded() -> None:
    with pytest.raises(HearbenchError, match="time_strides' applies to stride_layout=efficientat only"):
        MobileNetOptions.parse("fmn04", {**get_card("fmn04").options, "time_strides": "2,1,1,1"})
    with pytest.raises(HearbenchError, match="stride_layout"):
        MobileNetOptions.parse("mn04_as", {"stride_layout": "fmn2"})
    fmn = MobileNetOptions.parse("fmn04", get_card("fmn04").options).to_dict(["clf1"])
    assert (fmn["frontend"], fmn["stride_layout"], fmn["hop_size"]) == ("efficientsed", "fmn", 160)
    # the EfficientAT presets' recorded options (and so their identities) do not change
    plain = MobileNetOptions.parse("mn04_as", get_card("mn04_as").options).to_dict(["clf1"])
    assert "frontend" not in plain and "stride_layout" not in plain


def test_fmn_presets_keep_their_checkpoints_lineage_name(fmn04: MobileNetEmbedder, mn04_weights: Path) -> None:
    assert identity_name(get_card("fmn04")) == identity_name(get_card("mn04_as")) == "mn04_as"
    assert identity_name(get_card("fmn10")) == "mn10_as"
    assert embedder_id(fmn04) == "fmn04"
    assert embedder_id(create_embedder("mn04_as", weights=mn04_weights)) == "mn04_as"
