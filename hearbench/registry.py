"""One lazy registry of embedders: cards shipped in the package, plus entry points.

An *embedder card* is a small JSON file in ``hearbench/cards/embedders/`` naming a preset: the
model family that implements it (a ``"module:attr"`` target, imported only when used), the
options that define the preset, and its official checkpoint. Third-party packages add embedders
through the entry-point group ``hearbench.embedders``: an entry point names either a family
(an :class:`~hearbench.api.Embedder` subclass, registered as one preset with its declared
defaults) or an :class:`EmbedderCard` object (a preset of any family). Both paths end in the
same registry, and ``hear:MODULE`` names any HEAR 2021 module.

The one constructor contract: a family is called as
``family(card=card, options=options, weights=weights, pretrained=pretrained)`` where
``options`` are the card's options overlaid with the user's, validated and completed with
defaults by the family's declared ``OPTIONS`` (:class:`~hearbench.options.OptionSet`; a family
without a declaration takes no options), ``weights`` is a local file or ``None`` and
``pretrained=False`` asks for random weights. It returns an :class:`~hearbench.api.Embedder`
whose config is ``EmbedderConfig(name=card.name, options=<every option in effect>)``. The
framework then records the sha256 of any weights file it was given, the precision, and the
configuration's identity (:func:`configuration_id`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from hearbench.api import Embedder, EmbedderConfig, HearbenchError, check_precision
from hearbench.options import OptionSet, declared_options
from hearbench.weights import Checkpoint, sha256_file, weights_cache_dir

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


HEAR_MODULE_FAMILY = "hearbench.embedders.hear_module:HearModuleEmbedder"
"""The family that wraps any HEAR 2021 module (``hear:MODULE``), loaded by name like every other."""


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
        try:
            target = ep.load()
        except Exception as exc:  # a broken plugin must not hide the others
            raise HearbenchError(
                f"entry point {ep.name} = {ep.value}: cannot load ({type(exc).__name__}: {exc})"
            ) from exc
        if isinstance(target, EmbedderCard):
            cards[target.name] = target
        elif callable(target):
            description = (getattr(target, "__doc__", None) or "").strip().split("\n")[0]
            cards[ep.name] = EmbedderCard(
                name=ep.name, family=ep.value, description=description or f"plugin {ep.value}"
            )
        else:
            raise HearbenchError(
                f"entry point {ep.name} = {ep.value}: expected an Embedder family or an "
                f"EmbedderCard, got {type(target).__name__}"
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


def family_options(card: EmbedderCard) -> OptionSet:
    """The declared options of ``card``'s family (empty when it declares none)."""
    declared = declared_options(load_target(card.family))
    return declared if declared is not None else OptionSet(card.family, ())


def create_embedder(
    name: str,
    weights: str | Path | None = None,
    pretrained: bool = True,
    **options: Any,
) -> Embedder:
    """Create an embedder by registered name or ``hear:MODULE``.

    Args:
        name: A registered preset (``"baseline"``, ``"mn04_as"``) or ``"hear:MODULE"``.
        weights: A local weights file; overrides the preset's official checkpoint. Its sha256
            is part of the configuration's identity, whatever the family records.
        pretrained: ``False`` runs the model on random weights (recorded in results).
        **options: Options overriding the preset's (``hop_ms=20``, ``layers="5,11"``...),
            validated by the family's declared ``OPTIONS``. ``precision`` (``float32``,
            ``bfloat16``, ``float16``) is common to every embedder: it runs embedding under
            autocast (:data:`hearbench.api.PRECISIONS`).

    Raises:
        HearbenchError: one line naming an unknown option or a bad value and what is allowed.
    """
    family_opts = {k: v for k, v in options.items() if k != "precision"}
    precision = check_precision(str(options.get("precision", "float32")))
    if weights is not None and not Path(weights).is_file():
        raise HearbenchError(f"{weights}: weights file not found")
    embedder: Embedder
    if name.startswith("hear:"):
        hear_family = load_target(HEAR_MODULE_FAMILY)
        embedder = hear_family(
            name[len("hear:") :], weights=weights, pretrained=pretrained, **family_opts
        )
        identity = name
        official = None
    else:
        card = get_card(name)
        family = load_target(card.family)
        declared = declared_options(family) or OptionSet(card.name, ())
        merged = declared.resolve({**card.options, **family_opts}, card.name)
        _check_constructor(card, family)
        made = family(card=card, options=merged, weights=weights, pretrained=pretrained)
        if not isinstance(made, Embedder):
            raise HearbenchError(f"embedder {name!r}: family {card.family} did not return an Embedder")
        embedder = made
        identity = identity_name(card)
        official = _official_sha(card) if pretrained else None
    config = embedder.config
    sha = config.weights_sha256
    if weights is not None:
        sha = file_sha256(weights)
    elif sha is None and official is not None and config.pretrained:
        sha = official
    embedder.config = dataclasses.replace(
        config,
        weights_sha256=sha,
        pretrained=config.pretrained and pretrained,
        precision=precision,
        identity_name=identity,
    )
    embedder.user_options = dict(options)
    return embedder


