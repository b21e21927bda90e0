"""Perturbations on the real MicIRP device impulse responses and ESC-10 clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from scipy.signal import convolve

from hearbench.api import HearbenchError
from hearbench.perturb import (
    ImpulsePerturbation,
    NoisePerturbation,
    convolve_clip,
    load_impulse_responses,
    load_noise,
    parse_snr,
    split_seen_unseen,
)


@pytest.fixture(scope="module")
def micirp(data_dir: Path) -> Path:
    return data_dir / "dirs" / "micirp"


@pytest.fixture(scope="module")
def clip(data_dir: Path) -> np.ndarray:
    """A real ESC-10 clip (dog bark) at 32 kHz."""
    path = data_dir / "esc10" / "audio" / "001 - Dog bark" / "1-100032-A.ogg"
    audio, rate = sf.read(str(path), dtype="float64")
    return np.asarray(soxr.resample(audio, rate, 32000)[: 5 * 32000], dtype=np.float32)


def test_loads_all_66_devices_sorted(micirp: Path) -> None:
    irs = load_impulse_responses(micirp)
    assert len(irs) == 66
    assert [ir.name for ir in irs] == sorted(ir.name for ir in irs)
    assert sorted({ir.sample_rate for ir in irs}) == [44100, 48000]
    assert sum(ir.sample_rate == 48000 for ir in irs) == 5


@pytest.mark.parametrize("level", ["raw", "rms"])
def test_dir_equals_scipy_convolution(micirp: Path, clip: np.ndarray, level: str) -> None:
    irs = {ir.name: ir for ir in load_impulse_responses(micirp)}
    for name in ("Altec_639", "BBCmarconi_B", "Reslo_VMC2"):
        h = irs[name].at(32000)
        expected = convolve(clip.astype(np.float64), h, mode="full")[: clip.shape[0]]
        if level == "rms":
            expected *= np.sqrt(np.mean(clip.astype(np.float64) ** 2) / np.mean(expected**2))
        peak = np.abs(expected).max()
        if peak > 1:
            expected /= peak
        got = ImpulsePerturbation("dir", irs[name], level).apply(clip, 32000, "dog")
        assert got.dtype == np.float32 and got.shape == clip.shape
        assert np.abs(got - expected).max() < 1e-6
    if level == "raw":
        # the raw MicIRP convolution changes the level (most devices add +5 to +7 dB)
        gain = 10 * np.log10(np.mean(expected**2) / np.mean(clip.astype(np.float64) ** 2))
        assert abs(gain) > 1.0


def test_48k_responses_are_resampled(micirp: Path) -> None:
    ir = next(i for i in load_impulse_responses(micirp) if i.name == "BBCmarconi_B")
    assert (ir.sample_rate, ir.samples.shape[0]) == (48000, 18143)
    for rate in (16000, 32000, 44100):
        h = ir.at(rate)
        assert abs(h.shape[0] - 18143 * rate / 48000) <= 1
        # a band-limited response keeps its energy per second of response when resampled
        energy = np.sum(h**2) / rate
        assert energy == pytest.approx(np.sum(ir.samples**2) / 48000, rel=0.02)
    assert np.array_equal(ir.at(48000), ir.samples)


def test_seen_unseen_split_is_fixed_and_disjoint(micirp: Path) -> None:
    names = [ir.name for ir in load_impulse_responses(micirp)]
    seen, unseen = split_seen_unseen(names)
    assert (len(seen), len(unseen)) == (44, 22)
    assert not set(seen) & set(unseen) and set(seen) | set(unseen) == set(names)
    assert split_seen_unseen(list(reversed(names))) == (seen, unseen)
    assert unseen[0] == sorted(names)[2]


def test_identity_separates_devices_and_levels(micirp: Path) -> None:
    a, b = load_impulse_responses(micirp)[:2]
    ids = [
        ImpulsePerturbation("dir", a, "rms").identity(),
        ImpulsePerturbation("dir", b, "rms").identity(),
        ImpulsePerturbation("dir", a, "raw").identity(),
        ImpulsePerturbation("room", a, "rms").identity(),
    ]
    assert len({str(sorted(i.items())) for i in ids}) == 4


def test_clipping_is_scaled_and_counted(micirp: Path) -> None:
    ir = load_impulse_responses(micirp)[0]
    loud = np.full(32000, 0.99, dtype=np.float32)
    perturbation = ImpulsePerturbation("dir", ir, "raw")
    y = perturbation.apply(loud, 32000)
    assert np.abs(y).max() == pytest.approx(1.0) and perturbation.clipped == 1


def test_noise_meets_its_snr_and_is_seeded_per_clip(tmp_path: Path, clip: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    sf.write(str(tmp_path / "hiss.wav"), rng.standard_normal(48000) * 0.1, 48000)
    noise = NoisePerturbation(load_noise(tmp_path), snr_db=10.0, seed=3)
    a = noise.apply(clip, 32000, "clip-a")
    assert np.array_equal(a, noise.apply(clip, 32000, "clip-a"))
    assert not np.array_equal(a, noise.apply(clip, 32000, "clip-b"))
    added = a.astype(np.float64) - clip
    snr = 10 * np.log10(np.mean(clip.astype(np.float64) ** 2) / np.mean(added**2))
    assert snr == pytest.approx(10.0, abs=0.01)


def test_bad_perturbation_inputs(tmp_path: Path, micirp: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(HearbenchError, match="no impulse responses"):
        load_impulse_responses(tmp_path / "empty")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "photo.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(HearbenchError, match=r"photo\.jpg: not an impulse response file"):
        load_impulse_responses(tmp_path / "mixed")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.wav").write_bytes(b"RIFF....")
    with pytest.raises(HearbenchError, match=r"x\.wav: not a readable impulse response"):
        load_impulse_responses(tmp_path / "broken")
    ir = load_impulse_responses(micirp)[0]
    with pytest.raises(HearbenchError, match="longer than the clip"):
        ImpulsePerturbation("dir", ir).apply(np.zeros(1000, np.float32), 32000, "short.wav")
    with pytest.raises(HearbenchError, match="snr_db: expected a number of dB, got 'loud'"):
        parse_snr("loud")
    with pytest.raises(HearbenchError, match="level: expected one of raw, rms"):
        convolve_clip(np.zeros(10), np.ones(2), "peak")


def test_robustness_figures_by_hand() -> None:
    from hearbench.robustness_summary import RobustnessSummary, summarise

    s = summarise("top1_acc", True, 0.80, {"a": 0.70, "b": 0.60, "c": 0.75}, unseen=["a", "b"])
    assert s.unseen_mean == pytest.approx(0.65)
    assert s.unseen_worst == pytest.approx(0.60)
    assert s.drop == pytest.approx(0.15)
    assert s.relative_drop == pytest.approx(0.15 / 0.80)
    assert s.dg == pytest.approx(0.05)  # population std of 0.70 and 0.60
    assert RobustnessSummary.from_dict(s.to_dict()) == s
    err = summarise("segment_1s_er", False, 0.20, {"a": 0.30, "b": 0.50})
    assert (err.unseen_worst, err.drop) == (pytest.approx(0.50), pytest.approx(0.20))
    with pytest.raises(HearbenchError, match="without a score: z"):
        summarise("top1_acc", True, 0.8, {"a": 0.7}, unseen=["z"])
