"""The Models view against a real MLflow server: approve from the inbox, then roll back.

The server serves a copy of the demo store, so it holds the demo's pending request (by alice)
and its audit chain; the current user is this machine's user, as for a server without auth.
"""

from __future__ import annotations

import getpass
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services.demo import DemoLayout
from mlops_desktop.services.gates import GATES_FOLDER
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.promotion_flow import PromotionOutcome
from mlops_desktop.services.registry import load_model
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.views.audit_view import AuditView
from mlops_desktop.ui.views.models_view import ModelsView
from tests.harness.mlflow_servers import ServerFactory
from tests.ui.test_promotion_ui import DEMO_MODEL, PASSING_GATES, TIMEOUT_MS, wait_for_action

pytestmark = [pytest.mark.ui, pytest.mark.integration]


@pytest.fixture(scope="module")
def server_copy(
    demo_root: Path, mlflow_server_factory: ServerFactory, tmp_path_factory
) -> Iterator[tuple[Workspace, AppPaths]]:
    root = tmp_path_factory.mktemp("promotion-server")
    layout = DemoLayout(demo_root)
    shutil.copyfile(layout.store_path, root / "mlflow.db")
    server = mlflow_server_factory(root / "mlflow.db", root / "artifacts")
    paths = AppPaths(root / "config", root / "data", root / "cache", root / "log")
    gates = paths.config_dir / GATES_FOLDER
    gates.mkdir(parents=True)
    (gates / f"{DEMO_MODEL}.toml").write_text(PASSING_GATES, encoding="utf-8")
    backend = MlflowRestBackend(server.url, label="test server")
    yield Workspace("test server", "mlflow", backend), paths
    backend.close()


def open_on(qtbot, view_class, workspace: Workspace, paths: AppPaths):
    ctx = UiContext(paths)
    ctx.set_workspace(workspace)
    view = view_class(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.resize(1400, 900)
    view.show()
    signals = [view.content_ready]
    if isinstance(view, ModelsView):
        signals.append(view.inbox_loaded)
    with qtbot.waitSignals(signals, timeout=TIMEOUT_MS):
        view.activate()
    return view


def test_approve_from_the_inbox_then_roll_back_on_a_server(qtbot, server_copy):
    workspace, paths = server_copy
    view = open_on(qtbot, ModelsView, workspace, paths)
    assert view.promotion is not None and view.promotion.actor == getpass.getuser()
    (card,) = view.inbox_cards
    assert card.request.requester == "alice" and card.approve.isEnabled()

    card.approve.click()
    outcome = wait_for_action(qtbot, view)
    assert isinstance(outcome, PromotionOutcome), view.outcome.headline.text()
    model = load_model(workspace.tracking, DEMO_MODEL, TaskState())
    assert model.model.aliases["champion"] == "4"
    assert [e.action for e in model.audit.events[-2:]] == ["approved", "applied"]
    assert model.audit.intact
    assert not view.inbox_cards

    if view.rollback_choices.get("champion") is None:
        qtbot.waitSignal(view.rollback_choices_loaded, timeout=TIMEOUT_MS).wait()
    assert view.rollback_choices["champion"].target == "2"
    view.rollback("champion", "Canary error rate doubled.")
    outcome = wait_for_action(qtbot, view)
    assert isinstance(outcome, PromotionOutcome), view.outcome.headline.text()
    model = load_model(workspace.tracking, DEMO_MODEL, TaskState())
    assert model.model.aliases["champion"] == "2"
    assert model.audit.events[-1].action == "rolled_back"

    audit = open_on(qtbot, AuditView, workspace, paths)
    events = audit.overview.audit.events
    assert audit.badge.text() == f"Chain intact: {len(events)} events verified"
    assert audit.timeline.timeline.rowCount() == len(events)
