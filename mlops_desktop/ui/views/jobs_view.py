"""The Jobs view: retraining jobs with their status, cluster and linked runs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from mlops_desktop.domain.jobs import Job, JobStatus
from mlops_desktop.services.jobs import load_jobs
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.format import format_duration, format_time_ms, short_id
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import EmptyState, plain

STATUS_COLOURS = {
    JobStatus.SUCCEEDED: "#2e9d5b",
    JobStatus.FAILED: "#d64545",
    JobStatus.RUNNING: "#2f6fde",
    JobStatus.PENDING: "#c98a00",
    JobStatus.STOPPED: "#7a808a",
}
COLUMNS = (
    "Status",
    "Job",
    "Cluster",
    "Submitted",
    "Duration",
    "Submitter",
    "Source run",
    "Result",
    "Message",
)


class JobsView(View):
    view_id = "jobs"
    title = "Jobs"
    subtitle = (
        "Retraining jobs on this machine and on clusters, linked to the runs and model "
        "versions they came from and produced."
    )

    def __init__(self, ctx, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, parent)
        self.summary = plain("")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = EmptyState(
            "No jobs yet",
            "Jobs launched from a run, a model version or a drift alert appear here with their "
            "status and logs.",
        )
        self.empty.hide()
        self.note = plain(
            "Launching, following and stopping jobs (local runner, Ray, "
            "Kubernetes, Slurm) arrives with the retraining feature; this is the "
            "history the workspace holds."
        )
        self.note.setWordWrap(True)
        self.note.setObjectName("subtitle")
        self.body.addWidget(self.summary)
        self.body.addWidget(self.table, 1)
        self.body.addWidget(self.empty, 1)
        self.body.addWidget(self.note)

    def load(self, workspace: Workspace) -> None:
        if workspace.jobs is None:
            self._on_jobs_loaded([])
            return
        self.tasks.run(
            load_jobs,
            workspace.jobs,
            on_done=self._on_jobs_loaded,
            on_error=lambda error: self.show_error(error, "read the jobs"),
            description="Loading jobs",
        )

    def _on_jobs_loaded(self, jobs: list[Job]) -> None:
        self.table.setRowCount(len(jobs))
        for row, job in enumerate(jobs):
            duration = (
                (job.finished_ms - job.submitted_ms) / 1000 if job.finished_ms is not None else None
            )
            cells = (
                job.status.value,
                job.job_id,
                job.cluster,
                format_time_ms(job.submitted_ms),
                format_duration(duration),
                job.submitter,
                short_id(job.source_run_id),
                job.result_model_version or short_id(job.result_run_id),
                job.message,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setForeground(QColor(STATUS_COLOURS.get(job.status, "#7a808a")))
                    item.setData(Qt.ItemDataRole.ToolTipRole, f"Entry point: {job.entrypoint}")
                self.table.setItem(row, column, item)
        self.table.setVisible(bool(jobs))
        self.empty.setVisible(not jobs)
        counts = {status: sum(job.status == status for job in jobs) for status in JobStatus}
        parts = [f"{count} {status.value.lower()}" for status, count in counts.items() if count]
        self.summary.setText(f"{len(jobs)} jobs: " + ", ".join(parts) if jobs else "")
        self.mark_ready()
