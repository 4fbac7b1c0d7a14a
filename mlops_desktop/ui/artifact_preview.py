"""The artifact browser of the run detail: the run's files as a tree, a preview, a download.

Selecting a file starts `load_preview` on a worker (a new selection cancels the previous
read) and shows what comes back: text in a read-only monospace editor, JSON and YAML
pretty-printed, CSV and TSV as a table, images scaled to fit, an MLmodel file as a summary
of its flavors and signature, and for anything else its size and a Download button.
"Download…" asks for a folder and copies the selected file or folder there with progress
and cancel (`download_artifact`, which never leaves a partial file).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFontDatabase,
    QImage,
    QPainter,
    QPaintEvent,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.artifact_preview import (
    MLmodelSummary,
    Preview,
    PreviewKind,
    TablePreview,
    load_preview,
)
from mlops_desktop.services.artifacts import ArtifactTree, DownloadResult, download_artifact
from mlops_desktop.services.artifacts import format_bytes as format_size
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.tasks import Task, TaskRunner
from mlops_desktop.ui.views.base import describe_error
from mlops_desktop.ui.widgets import plain

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: Item data of a tree row: the artifact's path, whether it is a folder, its size.
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
IS_DIR_ROLE = Qt.ItemDataRole.UserRole + 2
SIZE_ROLE = Qt.ItemDataRole.UserRole + 3
MAX_IMAGE_ZOOM = 2.0


def count_files(count: int) -> str:
    return f"{count:,} file" if count == 1 else f"{count:,} files"


class ImagePreview(QWidget):
    """An image scaled to fit the space it has; a small one is enlarged at most
    `MAX_IMAGE_ZOOM` times, so an icon does not turn into a blur."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 240)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.image.isNull():
            return
        area = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        width, height = self.image.width(), self.image.height()
        scale = min(area.width() / width, area.height() / height, MAX_IMAGE_ZOOM)
        target = QRectF(0, 0, width * scale, height * scale)
        target.moveCenter(area.center())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self.image)
        painter.end()


class PreviewTableModel(QAbstractTableModel):
    """The rows of a CSV or TSV preview (at most 1,000: a plain list is enough)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = TablePreview((), ())

    def set_table(self, table: TablePreview) -> None:
        self.beginResetModel()
        self._table = table
        self.endResetModel()

    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._table.rows)

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._table.columns)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._table.rows[index.row()][index.column()]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._table.columns[section]
        return str(section + 1)


class ModelSummaryView(QTreeWidget):
    """An MLmodel file as a reviewer reads it: flavors, signature, versions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["", ""])
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def show_model(self, model: MLmodelSummary) -> None:
        self.clear()
        flavors = self._section(f"Flavors ({len(model.flavors)})")
        for flavor in model.flavors:
            item = QTreeWidgetItem(flavors, [flavor.name, ""])
            for key, value in flavor.details:
                QTreeWidgetItem(item, [key, value])
        for title, columns in (
            ("Signature inputs", model.inputs),
            ("Signature outputs", model.outputs),
            ("Signature params", model.params),
        ):
            if title.endswith("params") and not columns:
                continue
            section = self._section(f"{title} ({len(columns)})" if columns else f"{title}: none")
            for column in columns:
                kind = column.type + ("" if column.required else " (optional)")
                QTreeWidgetItem(section, [column.name, kind])
        details = self._section("Details")
        for key, value in (
            ("Python version", model.python_version),
            ("MLflow version", model.mlflow_version),
            ("Run ID", model.run_id),
            ("Model ID", model.model_id),
            ("Model UUID", model.model_uuid),
            ("Created (UTC)", model.created),
            ("Size", format_size(model.size_bytes) if model.size_bytes is not None else ""),
            ("Artifact path", model.artifact_path),
        ):
            if value:
                QTreeWidgetItem(details, [key, value])
        self.expandAll()
        self.resizeColumnToContents(0)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title, ""])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        return item


