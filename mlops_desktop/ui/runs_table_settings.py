"""What the runs table remembers per experiment: chosen columns, pinned runs, quick filter.

Kept in the window's QSettings file (the one MainWindow uses for its geometry), one JSON entry
per (workspace location, experiment id), under an opaque key: locations hold characters
QSettings treats as separators.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings


class RunsTableSettings:
    """The runs table's choices per experiment (columns, pinned runs, quick filter), in the window's
    QSettings file; keyed by the workspace's location and the experiment id."""

    GROUP = "runs_table"

    def __init__(self, settings_file: Path) -> None:
        self._settings = QSettings(str(settings_file), QSettings.Format.IniFormat)

    @staticmethod
    def _key(location: str, experiment_id: str) -> str:
        digest = hashlib.sha256(f"{location}\n{experiment_id}".encode()).hexdigest()[:20]
        return f"{RunsTableSettings.GROUP}/{digest}"

    def _read(self, location: str, experiment_id: str) -> dict[str, Any]:
        raw = self._settings.value(self._key(location, experiment_id), "")
        try:
            value = json.loads(str(raw)) if raw else {}
        except json.JSONDecodeError:
            return {}  # an unreadable entry is the same as none: defaults apply
        return value if isinstance(value, dict) else {}

    def _write(self, location: str, experiment_id: str, **changes: Any) -> None:
        entry = self._read(location, experiment_id)
        entry.update(changes, location=location, experiment_id=experiment_id)
        self._settings.setValue(self._key(location, experiment_id), json.dumps(entry))

    def columns(self, location: str, experiment_id: str) -> list[str] | None:
        """The chosen columns, or None when the user never chose."""
        columns = self._read(location, experiment_id).get("columns")
        return [str(c) for c in columns] if isinstance(columns, list) else None

    def set_columns(self, location: str, experiment_id: str, columns: Sequence[str]) -> None:
        self._write(location, experiment_id, columns=list(columns))

    def forget_columns(self, location: str, experiment_id: str) -> None:
        self._write(location, experiment_id, columns=None)

    def pinned(self, location: str, experiment_id: str) -> list[str]:
        pins = self._read(location, experiment_id).get("pinned")
        return [str(p) for p in pins] if isinstance(pins, list) else []

    def set_pinned(self, location: str, experiment_id: str, run_ids: Sequence[str]) -> None:
        self._write(location, experiment_id, pinned=sorted(run_ids))

    def quick_filter(self, location: str, experiment_id: str) -> str:
        return str(self._read(location, experiment_id).get("quick_filter") or "")

    def set_quick_filter(self, location: str, experiment_id: str, text: str) -> None:
        if text != self.quick_filter(location, experiment_id):
            self._write(location, experiment_id, quick_filter=text)

    def sync(self) -> None:
        self._settings.sync()