def _check_constructor(card: EmbedderCard, family: Any) -> None:
    """A one-line error when ``family`` cannot be called as the constructor contract says."""
    try:
        signature = inspect.signature(family)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(card=card, options={}, weights=None, pretrained=True)
    except TypeError as exc:
        raise HearbenchError(
            f"embedder {card.name!r}: family {card.family} must take "
            f"(*, card, options, weights, pretrained) ({exc}); see 'Plugin authors' in the README"
        ) from exc


@functools.lru_cache(maxsize=64)
def _sha_of(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a weights file, computed once per process for an unchanged file."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _sha_of(str(resolved), stat.st_size, stat.st_mtime_ns)


def _official_sha(card: EmbedderCard) -> str | None:
    """The sha256 of the card's official checkpoint: published, or of the cached file."""
    if card.checkpoint is None:
        return None
    if card.checkpoint.sha256 is not None:
        return card.checkpoint.sha256
    cached = weights_cache_dir() / card.checkpoint.filename
    return file_sha256(cached) if cached.is_file() else None


def _lineage(card: EmbedderCard) -> tuple[str, Checkpoint | None]:
    return FAMILIES.get(card.family, card.family), card.checkpoint


def identity_name(card: EmbedderCard) -> str:
    """The name a configuration of ``card`` is identified by: the plainest preset (fewest
    options, then first by name) of the same family with the same official checkpoint.

    Presets of one family and checkpoint differ only in options, so ``mn04_as_all`` and
    ``mn04_as --option layers=<mn04_as_all's>`` are one configuration with one digest, and a
    preset that restates many options (``fmn04``) never renames its checkpoint's lineage.
    """
    lineage = _lineage(card)
    cards = all_cards()
    return min((n for n, c in cards.items() if _lineage(c) == lineage), key=lambda n: (len(cards[n].options), n))


@functools.cache
def _preset_options(name: str) -> dict[str, Any] | None:
    """Every option in effect of preset ``name`` as it ships (built on random weights)."""
    try:
        embedder = create_embedder(name, pretrained=False)
    except Exception:  # a preset that cannot be built on random weights matches nothing
        return None
    return embedder.config.to_dict()["options"]


def _is_preset(card: EmbedderCard, config: EmbedderConfig, options_given: bool) -> bool:
    """Whether ``config`` is preset ``card`` as it ships (official weights, float32)."""
    if not config.pretrained or config.precision != "float32":
        return False
    official = _official_sha(card)
    if config.weights_sha256 not in (None, official):
        return False
    if not options_given and card.name == config.name:
        return True
    return _preset_options(card.name) == config.to_dict()["options"]


def configuration_id(config: EmbedderConfig, options_given: bool = True) -> str:
    """The results id of a configuration: a preset's name when it is that preset as it ships,
    else ``<identity name>-<digest[:8]>``.

    The digest covers the family lineage (:func:`identity_name`), every option in effect, the
    weights' sha256, the pretrained flag and the precision, never the name the configuration
    was asked for by, so two spellings of one configuration share one id.

    Args:
        config: The configuration.
        options_given: ``False`` when it was created with no options (a fast path: it is then
            its preset when weights and precision are the official ones).
    """
    identity = config.identity_name or config.name
    cards = all_cards()
    if identity in cards:
        lineage = _lineage(cards[identity])
        group = sorted(n for n, c in cards.items() if _lineage(c) == lineage)
        if config.name in group:
            group.remove(config.name)
            group.insert(0, config.name)
        for name in group:
            if _is_preset(cards[name], config, options_given or name != config.name):
                return name
    base = identity.replace(":", "_").replace("/", "_")
    plain = not config.options and config.pretrained and config.weights_sha256 is None
    if identity not in cards and plain and config.precision == "float32":
        return base
    return f"{base}-{config.digest()[:8]}"
