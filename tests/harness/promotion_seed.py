"""A registered model for the promotion tests, seeded on a real server through its REST API.

Three runs (val_auc 0.90, 0.92, 0.95; latency_ms 5, 5, 9), a model with one version per run
(version 3 lacks the passed validation tag), `champion` on version 1 (set outside the
workflow, as a team starting with the app would have it), and a gate policy file for it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

API = "/api/2.0/mlflow/"

POLICY = """
[[compare]]
metric = "val_auc"
op = ">="
tolerance = 0.005

[[compare]]
metric = "latency_ms"
op = "<="
tolerance = 1.0

[required_tags]
validation_status = "passed"
"""


@dataclass(frozen=True)
class SeededModel:
    name: str
    run_ids: tuple[str, ...]  # of versions 1, 2, 3
    gates_dir: Path


def seed_model(
    url: str, gates_root: Path, auth: tuple[str, str] | None = None, prefix: str = "promo"
) -> SeededModel:
    """Create the model (named uniquely) and write its policy to a fresh gates folder."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with requests.Session() as session:
        session.auth = auth

        def call(endpoint: str, body: dict[str, object]) -> dict[str, object]:
            reply = session.post(url + API + endpoint, json=body, timeout=30)
            reply.raise_for_status()
            result: dict[str, object] = reply.json()
            return result

        experiment = call("experiments/create", {"name": name})["experiment_id"]
        now = int(time.time() * 1000)
        run_ids = []
        for number, (auc, latency) in enumerate(((0.90, 5.0), (0.92, 5.0), (0.95, 9.0)), 1):
            run = call(
                "runs/create",
                {"experiment_id": experiment, "run_name": f"v{number}", "start_time": now},
            )["run"]
            assert isinstance(run, dict)
            run_id = str(run["info"]["run_id"])
            call(
                "runs/log-batch",
                {
                    "run_id": run_id,
                    "metrics": [
                        {"key": "val_auc", "value": auc, "timestamp": now, "step": 0},
                        {"key": "latency_ms", "value": latency, "timestamp": now, "step": 0},
                    ],
                },
            )
            call("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now})
            run_ids.append(run_id)
        call("registered-models/create", {"name": name})
        for number, run_id in enumerate(run_ids, 1):
            call(
                "model-versions/create",
                {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id},
            )
            status = "passed" if number < 3 else "failed"
            call(
                "model-versions/set-tag",
                {"name": name, "version": str(number), "key": "validation_status", "value": status},
            )
        call("registered-models/alias", {"name": name, "alias": "champion", "version": "1"})
    gates_dir = gates_root / name
    gates_dir.mkdir(parents=True)
    (gates_dir / f"{name}.toml").write_text(POLICY, encoding="utf-8")
    return SeededModel(name, tuple(run_ids), gates_dir)
