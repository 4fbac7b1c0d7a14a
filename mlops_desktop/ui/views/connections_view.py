"""The Connections view: the workspace the window is on, and the connection profiles."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout

from mlops_desktop.services.summary import WorkspaceSummary, summarize_workspace
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import EmptyState, StatTile, plain

KIND_LABELS = {
    "demo": "Embedded demo workspace (local MLflow store)",
    "local": "Local MLflow store",
    "mlflow": "MLflow tracking server",
    "bundle": "Offline bundle (read-only)",
}


def human_size(size: int | None) -> str:
    if size is None:
        return "on the server"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GB"


class ConnectionsView(View):
    view_id = "connections"
    title = "Connections"
    subtitle = "Tracking servers, clusters and metrics stores this window talks to."

    def __init__(self, ctx, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, parent)
        card = QFrame()
        card.setObjectName("activeCard")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setStyleSheet("QFrame#activeCard { border-left: 4px solid #2e9d5b; }")
        self.card_title = plain("Opening workspace…")
        font = self.card_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.card_title.setFont(font)
        self.details = QGridLayout()
        self.details.setColumnStretch(1, 1)
        self._detail_labels: dict[str, QLabel] = {}
        for row, key in enumerate(("Kind", "Location", "Size on disk", "Monitoring", "Jobs")):
            caption = plain(key)
            caption.setObjectName("caption")
            value = plain("–")
            value.setWordWrap(True)
            self.details.addWidget(caption, row, 0)
            self.details.addWidget(value, row, 1)
            self._detail_labels[key] = value
        tiles = QHBoxLayout()
        self.tile_experiments = StatTile("experiments")
        self.tile_runs = StatTile("runs")
        self.tile_models = StatTile("registered models")
        for tile in (self.tile_experiments, self.tile_runs, self.tile_models):
            tiles.addWidget(tile)
        card_layout = QVBoxLayout(card)
        card_layout.addWidget(plain("ACTIVE WORKSPACE"))
        card_layout.addWidget(self.card_title)
        card_layout.addLayout(self.details)
        card_layout.addLayout(tiles)
        self.body.addWidget(card)

        self.profiles = EmptyState(
            "No connection profiles yet",
            "With no profile configured, the window opens this embedded demo workspace, so "
            "every view has real data to show without a server. Connection profiles for MLflow "
            "tracking servers, Ray and Kubernetes clusters, Slurm and Prometheus, with their "
            "credentials kept only in the OS keychain, are the next feature to land.",
        )
        self.body.addWidget(self.profiles, 1)

    def load(self, workspace: Workspace) -> None:
        self.card_title.setText(workspace.label)
        self._detail_labels["Kind"].setText(KIND_LABELS.get(workspace.kind, workspace.kind))
        self._detail_labels["Location"].setText(workspace.location)
        self._detail_labels["Monitoring"].setText(
            workspace.metrics.label if workspace.metrics else "none"
        )
        self._detail_labels["Jobs"].setText(workspace.jobs.label if workspace.jobs else "none")
        self.tasks.run(
            summarize_workspace,
            workspace.tracking,
            on_done=self._on_summary_loaded,
            on_error=lambda error: self.show_error(error, "read the workspace"),
            description="Reading the workspace",
        )

    def _on_summary_loaded(self, summary: WorkspaceSummary) -> None:
        self._detail_labels["Size on disk"].setText(human_size(summary.size_bytes))
        self.tile_experiments.set_value(f"{len(summary.experiments):,}")
        self.tile_runs.set_value(f"{summary.run_count:,}")
        self.tile_models.set_value(f"{len(summary.models):,}")
        self.mark_ready()
