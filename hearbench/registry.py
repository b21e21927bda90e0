"""One lazy registry of embedders: cards shipped in the package, plus entry points.

An *embedder card* is a small JSON file in ``hearbench/cards/embedders/`` naming a preset: the
model family that implements it (a ``"module:attr"`` target, imported only when used), the
options that define the preset, and its official checkpoint. Third-party packages add embedders
through the entry-point group ``hearbench.embedders``; an entry point may load an
:class:`EmbedderCard` or a family (a callable with the family signature below). Both paths end
in the same registry, and ``hear:MODULE`` names any HEAR 2021 module.

A family is called as ``family(card=..., options=..., weights=..., pretrained=...)`` and
returns an :class:`~hearbench.api.Embedder`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from hearbench.api import Embedder, HearbenchError, check_precision
from hearbench.weights import Checkpoint

ENTRY_POINT_GROUP = "hearbench.embedders"

FAMILIES: dict[str, str] = {
    "baseline": "hearbench.embedders.baseline:BaselineEmbedder",
    "mobilenet": "hearbench.embedders.mobilenet:MobileNetEmbedder",
    "passt": "hearbench.embedders.passt:PasstEmbedder",
}


@dataclass(frozen=True)
class EmbedderCard:
    """A named embedder preset.

    Attributes:
        name: Registered name (``"mn04_as"``).
        family: Family alias from :data:`FAMILIES` or a ``"module:attr"`` target.
        options: Options that define the preset; user options override them.
        checkpoint: Official weights, or ``None`` for weight-free embedders.
        description: One line for ``hearbench list``.
        reference: Published figures (``params``, ``macs_10s``, ``source``...) for checks.
    """

    name: str
    family: str
    options: Mapping[str, Any] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    description: str = ""
    reference: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> EmbedderCard:
        """Build a card from parsed JSON; ``source`` names the file in errors."""
        for key in ("name", "family"):
            if not isinstance(data.get(key), str):
                raise HearbenchError(f"{source}: field {key!r} must be a string")
        ckpt = data.get("checkpoint")
        checkpoint = None
        if ckpt is not None:
            if not isinstance(ckpt, Mapping) or not {"url", "filename"} <= set(ckpt):
                raise HearbenchError(f"{source}: 'checkpoint' needs 'url' and 'filename'")
            checkpoint = Checkpoint(ckpt["url"], ckpt["filename"], ckpt.get("sha256"))
        return cls(
            name=data["name"],
            family=data["family"],
            options=dict(data.get("options", {})),
            checkpoint=checkpoint,
            description=str(data.get("description", "")),
            reference=dict(data.get("reference", {})),
        )


def load_target(target: str) -> Any:
    """Import ``"module:attr"`` (or a family alias) and return the attribute."""
    target = FAMILIES.get(target, target)
    module_name, _, attr = target.partition(":")
    if not attr:
        raise HearbenchError(f"target {target!r}: expected 'module:attr'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HearbenchError(f"target {target!r}: cannot import {module_name} ({exc})") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise HearbenchError(f"target {target!r}: {module_name} has no {attr!r}") from exc


def _read_card(path: Path | Any, source: str) -> EmbedderCard:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HearbenchError(f"{source}: invalid JSON ({exc})") from exc
    return EmbedderCard.from_dict(data, source)


@functools.cache
def _builtin_cards() -> dict[str, EmbedderCard]:
    cards: dict[str, EmbedderCard] = {}
    folder = resources.files("hearbench") / "cards" / "embedders"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            source = f"hearbench/cards/embedders/{entry.name}"
            data = json.loads(entry.read_text(encoding="utf-8"))
            items = data if isinstance(data, list) else [data]
            for item in items:
                card = EmbedderCard.from_dict(item, source)
                cards[card.name] = card
    return cards


@functools.cache
def _entry_point_cards() -> dict[str, EmbedderCard]:
    cards: dict[str, EmbedderCard] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cards[ep.name] = EmbedderCard(
            name=ep.name, family=ep.value, description=f"plugin {ep.value}"
        )
    return cards


_EXTRA: dict[str, EmbedderCard] = {}


def register_card(card: EmbedderCard) -> None:
    """Register a card at run time (tests, notebooks); later registrations win."""
    _EXTRA[card.name] = card


def all_cards() -> dict[str, EmbedderCard]:
    """Every known card by name: built-in, then entry points, then run-time registrations."""
    return {**_builtin_cards(), **_entry_point_cards(), **_EXTRA}


def get_card(name: str) -> EmbedderCard:
    """The card registered under ``name``."""
    cards = all_cards()
    if name not in cards:
        close = [n for n in sorted(cards) if n.split("_")[0] == name.split("_")[0]][:6]
        hint = f"; similar: {', '.join(close)}" if close else "; see 'hearbench list embedders'"
        raise HearbenchError(f"embedder {name!r} is not registered{hint}")
    return cards[name]


def create_embedder(
    name: str,
    weights: str | Path | None = None,
    pretrained: bool = True,
    **options: Any,
) -> Embedder:
    """Create an embedder by registered name or ``hear:MODULE``.

    Args:
        name: A registered preset (``"baseline"``, ``"mn04_as"``) or ``"hear:MODULE"``.
        weights: A local weights file; overrides the preset's official checkpoint.
        pretrained: ``False`` runs the model on random weights (recorded in results).
        **options: Options overriding the preset's (``hop_ms=20``, ``layers="5,11"``...).
            ``precision`` (``float32``, ``bfloat16``, ``float16``) is common to every
            embedder: it runs embedding under autocast (:data:`hearbench.api.PRECISIONS`).
    """
    family_options = {k: v for k, v in options.items() if k != "precision"}
    precision = check_precision(str(options.get("precision", "float32")))
    embedder: Embedder
    if name.startswith("hear:"):
        from hearbench.embedders.hear_module import HearModuleEmbedder

        embedder = HearModuleEmbedder(name[len("hear:") :], weights=weights, **family_options)
    else:
        card = get_card(name)
        family = load_target(card.family)
        merged = {**card.options, **family_options}
        made = family(card=card, options=merged, weights=weights, pretrained=pretrained)
        if not isinstance(made, Embedder):
            raise HearbenchError(f"embedder {name!r}: family {card.family} did not return an Embedder")
        embedder = made
    embedder.config = dataclasses.replace(embedder.config, precision=precision)
    embedder.user_options = dict(options)
    return embedder
