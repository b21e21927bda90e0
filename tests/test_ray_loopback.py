"""A local Ray instance started by hearbench listens on the loopback address only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hearbench.executors import EmbedderSpec, Job, RunSettings

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_local_instance_binds_to_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hearbench.ray_executor as executor

    seen: dict[str, Any] = {}

    def probe_addresses(
        ray_module: Any, jobs: Any, settings: Any, local: bool, on_outcome: Any = None
    ) -> list[Any]:
        seen["driver"] = ray_module.util.get_node_ip_address()
        seen["nodes"] = [n["NodeManagerAddress"] for n in ray_module.nodes()]
        seen["worker"] = ray_module.get(
            ray_module.remote(lambda: ray_module.util.get_node_ip_address()).remote()
        )
        return []

    monkeypatch.setattr(executor, "_run", probe_addresses)
    job = Job(EmbedderSpec("baseline"), str(tmp_path), "knn")
    executor.run_ray([job], RunSettings(out_dir=str(tmp_path / "out")), num_cpus=1)
    assert not ray.is_initialized()
    assert seen == {"driver": "127.0.0.1", "nodes": ["127.0.0.1"], "worker": "127.0.0.1"}
