"""ESC-10 (``esc10``): the 10-class subset of ESC-50, official folds, 5.0 s clips.

Source: the original release layout, one folder per class named ``<NNN - Class>`` holding
``<fold>-<freesoundID>-<take>.ogg`` files (44.1 kHz Ogg Vorbis, decoded by soundfile), either
directly under the source folder or under its ``audio/`` folder (the ``../shared/data/esc10``
copy). A ``metadata.csv`` beside it (columns ``file,fold,label``) is optional; when present,
each listed clip's fold and label must agree with its file and folder names.

Split rule: ``presplit_kfold`` over the folds present, in ascending order (``fold`` 1 →
``fold00``...): five in the full release, four in a copy holding folds 1–4. Labels are the class
names of the folders (``Dog bark``). Clips are cropped or zero-padded to 5 s and resampled from
the 44.1 kHz originals to each requested rate.
"""

from __future__ import annotations

import re
from pathlib import Path

from hearbench.api import HearbenchError
from hearbench.tasks.builders._common import Clip, Plan, fold_names, scene_metadata
from hearbench.tasks.builders._sources import output_name, read_table, table_columns

SAMPLE_DURATION = 5.0
CLASS_FOLDER = re.compile(r"^(\d{3}) - (.+)$")
CLIP_NAME = re.compile(r"^([1-5])-(\d+)-([A-Z])\.ogg$")


def _audio_root(source: Path) -> Path:
    if not source.is_dir():
        raise HearbenchError(f"{source}: source directory not found")
    for candidate in (source, source / "audio", source / "esc10" / "audio", source / "esc10"):
        if candidate.is_dir() and any(
            CLASS_FOLDER.match(p.name) for p in candidate.iterdir() if p.is_dir()
        ):
            return candidate
    raise HearbenchError(
        f"{source}: no ESC-10 class folders ('<NNN - Class>/<fold>-<id>-<take>.ogg') found"
    )


def _clips_on_disk(root: Path) -> list[tuple[Path, int, str]]:
    entries = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        match = CLASS_FOLDER.match(folder.name)
        if match is None:
            continue
        label = match.group(2)
        for path in sorted(folder.glob("*.ogg")):
            name = CLIP_NAME.match(path.name)
            if name is None:
                raise HearbenchError(
                    f"{path}: expected a file name '<fold>-<freesoundID>-<take>.ogg' (fold 1-5)"
                )
            entries.append((path, int(name.group(1)), label))
    if not entries:
        raise HearbenchError(f"{root}: the class folders hold no .ogg clips")
    return entries


def _check_metadata(table: Path, entries: list[tuple[Path, int, str]]) -> None:
    """Every clip the CSV lists must match its file name's fold and its folder's class."""
    if "fold" not in table_columns(table):
        return
    by_name = {path.name: (fold, label) for path, fold, label in entries}
    for line, row in enumerate(read_table(table, ("file", "fold", "label")), start=2):
        name = Path(row["file"].strip()).name
        if name not in by_name:
            raise HearbenchError(f"{table}:{line}: clip {name!r} is listed but not on disk")
        fold, label = by_name[name]
        if row["fold"].strip() != str(fold) or row["label"].strip() != label:
            raise HearbenchError(
                f"{table}:{line}: {name} is fold {row['fold']!r}, label {row['label']!r} here "
                f"but fold {fold}, label {label!r} by its file and folder names"
            )


def plan_esc10(source: Path) -> Plan:
    """ESC-10 with its official folds (see the module docstring)."""
    root = _audio_root(source)
    entries = _clips_on_disk(root)
    for table in (root / "metadata.csv", root.parent / "metadata.csv"):
        if table.is_file():
            _check_metadata(table, entries)
            break
    folds = sorted({fold for _, fold, _ in entries})
    if len(folds) < 3:
        raise HearbenchError(f"{root}: esc10 needs at least 3 folds, found {folds}")
    names = dict(zip(folds, fold_names(len(folds)), strict=True))
    clips = tuple(
        Clip(path, names[fold], output_name(path), [label]) for path, fold, label in entries
    )
    meta = scene_metadata(
        "esc10",
        "presplit_kfold",
        SAMPLE_DURATION,
        "official ESC-50 folds of the ESC-10 clips in ascending order: "
        + ", ".join(str(f) for f in folds),
        nfolds=len(folds),
        fold_sources={names[f]: f"fold{f}" for f in folds},
        source="ESC-10, the 10-class subset of ESC-50 (https://github.com/karolpiczak/ESC-50)",
    )
    return Plan(meta, clips)
