"""The two kinds of HEAR task, scene and event, as two objects; the choice is made here only.

A task's ``embedding_type`` names its kind, and :func:`task_kind` maps a task (or that name,
or a predictions record's ``kind``) to one of two objects with one interface,
:class:`~hearbench.task_kinds.base.TaskKind`. Everything that differs between the kinds is a
method of the kind, so no other module compares the name:

* the task's files: what a ``<split>.json`` entry must look like and the targets read from it,
  and the kind's checks of ``hearbench tasks validate``;
* the embedding: which embedder output it takes (:data:`SCENE`: ``scene_embeddings``, one row
  per clip; :data:`EVENT`: ``timestamp_embeddings``, frames with timestamps), checked as it is
  produced, and the embedder's MACs figure a trained head's cost adds to;
* the protocol: the targets of assembled rows (multi-hot clip targets, or multi-hot frame
  targets from the events), the validation objective that selects grid points and epochs
  (scene: the primary metric on clip scores; event: the best point of the post-processing grid
  by the primary event metric), and the scores of a test fold (event: after the chosen
  post-processing, plus the threshold-free metrics of the frame scores);
* the stored predictions: each kind builds its fold records and the
  :class:`~hearbench.predictions.Predictions` record, and gives the report's statistics what
  they resample (rows of scores, or files of events; per-item scores where the metric has them);
* heareval's embeddings folders: per-row labels, the extra per-split files (event:
  ``filename-timestamps.json``) and reading a split back.

The module sits below the task loader, the probes and the reporter, so each of them can ask
the kind; it reads tasks and protocol parts through structural types (:mod:`.base`).
"""

from __future__ import annotations

from hearbench.api import HearbenchError
from hearbench.task_kinds.base import KindName, KindTask, TaskKind
from hearbench.task_kinds.event import EVENT, EventKind
from hearbench.task_kinds.scene import SCENE, SceneKind

KINDS: tuple[TaskKind, ...] = (SCENE, EVENT)
"""Every task kind."""


def task_kind(task: KindTask | str, source: str | None = None) -> TaskKind:
    """The kind of ``task``: a task, or its ``embedding_type`` (``"scene"`` or ``"event"``).

    Args:
        task: A task (anything with an ``embedding_type``) or the name itself.
        source: The file the name was read from, for the error message.

    Raises:
        HearbenchError: the name is neither kind's.
    """
    name = task if isinstance(task, str) else task.embedding_type
    for kind in KINDS:
        if kind.name == name:
            return kind
    where = f"{source}: " if source else ""
    known = " or ".join(k.name for k in KINDS)
    raise HearbenchError(f"{where}embedding_type must be {known}, got {name!r}")


__all__ = [
    "EVENT",
    "KINDS",
    "SCENE",
    "EventKind",
    "KindName",
    "KindTask",
    "SceneKind",
    "TaskKind",
    "task_kind",
]
