"""Declared options: one parser, one message format, for every probe and embedder family."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hearbench.api import HearbenchError
from hearbench.cli import main
from hearbench.options import Option, OptionSet, ms_to_samples
from hearbench.probes import PROBES, resolve_probe_options, split_probe_options
from hearbench.registry import create_embedder

TOY = OptionSet(
    "toy",
    (
        Option("epochs", "int", 5, "epochs", minimum=1),
        Option("lr", "float", [0.1, 0.01], "rates", minimum=0, exclusive=True, grid=True),
        Option("mode", "str", "a", "mode", choices=("a", "b")),
        Option("flag", "bool", False, "flag"),
    ),
)


def test_resolve_coerces_command_line_strings_and_fills_defaults() -> None:
    got = TOY.resolve({"epochs": "7", "lr": ["0.5", 1], "flag": "true"})
    assert got == {"epochs": 7, "lr": [0.5, 1.0], "mode": "a", "flag": True}
    assert TOY.resolve({"mode": "b"}, defaults=False) == {"mode": "b"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"epoch": 3}, "toy: unknown option 'epoch'; known: epochs, flag, lr, mode"),
        ({"epochs": "abc"}, "toy: option 'epochs' expects an int >= 1, got 'abc'"),
        ({"epochs": 2.5}, "toy: option 'epochs' expects an int >= 1, got 2.5"),
        ({"epochs": 0}, "toy: option 'epochs' expects an int >= 1, got 0"),
        ({"lr": [0.1, 0]}, "toy: option 'lr' expects a float > 0, or a list of them, got [0.1, 0]"),
        ({"mode": "c"}, "toy: option 'mode' expects one of a, b, got 'c'"),
        ({"flag": "maybe"}, "toy: option 'flag' expects true or false, got 'maybe'"),
    ],
)
def test_bad_values_get_one_message_format(given: dict[str, object], message: str) -> None:
    with pytest.raises(HearbenchError) as exc:
        TOY.resolve(given)
    assert str(exc.value) == message


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_an_unknown_probe_option_is_refused_by_every_probe(probe: str) -> None:
    with pytest.raises(HearbenchError, match=rf"^{probe}: unknown option 'max_epoch'; known: "):
        resolve_probe_options(probe, {"max_epoch": 3})


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_the_command_line_refuses_unknown_probe_options_before_any_work(probe: str, tmp_path: Path) -> None:
    start = time.perf_counter()
    result = CliRunner().invoke(
        main,
        ["run", "--embedder", "baseline", "--task", str(tmp_path / "absent"), "--probe", probe,
         "--probe-option", "max_epoch=3"],
    )
    assert result.exit_code == 1
    assert result.stderr.strip().startswith(f"error: {probe}: unknown option 'max_epoch'; known: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - start < 2.0


def test_a_bad_probe_option_value_fails_at_once_in_a_fresh_process(tmp_path: Path) -> None:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hearbench.cli", "run", "--embedder", "baseline", "--task",
         str(tmp_path), "--probe", "mlp", "--probe-option", "max_epochs=abc"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: mlp: option 'max_epochs' expects an int >= 1, or a list of them, got 'abc'"
    )
    assert time.perf_counter() - start < 10.0  # includes interpreter and torch start-up


def test_shared_probe_options_go_to_the_probes_that_declare_them() -> None:
    assert split_probe_options(["linear", "knn"], {"l2": "0.01"}) == {"linear": {"l2": 0.01}, "knn": {}}
    with pytest.raises(HearbenchError, match="linear, knn: unknown option 'points'"):
        split_probe_options(["linear", "knn"], {"points": 1})


@pytest.mark.parametrize(
    ("name", "options"),
    [("baseline", {"hop": 20}), ("mn04_as", {"hop": 20}), ("passt_small", {"hop": 20})],
)
def test_embedder_families_refuse_unknown_options_in_the_same_words(name: str, options: dict[str, object]) -> None:
    with pytest.raises(HearbenchError, match=rf"^{name}: unknown option 'hop'; known: .*hop_ms"):
        create_embedder(name, pretrained=False, **options)


def test_a_bad_family_option_value_names_the_option() -> None:
    with pytest.raises(HearbenchError, match=r"^baseline: option 'dim' expects an int >= 1, got 'wide'$"):
        create_embedder("baseline", dim="wide")


def test_recorded_embedder_options_are_the_typed_values_in_effect() -> None:
    embedder = create_embedder("baseline", hop_ms="25", dim=64)
    assert embedder.config.options == {
        "hop_ms": 25.0, "window_ms": 160.0, "n_mels": 64, "dim": 64, "seed": 0, "layers": "proj",
    }


def test_one_ms_to_samples_helper_rounds_or_refuses() -> None:
    assert ms_to_samples(10.0, 32000) == 320
    assert ms_to_samples(0.02, 32000) == 1
    assert ms_to_samples(10.01, 32000) == 320
    with pytest.raises(HearbenchError, match=r"option 'hop_ms': 10\.01 ms is not a whole"):
        ms_to_samples(10.01, 32000, name="hop_ms")


def test_list_shows_declared_options() -> None:
    probes = CliRunner().invoke(main, ["list", "probes"])
    assert probes.exit_code == 0
    assert "  max_epochs (an int >= 1, or a list of them; default 500): upper bound on training epochs" in probes.output
    families = CliRunner().invoke(main, ["list", "families"])
    assert families.exit_code == 0
    assert "  hop_ms (a float > 0; default 50.0): spacing of timestamp embeddings in ms" in families.output
