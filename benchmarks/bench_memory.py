"""Peak memory of embedding long clips: does memory stay flat as the clip grows?

Every built-in family embeds one clip of 10 s, 60 s and 600 s (seeded noise) on random weights
(``pretrained=False``), each (embedder, length) in a fresh subprocess so that no peak carries
over. The child creates the embedder and the clip, resets its peak-RSS counter
(``/proc/self/clear_refs``), embeds, and reads ``resource.getrusage(...).ru_maxrss``. Columns:

* ``peak``: peak resident memory of the whole process while embedding (Python, torch, the
  model, the clip and the outputs included);
* ``work``: ``peak`` minus the resident memory just before embedding — the embedder's own
  working memory plus its output;
* ``out``: size of the returned embeddings and timestamps, which necessarily grows with length.

An embedder that streams or chunks its input has a ``work`` that is about flat with length once
the output is taken away; ``work/out`` makes the remainder visible.

With ``--split N1,N2``, each child instead embeds a whole task split through
:func:`hearbench.embed.embed_split` (reading the clips from disk as a run does): a split of
``N`` clips of each length, so that ``peak`` shows whether memory grows with the split's total
audio (it should stay about that of one clip: clips are streamed).

Run: ``python benchmarks/bench_memory.py [--seconds 10,60,600] [--method timestamp|scene]
[--only NAME] [--threads 1] [--split 1,10]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Config:
    """One embedder configuration to measure."""

    label: str
    name: str
    options: dict[str, Any]


def configs() -> list[Config]:
    """Every built-in family in each of its embedding modes (PaSST only where it is installed)."""
    found = [
        Config("baseline", "baseline", {}),
        Config("mn04_as window", "mn04_as", {"mode": "window"}),
        Config("mn04_as frames", "mn04_as", {"mode": "frames"}),
    ]
    if (Path(__file__).resolve().parents[1] / "hearbench" / "embedders" / "passt.py").is_file():
        found += [
            Config("passt_small window", "passt_small", {}),
            Config("passt_small tokens", "passt_small", {"mode": "tokens"}),
        ]
    return found


def _rss_kb() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def measure(name: str, options: dict[str, Any], seconds: float, method: str, threads: int) -> dict[str, Any]:
    """Embed one clip in this process and report memory figures (run in a fresh process)."""
    import gc

    import torch

    from hearbench import create_embedder

    torch.set_num_threads(threads)
    embedder = create_embedder(name, pretrained=False, **options)
    generator = torch.Generator().manual_seed(0)
    n = int(seconds * embedder.sample_rate)
    audio = (0.1 * torch.randn(1, n, generator=generator)).clamp(-1, 1)
    with torch.inference_mode():
        embedder.scene_embeddings(audio[:, : embedder.sample_rate])
    gc.collect()
    before = _rss_kb()
    reset = _reset_peak()
    start = time.perf_counter()
    with torch.inference_mode():
        if method == "scene":
            outputs: tuple[torch.Tensor, ...] = (embedder.scene_embeddings(audio),)
        else:
            outputs = embedder.timestamp_embeddings(audio)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "peak_mb": peak / 1024,
        "work_mb": (peak - before) / 1024,
        "out_mb": sum(t.numel() * t.element_size() for t in outputs) / MB,
        "shape": list(outputs[0].shape),
        "seconds": elapsed,
        "peak_reset": reset,
    }


def build_split_task(folder: Path, clips: int, seconds: float, sample_rate: int = 16000) -> Path:
    """A scene task whose ``train`` split holds ``clips`` seeded-noise clips of ``seconds``."""
    import numpy as np

    from hearbench.tasks.format import TaskItem, write_task

    target = folder / f"split-{clips}x{seconds:g}s"
    if target.is_dir():
        return target
    rng = np.random.default_rng(0)
    n = int(seconds * sample_rate)

    def items() -> Any:
        for i in range(clips):
            audio = np.clip(0.1 * rng.standard_normal(n), -1, 1).astype(np.float32)
            yield TaskItem("train", f"clip{i:03d}.wav", audio, sample_rate, ["a"])
        for split in ("valid", "test"):
            yield TaskItem(split, f"{split}.wav", np.zeros(sample_rate, np.float32), sample_rate, ["a"])

    meta = {
        "task_name": target.name,
        "version": "1",
        "embedding_type": "scene",
        "prediction_type": "multiclass",
        "split_mode": "trainvaltest",
        "sample_duration": None,
        "evaluation": ["top1_acc"],
    }
    return write_task(target, meta, ["a"], items(), [sample_rate])


def measure_split(name: str, options: dict[str, Any], task_dir: str, threads: int) -> dict[str, Any]:
    """Embed the ``train`` split of ``task_dir`` in this process (run in a fresh process)."""
    import gc

    import torch

    from hearbench import create_embedder
    from hearbench.embed import embed_split
    from hearbench.tasks.format import load_task

    torch.set_num_threads(threads)
    embedder = create_embedder(name, pretrained=False, **options)
    task = load_task(task_dir)
    with torch.inference_mode():
        embedder.scene_embeddings(torch.zeros(1, embedder.sample_rate))
    gc.collect()
    before = _rss_kb()
    reset = _reset_peak()
    start = time.perf_counter()
    out = embed_split(embedder, task, "train", progress=False)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "peak_mb": peak / 1024,
        "work_mb": (peak - before) / 1024,
        "out_mb": out.embeddings.nbytes / MB,
        "shape": list(out.embeddings.shape),
        "seconds": elapsed,
        "peak_reset": reset,
    }


def run_child(
    config: Config, seconds: float, method: str, threads: int, task_dir: str | None = None
) -> dict[str, Any]:
    """:func:`measure` (or :func:`measure_split` on ``task_dir``) in a fresh Python process."""
    command = [
        sys.executable,
        __file__,
        "--child",
        config.name,
        json.dumps(config.options),
        task_dir if task_dir is not None else str(seconds),
        "split" if task_dir is not None else method,
        str(threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        return {"error": tail}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:8.1f}"


def table(
    rows: dict[str, dict[float, dict[str, Any]]], lengths: list[float], key: str, unit: str = " s"
) -> str:
    """A markdown table of ``key`` (MB) per configuration and clip length, with the 600/10 ratio."""
    head = ["embedder"] + [f"{s:g}{unit}" for s in lengths] + [f"{lengths[-1]:g}/{lengths[0]:g}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, by_length in rows.items():
        values = [by_length[s].get(key) for s in lengths]
        first, last = values[0], values[-1]
        ratio = f"{last / first:.2f}" if first and last is not None else "-"
        cells = [label] + [_cell(v) for v in values] + [ratio]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", default="10,60,600", help="Clip lengths, comma-separated.")
    parser.add_argument("--method", choices=["timestamp", "scene"], default="timestamp")
    parser.add_argument("--only", default=None, help="Measure configurations whose label contains this.")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads in each child.")
    parser.add_argument("--json", default=None, help="Also write the raw figures to this file.")
    parser.add_argument("--split", default=None, help="Clips per split, comma-separated: embed whole splits.")
    parser.add_argument("--work-dir", default=None, help="Where --split builds its tasks (default: temporary).")
    parser.add_argument("--child", nargs=5, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        name, options, seconds, method, threads = args.child
        if method == "split":
            figures = measure_split(name, json.loads(options), seconds, int(threads))
        else:
            figures = measure(name, json.loads(options), float(seconds), method, int(threads))
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    lengths = [float(s) for s in args.seconds.split(",")]
    if args.split is not None:
        split_main(args, lengths)
        return
    rows: dict[str, dict[float, dict[str, Any]]] = {}
    errors = []
    for config in configs():
        if args.only and args.only not in config.label:
            continue
        rows[config.label] = {}
        for seconds in lengths:
            figures = run_child(config, seconds, args.method, args.threads)
            rows[config.label][seconds] = figures
            if "error" in figures:
                errors.append(f"{config.label} {seconds:g} s: {figures['error']}")
    print(f"{args.method} embeddings, one clip, random weights, {args.threads} thread(s), MB\n")
    print("peak RSS of the process while embedding\n")
    print(table(rows, lengths, "peak_mb"))
    print("\nworking memory: peak minus RSS before embedding (output included)\n")
    print(table(rows, lengths, "work_mb"))
    print("\noutput size (embeddings + timestamps)\n")
    print(table(rows, lengths, "out_mb"))
    print("\nembedding time, s\n")
    print(table(rows, lengths, "seconds"))
    if not all(f.get("peak_reset", True) for r in rows.values() for f in r.values()):
        print("\nnote: /proc/self/clear_refs unavailable; peaks include start-up")
    for error in errors:
        print(f"failed: {error}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({k: {str(s): v for s, v in r.items()} for k, r in rows.items()}, indent=2)
        )


def split_main(args: argparse.Namespace, lengths: list[float]) -> None:
    """Peak memory of embedding whole splits of 1, 10, ... clips of each length."""
    import tempfile

    counts = [int(c) for c in args.split.split(",")]
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="bench-memory-"))
    rows: dict[str, dict[float, dict[str, Any]]] = {}
    errors = []
    for config in [Config("baseline", "baseline", {}), Config("mn04_as", "mn04_as", {})]:
        if args.only and args.only not in config.label:
            continue
        for seconds in lengths:
            label = f"{config.label}, {seconds:g} s clips"
            rows[label] = {}
            for count in counts:
                task = build_split_task(work, count, seconds)
                figures = run_child(config, seconds, "split", args.threads, str(task))
                rows[label][float(count)] = figures
                if "error" in figures:
                    errors.append(f"{label} x{count}: {figures['error']}")
    columns = [float(c) for c in counts]
    print(f"one split of N clips embedded through embed_split, random weights, {args.threads} thread(s), MB\n")
    print("peak RSS of the process while embedding (columns: clips in the split)\n")
    print(table(rows, columns, "peak_mb", " clips"))
    print("\nembedding time, s\n")
    print(table(rows, columns, "seconds", " clips"))
    for error in errors:
        print(f"failed: {error}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({k: {str(s): v for s, v in r.items()} for k, r in rows.items()}, indent=2)
        )


if __name__ == "__main__":
    main()