class ArtifactBrowser(QWidget):
    """A run's artifact tree on the left, the selected file's preview on the right."""

    preview_ready = Signal(str)  #: the artifact path whose preview (or error) is now shown
    download_finished = Signal(str)  #: the local file or folder a download wrote
    download_failed = Signal(str)  #: a sentence saying why a download stopped

    def __init__(self, ctx: UiContext, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tasks = tasks
        self._tracking: TrackingBackend | None = None
        self._run_id = ""
        self._tree = ArtifactTree()
        self._preview_task: Task | None = None
        self._download_task: Task | None = None
        self.preview: Preview | None = None

        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Name", "Size"])
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.selectionModel().currentChanged.connect(self._on_tree_current_changed)
        self.tree_note = plain("")
        self.tree_note.setObjectName("subtitle")
        self.tree_note.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.tree_note)

        self.title = plain("")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = plain("")
        self.note.setObjectName("subtitle")
        self.note.setWordWrap(True)
        self.placeholder = plain("Select a file to preview it.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.table_model = PreviewTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.image = ImagePreview()
        self.model_view = ModelSummaryView()
        self.pages = QStackedWidget()
        for page in (self.placeholder, self.text, self.table, self.image, self.model_view):
            self.pages.addWidget(page)

        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Save the selected file or folder to a folder you choose")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.cancel_button.hide()
        self.download_status = plain("")
        self.download_status.setObjectName("subtitle")
        self.download_status.setWordWrap(True)
        self.download_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        actions = QHBoxLayout()
        actions.addWidget(self.download_button)
        actions.addWidget(self.progress)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.download_status, 1)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.title)
        right_layout.addWidget(self.note)
        right_layout.addWidget(self.pages, 1)
        right_layout.addLayout(actions)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([260, 740])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._show_placeholder("", "Select a file to preview it.")

    # -- what the panel calls --------------------------------------------------------------

    def set_run(self, tracking: TrackingBackend, run_id: str, tree: ArtifactTree) -> None:
        """Show the artifacts of `run_id` (a download in progress goes on)."""
        self._cancel_preview()
        self._tracking, self._run_id, self._tree = tracking, run_id, tree
        self.model.removeRows(0, self.model.rowCount())
        items: dict[str, QStandardItem] = {}
        for entry in tree.entries:
            parent_path = str(PurePosixPath(entry.path).parent)
            parent = items.get(parent_path, self.model.invisibleRootItem())
            name = QStandardItem(PurePosixPath(entry.path).name)
            name.setData(entry.path, PATH_ROLE)
            name.setData(entry.is_dir, IS_DIR_ROLE)
            name.setData(entry.size_bytes, SIZE_ROLE)
            name.setToolTip(entry.path)
            size = QStandardItem("" if entry.is_dir else format_size(entry.size_bytes))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            parent.appendRow([name, size])
            if entry.is_dir:
                items[entry.path] = name
        self.tree.expandAll()
        files = tree.files
        if not tree.entries:
            self.tree_note.setText("This run has no artifacts.")
        else:
            more = " (more not listed)" if tree.truncated else ""
            self.tree_note.setText(
                f"{count_files(len(files))}, {format_size(tree.total_bytes)}{more}."
            )
        self.download_button.setEnabled(bool(tree.entries))
        self._show_placeholder(
            "",
            "Select a file to preview it." if tree.entries else "This run has no artifacts.",
        )

    def clear(self) -> None:
        self._cancel_preview()
        self._tracking, self._run_id, self._tree = None, "", ArtifactTree()
        self.model.removeRows(0, self.model.rowCount())
        self.tree_note.setText("")
        self._show_placeholder("", "Select a file to preview it.")

    def select_path(self, path: str) -> bool:
        """Select the artifact `path` in the tree (which previews it); False if absent."""
        matches = self.model.match(
            self.model.index(0, 0),
            PATH_ROLE,
            path,
            1,
            Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
        )
        if not matches:
            return False
        self.tree.setCurrentIndex(matches[0])
        return True

    def selected_path(self) -> str:
        index = self.tree.currentIndex()
        return str(index.siblingAtColumn(0).data(PATH_ROLE) or "") if index.isValid() else ""

    # -- previews ---------------------------------------------------------------------------

    def _on_tree_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or self._tracking is None:
            return
        name_index = current.siblingAtColumn(0)
        path = str(name_index.data(PATH_ROLE))
        if name_index.data(IS_DIR_ROLE):
            self._cancel_preview()
            inside = [e for e in self._tree.entries if e.path.startswith(path + "/")]
            files = [e for e in inside if not e.is_dir]
            size = format_size(sum(e.size_bytes or 0 for e in files))
            self._show_placeholder(
                path, f"A folder of {count_files(len(files))} ({size}): Download… saves all of it."
            )
            self.preview_ready.emit(path)
            return
        self.title.setText(path)
        self.title.show()
        self.note.setText("Loading the preview…")
        self.note.show()
        self._preview_task = self.tasks.run(
            partial(load_preview, size_bytes=name_index.data(SIZE_ROLE)),
            self._tracking,
            self._run_id,
            path,
            on_done=partial(self._on_preview_loaded, self._run_id, path),
            on_error=partial(self._on_preview_failed, self._run_id, path),
            description=f"Previewing {PurePosixPath(path).name}",
            slot="artifact-preview",
        )

    def _on_preview_loaded(self, run_id: str, path: str, preview: Preview) -> None:
        if (run_id, path) != (self._run_id, self.selected_path()):
            return  # an answer for a file no longer selected
        self.preview = preview
        self.title.setText(self._title_of(preview))
        self.title.show()
        self.note.setText(preview.note)
        self.note.setVisible(bool(preview.note))
        if preview.kind in (PreviewKind.TEXT, PreviewKind.JSON, PreviewKind.YAML):
            self.text.setPlainText(preview.text)
            self.pages.setCurrentWidget(self.text)
        elif preview.kind is PreviewKind.TABLE and preview.table is not None:
            self.table_model.set_table(preview.table)
            self.table.resizeColumnsToContents()
            self.pages.setCurrentWidget(self.table)
        elif preview.kind is PreviewKind.IMAGE:
            image = QImage.fromData(preview.image)
            if image.isNull():
                self._show_placeholder(
                    path, "This image could not be decoded: download it to open it elsewhere."
                )
            else:
                self.image.set_image(image)
                self.pages.setCurrentWidget(self.image)
        elif preview.kind is PreviewKind.MLMODEL and preview.model is not None:
            self.model_view.show_model(preview.model)
            self.pages.setCurrentWidget(self.model_view)
        else:
            self.placeholder.setText(preview.note or "No preview for this file.")
            self.note.hide()
            self.pages.setCurrentWidget(self.placeholder)
        self.preview_ready.emit(path)

    def _on_preview_failed(self, run_id: str, path: str, error: Exception) -> None:
        if (run_id, path) != (self._run_id, self.selected_path()):
            return
        self.preview = None
        self._show_placeholder(path, describe_error(error, f"preview {path}"))
        self.preview_ready.emit(path)

    @staticmethod
    def _title_of(preview: Preview) -> str:
        size = f"  ·  {format_size(preview.size_bytes)}" if preview.size_bytes is not None else ""
        kind = {
            PreviewKind.TEXT: "text",
            PreviewKind.JSON: "JSON",
            PreviewKind.YAML: "YAML",
            PreviewKind.TABLE: "table",
            PreviewKind.IMAGE: preview.image_format.upper() + " image",
            PreviewKind.MLMODEL: "MLflow model",
            PreviewKind.BINARY: "binary",
        }.get(preview.kind, "")
        return f"{preview.path}{size}  ·  {kind}" if kind else f"{preview.path}{size}"

    def _show_placeholder(self, title: str, text: str) -> None:
        self.title.setText(title)
        self.title.setVisible(bool(title))
        self.note.setText("")
        self.note.hide()
        self.placeholder.setText(text)
        self.pages.setCurrentWidget(self.placeholder)

    def _cancel_preview(self) -> None:
        if self._preview_task is not None and self._preview_task.running:
            self._preview_task.cancel()
        self._preview_task = None
        self.preview = None

    # -- downloads --------------------------------------------------------------------------

    def _on_download_clicked(self) -> None:
        if self._tracking is None:
            return
        path = self.selected_path()
        what = PurePosixPath(path).name if path else "all artifacts"
        folder = self.ctx.prompts.choose_folder(f"Download {what} to")
        if folder is None:
            return
        self.start_download(path, folder)

    def start_download(self, path: str, folder: Path) -> None:
        """Download artifact `path` ("" = all of them) into `folder`, with progress."""
        if self._tracking is None:
            return
        name = PurePosixPath(path).name or "all artifacts"
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.download_button.setEnabled(False)
        self.download_status.setText(f"Downloading {name}…")
        self._download_task = self.tasks.run(
            download_artifact,
            self._tracking,
            self._run_id,
            path,
            folder,
            on_done=self._on_download_done,
            on_error=self._on_download_failed,
            on_progress=self._on_download_progress,
            on_cancelled=self._on_download_cancelled,
            description=f"Downloading {name}",
            slot="artifact-download",
        )

    def _on_download_progress(self, fraction: float, message: str) -> None:
        if fraction < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        if message:
            self.download_status.setText(message)

    def _on_download_done(self, result: DownloadResult) -> None:
        self._end_download(
            f"Saved {count_files(result.files)} ({format_size(result.bytes)}) to {result.path}."
        )
        self.download_finished.emit(str(result.path))

    def _on_download_failed(self, error: Exception) -> None:
        message = describe_error(error, "download the artifact")
        self._end_download(message)
        self.download_failed.emit(message)

    def _on_download_cancelled(self) -> None:
        self._end_download("Download cancelled; nothing was written.")

    def _on_cancel_clicked(self) -> None:
        if self._download_task is not None:
            self._download_task.cancel()

    def _end_download(self, text: str) -> None:
        self._download_task = None
        self.progress.hide()
        self.cancel_button.hide()
        self.download_button.setEnabled(bool(self._tree.entries))
        self.download_status.setText(text)
