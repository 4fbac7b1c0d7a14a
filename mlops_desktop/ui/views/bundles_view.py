"""The Bundles view: offline `.mlbundle` files, and what this workspace could export."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from mlops_desktop.services.summary import WorkspaceSummary, summarize_workspace
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.format import format_time_ms
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import plain


class BundlesView(View):
    view_id = "bundles"
    title = "Bundles"
    subtitle = (
        "A .mlbundle is one file with runs, full metric histories, model versions and "
        "the audit chain, every part checksummed, to review offline with no server."
    )

    def __init__(self, ctx, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, parent)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open bundle…")
        self.open_button.setToolTip("Also File > Open bundle… (Ctrl+O)")
        self.open_button.clicked.connect(self._on_open_clicked)
        actions.addWidget(self.open_button)
        actions.addStretch(1)
        self.body.addLayout(actions)
        self.caption = plain("What this workspace can export")
        font = self.caption.font()
        font.setBold(True)
        self.caption.setFont(font)
        self.body.addWidget(self.caption)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(("Kind", "Name", "Contents", "Last change"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.body.addWidget(self.table, 1)
        self.note = plain(
            "Exporting, opening and verifying bundles (with Ed25519 signatures) "
            "arrives with the offline bundles feature."
        )
        self.note.setObjectName("subtitle")
        self.note.setWordWrap(True)
        self.body.addWidget(self.note)

    def _on_open_clicked(self) -> None:
        window = self.window()
        trigger = getattr(window, "_on_open_bundle_triggered", None)
        if callable(trigger):
            trigger()

    def load(self, workspace: Workspace) -> None:
        self.tasks.run(
            summarize_workspace,
            workspace.tracking,
            on_done=self._on_summary_loaded,
            on_error=lambda error: self.show_error(error, "read the workspace"),
            description="Reading the workspace",
        )

    def _on_summary_loaded(self, summary: WorkspaceSummary) -> None:
        rows = [
            (
                "Experiment",
                item.experiment.name,
                f"{item.runs:,} runs",
                format_time_ms(item.experiment.last_update_time_ms),
            )
            for item in summary.experiments
        ]
        rows += [
            (
                "Registered model",
                model.name,
                ", ".join(f"{alias} → v{version}" for alias, version in model.aliases.items())
                or "no aliases",
                format_time_ms(model.last_updated_time_ms),
            )
            for model in summary.models
        ]
        self.table.setRowCount(len(rows))
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.mark_ready()
