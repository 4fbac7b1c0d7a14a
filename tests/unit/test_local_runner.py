"""backends.local_runner: the job history file, newest first; damaged files say so."""

from __future__ import annotations

import json

import pytest

from mlops_desktop.backends.errors import WorkspaceError
from mlops_desktop.backends.jobs import JobHistory
from mlops_desktop.backends.local_runner import LocalJobHistory, save_jobs
from mlops_desktop.domain.jobs import Job, JobStatus


def _job(job_id: str, submitted_ms: int, status: JobStatus = JobStatus.SUCCEEDED) -> Job:
    return Job(
        job_id=job_id,
        cluster="local",
        entrypoint="python train.py",
        status=status,
        submitter="alice",
        submitted_ms=submitted_ms,
        finished_ms=submitted_ms + 10 if status != JobStatus.RUNNING else None,
        source_run_id="a" * 32,
        result_run_id="b" * 32 if status == JobStatus.SUCCEEDED else None,
        result_model_version="m/3" if status == JobStatus.SUCCEEDED else None,
        message="done",
        metadata={"trigger": "manual"},
    )


def test_jobs_round_trip_newest_first(tmp_path):
    path = tmp_path / "jobs.json"
    jobs = [_job("one", 100), _job("three", 300, JobStatus.FAILED), _job("two", 200)]
    save_jobs(path, jobs)
    history = LocalJobHistory(path)
    assert isinstance(history, JobHistory)
    assert [j.job_id for j in history.list_jobs()] == ["three", "two", "one"]
    assert history.list_jobs()[2] == jobs[0]
    assert not path.with_name("jobs.json.partial").exists()


def test_missing_file_is_an_empty_history(tmp_path):
    assert LocalJobHistory(tmp_path / "nothing.json").list_jobs() == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps([1, 2]), "no list of jobs"),
        (json.dumps({"format_version": 99, "jobs": []}), "format version 99"),
        (json.dumps({"format_version": 1, "jobs": [{"job_id": "x"}]}), "Job 1"),
        (
            json.dumps(
                {
                    "format_version": 1,
                    "jobs": [
                        {
                            "job_id": "x",
                            "cluster": "local",
                            "entrypoint": "e",
                            "status": "EXPLODED",
                            "submitter": "a",
                            "submitted_ms": 1,
                        }
                    ],
                }
            ),
            "'EXPLODED' is unknown",
        ),
    ],
)
def test_damaged_file_raises_a_sentence(tmp_path, content, words):
    path = tmp_path / "jobs.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WorkspaceError, match=words) as raised:
        LocalJobHistory(path).list_jobs()
    assert str(path) in str(raised.value)
