"""Small dialogs of the promotion workflow: a comment or a reason, and a new promotion request.

They only collect what the user typed; the Models view and the approval page run the action
on a worker afterwards. A dialog whose text is required keeps its OK button disabled until
something other than blanks is typed, and says why.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.ui.widgets import plain

_TEXT_HEIGHT = 96


class CommentDialog(QDialog):
    """A sentence saying what is about to happen, a comment box, and a confirm button.

    `required=True` makes the comment a written reason the action cannot go without (a gate
    override, a rollback): OK stays disabled until one is typed.
    """

    def __init__(
        self,
        title: str,
        sentence: str,
        action: str,
        *,
        label: str = "Comment (optional)",
        required: bool = False,
        placeholder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.required = required
        self.sentence = plain(sentence)
        self.sentence.setWordWrap(True)
        self.label = plain(label)
        self.text = QPlainTextEdit()
        self.text.setObjectName("commentText")
        self.text.setPlaceholderText(placeholder)
        self.text.setFixedHeight(_TEXT_HEIGHT)
        self.text.textChanged.connect(self._on_text_changed)
        self.hint = plain("")
        self.hint.setObjectName("subtitle")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(action)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sentence)
        layout.addSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.text)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self._on_text_changed()

    def comment(self) -> str:
        return self.text.toPlainText().strip()

    def _on_text_changed(self) -> None:
        missing = self.required and not self.comment()
        self.ok.setEnabled(not missing)
        self.hint.setText("A written reason is required." if missing else "")
        self.hint.setVisible(missing)


class RequestPromotionDialog(QDialog):
    """ "Promote version V of model M to alias A", with a comment saying why."""

    def __init__(
        self,
        model_name: str,
        version: str,
        aliases: Sequence[str],
        current: dict[str, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Request a promotion")
        self.setMinimumWidth(480)
        self.current = current
        self.version = version
        self.alias = QComboBox()
        self.alias.setObjectName("aliasCombo")
        self.alias.setEditable(True)
        self.alias.addItems(list(aliases) or ["champion"])
        self.alias.currentTextChanged.connect(self._on_alias_changed)
        self.now = plain("")
        self.now.setObjectName("subtitle")
        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setObjectName("commentText")
        self.comment_edit.setPlaceholderText(
            "Why this version: what changed, what was validated, what to watch."
        )
        self.comment_edit.setFixedHeight(_TEXT_HEIGHT)
        self.comment_edit.textChanged.connect(self._update_ok)
        form = QFormLayout()
        form.addRow("Model", plain(model_name))
        form.addRow("Version", plain(version))
        form.addRow("Alias", self.alias)
        form.addRow("", self.now)
        form.addRow("Why (required)", self.comment_edit)
        note = plain(
            "Someone else approves the request; the gates of the model are checked when they "
            "decide, and the alias moves once it is approved."
        )
        note.setWordWrap(True)
        note.setObjectName("subtitle")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Request")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self._on_alias_changed(self.alias.currentText())

    def chosen_alias(self) -> str:
        return self.alias.currentText().strip()

    def comment(self) -> str:
        return self.comment_edit.toPlainText().strip()

    def _on_alias_changed(self, alias: str) -> None:
        alias = alias.strip()
        holder = self.current.get(alias)
        if not alias:
            self.now.setText("Name the alias to move.")
        elif holder == self.version:
            self.now.setText(f"Version {self.version} already holds {alias}.")
        elif holder:
            self.now.setText(f"{alias} is now on version {holder}.")
        else:
            self.now.setText(f"No version holds {alias} yet.")
        self._update_ok()

    def _update_ok(self) -> None:
        """A request needs an alias the version does not hold yet, and a reason."""
        alias = self.chosen_alias()
        self.ok.setEnabled(
            bool(alias) and self.current.get(alias) != self.version and bool(self.comment())
        )
