"""Jobs run on this machine by the local runner; for now the history of past jobs (jobs.json).

File format, written by `save_jobs` (UTF-8 JSON):

    {"format_version": 1,
     "jobs": [{"job_id": "local-20261120-093000-a1b2", "cluster": "local",
               "entrypoint": "python -m ...", "status": "SUCCEEDED", "submitter": "alice",
               "submitted_ms": 1763631000000, "finished_ms": 1763631900000,
               "source_run_id": "<run id>", "result_run_id": "<run id>",
               "result_model_version": "churn-classifier/3", "message": "...",
               "metadata": {"trigger": "manual"}}, ...]}

`status` is a `JobStatus` value; `finished_ms`, the run ids and `result_model_version` may be
null; `message` and `metadata` may be absent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlops_desktop.backends.errors import WorkspaceError
from mlops_desktop.domain.jobs import Job, JobStatus

JOBS_FORMAT_VERSION = 1


def job_to_dict(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "cluster": job.cluster,
        "entrypoint": job.entrypoint,
        "status": job.status.value,
        "submitter": job.submitter,
        "submitted_ms": job.submitted_ms,
        "finished_ms": job.finished_ms,
        "source_run_id": job.source_run_id,
        "result_run_id": job.result_run_id,
        "result_model_version": job.result_model_version,
        "message": job.message,
        "metadata": dict(job.metadata),
    }


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _int(data: dict[str, Any], name: str, required: bool) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} is missing or not an integer")
    return value


def job_from_dict(data: Any) -> Job:
    """Parse one entry of the file; raises ValueError saying what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    for name in ("job_id", "cluster", "entrypoint", "status", "submitter"):
        if not isinstance(data.get(name), str):
            raise ValueError(f"{name} is missing or not a string")
    try:
        status = JobStatus(data["status"])
    except ValueError:
        raise ValueError(f"status {data['status']!r} is unknown") from None
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not an object")
    submitted = _int(data, "submitted_ms", required=True)
    assert submitted is not None  # required=True never returns None
    return Job(
        job_id=data["job_id"],
        cluster=data["cluster"],
        entrypoint=data["entrypoint"],
        status=status,
        submitter=data["submitter"],
        submitted_ms=submitted,
        finished_ms=_int(data, "finished_ms", required=False),
        source_run_id=_optional_str(data, "source_run_id"),
        result_run_id=_optional_str(data, "result_run_id"),
        result_model_version=_optional_str(data, "result_model_version"),
        message=str(data.get("message") or ""),
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


def save_jobs(path: Path, jobs: Iterable[Job]) -> None:
    """Write the job history to `path`, replacing it atomically."""
    content = {"format_version": JOBS_FORMAT_VERSION, "jobs": [job_to_dict(j) for j in jobs]}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


class LocalJobHistory:
    """`JobHistory` over jobs.json; the file is read on every call, as the runner appends."""

    def __init__(self, path: Path, label: str = "Local runner") -> None:
        self.path = Path(path)
        self.label = label

    def list_jobs(self) -> list[Job]:
        """Every recorded job, newest first; no file means no job yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as error:
            raise WorkspaceError(f"The job history {self.path} cannot be read: {error}.") from error
        try:
            content = json.loads(text)
        except json.JSONDecodeError as error:
            raise WorkspaceError(
                f"The job history {self.path} is damaged (not valid JSON at line {error.lineno}); "
                "move it away to start a new history."
            ) from error
        if not isinstance(content, dict) or not isinstance(content.get("jobs"), list):
            raise WorkspaceError(
                f"The job history {self.path} is damaged (no list of jobs); move it away to "
                "start a new history."
            )
        version = content.get("format_version")
        if version != JOBS_FORMAT_VERSION:
            raise WorkspaceError(
                f"The job history {self.path} has format version {version}, which this version "
                f"of the app cannot read (it reads version {JOBS_FORMAT_VERSION})."
            )
        jobs: list[Job] = []
        for index, entry in enumerate(content["jobs"], start=1):
            try:
                jobs.append(job_from_dict(entry))
            except ValueError as error:
                raise WorkspaceError(
                    f"Job {index} in the job history {self.path} is damaged: {error}."
                ) from error
        jobs.sort(key=lambda j: j.submitted_ms, reverse=True)
        return jobs
