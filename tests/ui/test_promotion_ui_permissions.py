"""The Models view on a real basic-auth server: a READ user's approval is refused in a sentence.

The user comes from a connection profile, as in the app: the engine acts as the profile's user
name, and the server's 403 reaches the user as "You lack EDIT on model M", with the registry
unchanged.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind
from mlops_desktop.services import promotion_flow as flow
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.profiles import ProfileStore, new_profile_id
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.views.models_view import ModelsView
from tests.harness.mlflow_servers import MlflowAuthServer
from tests.harness.promotion_seed import seed_model
from tests.ui.test_promotion_ui import TIMEOUT_MS, wait_for_action

pytestmark = [pytest.mark.ui, pytest.mark.integration]

PASSWORD = "promotion-ui-password-123"


def _admin(server: MlflowAuthServer, path: str, **body: str) -> None:
    reply = requests.post(f"{server.url}/{path}", json=body, auth=server.admin_auth, timeout=30)
    assert reply.status_code == 200, reply.text


def _user(server: MlflowAuthServer, model: str, permission: str) -> str:
    name = f"ui-{permission.lower()}-{uuid.uuid4().hex[:6]}"
    _admin(server, "api/2.0/mlflow/users/create", username=name, password=PASSWORD)
    if permission != "READ":
        _admin(
            server,
            "api/3.0/mlflow/users/permissions/grant",
            username=name,
            resource_type="registered_model",
            resource_id=model,
            permission=permission,
        )
    return name


def test_a_read_user_approving_from_the_inbox_is_told_they_lack_edit(
    qtbot, mlflow_auth_server: MlflowAuthServer, tmp_path: Path
):
    server = mlflow_auth_server
    seeded = seed_model(server.url, tmp_path, auth=server.admin_auth, prefix="ui-perm")
    editor_name = _user(server, seeded.name, "EDIT")
    reader_name = _user(server, seeded.name, "READ")
    editor = MlflowRestBackend(server.url, label="editor", auth=(editor_name, PASSWORD))
    reader = MlflowRestBackend(server.url, label="auth server", auth=(reader_name, PASSWORD))
    try:
        asked = flow.request_promotion(
            flow.PromotionContext(editor, editor_name, seeded.gates_dir),
            seeded.name,
            "2",
            "champion",
            "AUC +0.02, same latency.",
        )
        assert asked.request is not None

        paths = AppPaths(
            tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log"
        )
        store = ProfileStore(paths.profiles_file)
        profile = Profile(
            profile_id=new_profile_id(),
            name="auth-reader",
            kind=ProfileKind.MLFLOW,
            url=server.url,
            auth=AuthKind.BASIC,
            username=reader_name,
            gates_dir=str(seeded.gates_dir),
        )
        store.save(profile)
        ctx = UiContext(paths, profiles=store)
        ctx.set_workspace(Workspace("auth", "mlflow", reader, profile_id=profile.profile_id))
        view = ModelsView(ctx)
        qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
        view.resize(1400, 900)
        view.show()
        with qtbot.waitSignals([view.content_ready, view.inbox_loaded], timeout=TIMEOUT_MS):
            view.activate()
        assert view.promotion is not None and view.promotion.actor == reader_name
        card = next(c for c in view.inbox_cards if c.request.request_id == asked.request.request_id)
        assert card.approve.isEnabled(), card.gates.text()  # the gates pass; the server decides

        card.approve.click()
        result = wait_for_action(qtbot, view)
        assert isinstance(result, flow.PromotionPermissionDenied)
        assert view.outcome.tone == "failed"
        text = view.outcome.headline.text()
        assert f"You lack EDIT on model {seeded.name}" in text and "nothing was changed" in text
        model = reader.get_registered_model(seeded.name)
        assert model.aliases["champion"] == "1"
        assert not [k for k in model.tags if k.startswith("mlops.promotion.lock")]
    finally:
        editor.close()
        reader.close()
