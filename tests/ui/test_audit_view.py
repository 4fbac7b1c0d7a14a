"""The Audit trail view: the demo chain, its integrity badge, alias history, and tampering."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace, open_demo_workspace
from mlops_desktop.ui.views.audit_view import BROKEN_COLOUR, COLUMNS, INTACT_COLOUR, AuditView
from tests.ui.views import open_view

pytestmark = pytest.mark.ui

DEMO_MODEL = "churn-classifier"


@pytest.fixture
def view(qtbot, demo_workspace) -> AuditView:
    return open_view(qtbot, AuditView, demo_workspace)


def cells(view: AuditView, name: str) -> list[str]:
    index = COLUMNS.index(name)
    return [view.table.item(row, index).text() for row in range(view.table.rowCount())]


def test_the_timeline_lists_every_event_of_the_chain(view):
    assert view.overview is not None and view.overview.name == DEMO_MODEL
    events = view.overview.audit.events
    assert view.table.rowCount() == len(events) >= 5
    assert cells(view, "#") == [str(e.seq) for e in events]
    assert {"requested", "approved", "applied", "rolled back"} <= set(cells(view, "Action"))
    assert "alice" in cells(view, "Actor")
    assert all(len(h) == 12 for h in cells(view, "Hash"))
    assert any("INC-2041" in comment for comment in cells(view, "Comment"))


def test_an_intact_chain_gets_a_green_badge(view):
    count = len(view.overview.audit.events)
    assert view.badge.text() == f"Chain intact: {count} events verified"
    assert INTACT_COLOUR in view.badge.styleSheet()
    assert not view.mismatches.isVisibleTo(view)


def test_the_chain_answers_which_version_held_an_alias_when(view):
    events = view.overview.audit.events
    applied = [e for e in events if e.action == "applied" and e.alias == "champion"]
    rollback = next(e for e in events if e.action == "rolled_back")
    before_first = applied[0].time_ms - 60_000
    assert view.ask("champion", before_first).startswith("No version held “champion”")
    assert view.ask("champion", applied[0].time_ms + 1000).startswith(
        f"Version {applied[0].version} held “champion”"
    )
    last_applied = applied[-1]
    assert view.ask("champion", rollback.time_ms - 1000).startswith(
        f"Version {last_applied.version} held"
    )
    assert view.ask("champion", rollback.time_ms + 1000).startswith(
        f"Version {rollback.version} held"
    )


def test_picking_an_event_asks_about_its_moment(view):
    events = view.overview.audit.events
    row = next(i for i, e in enumerate(events) if e.action == "rolled_back")
    view.table.setCurrentCell(row, 0)
    assert view.alias_combo.currentText() == events[row].alias
    assert view.when_edit.dateTime().toMSecsSinceEpoch() // 1000 == events[row].time_ms // 1000
    assert f"Version {events[row].version} held" in view.answer.text()


@pytest.fixture
def tampered_workspace(demo_root, tmp_path) -> Iterator[tuple[Workspace, int]]:
    """A copy of the demo whose audit event 3 had its actor rewritten in the store."""
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    shutil.copytree(demo_root, paths.demo_dir)
    store = sqlite3.connect(Path(paths.demo_dir) / "mlflow.db")
    try:
        key = "mlops.audit.000003"
        (value,) = store.execute(
            "SELECT value FROM registered_model_tags WHERE name = ? AND key = ?",
            (DEMO_MODEL, key),
        ).fetchone()
        event = json.loads(value)
        event["actor"] = "mallory"
        with store:
            store.execute(
                "UPDATE registered_model_tags SET value = ? WHERE name = ? AND key = ?",
                (json.dumps(event, separators=(",", ":")), DEMO_MODEL, key),
            )
    finally:
        store.close()
    workspace = open_demo_workspace(paths, TaskState())
    yield workspace, 3
    workspace.close()


def test_a_tampered_event_turns_the_badge_red_and_names_the_event(qtbot, tampered_workspace):
    workspace, seq = tampered_workspace
    view = open_view(qtbot, AuditView, workspace)
    assert view.overview.name == DEMO_MODEL
    text = view.badge.text()
    assert text.startswith("Chain broken: 1 problem found")
    assert f"Event {seq}" in text and "mallory" in text and "changed" in text
    assert BROKEN_COLOUR in view.badge.styleSheet()
    assert "broken" in view.model_combo.currentText()
    assert "may be wrong" in view.ask("champion", view.overview.audit.events[-1].time_ms)
