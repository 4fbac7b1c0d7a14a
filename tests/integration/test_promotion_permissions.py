"""The promotion workflow on a real basic-auth MLflow server, with READ, EDIT and MANAGE users.

The server's default permission is READ. Users and grants are made through its REST API as
the admin; each user acts through their own REST client with their own credentials, and the
workflow's actor is their user name (as the app does with a profile's user).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.domain.promotion import PromotionState
from mlops_desktop.services import model_lock, promotion
from mlops_desktop.services import promotion_flow as flow
from tests.harness.mlflow_servers import MlflowAuthServer
from tests.harness.promotion_seed import SeededModel, seed_model

pytestmark = pytest.mark.integration

PASSWORD = "promotion-password-123"


def _admin(server: MlflowAuthServer, path: str, **body: str) -> None:
    reply = requests.post(f"{server.url}/{path}", json=body, auth=server.admin_auth, timeout=30)
    assert reply.status_code == 200, reply.text


@pytest.fixture
def seeded(mlflow_auth_server: MlflowAuthServer, tmp_path: Path) -> SeededModel:
    return seed_model(mlflow_auth_server.url, tmp_path, auth=mlflow_auth_server.admin_auth)


@pytest.fixture
def users(
    mlflow_auth_server: MlflowAuthServer, seeded: SeededModel
) -> Iterator[Callable[[str], flow.PromotionContext]]:
    """as_user(permission) -> the context of a new user holding that permission on the model
    ("READ" is the server's default: no grant)."""
    server = mlflow_auth_server
    made: list[MlflowRestBackend] = []

    def as_user(permission: str) -> flow.PromotionContext:
        name = f"{permission.lower()}-{uuid.uuid4().hex[:6]}"
        _admin(server, "api/2.0/mlflow/users/create", username=name, password=PASSWORD)
        if permission != "READ":
            _admin(
                server,
                "api/3.0/mlflow/users/permissions/grant",
                username=name,
                resource_type="registered_model",
                resource_id=seeded.name,
                permission=permission,
            )
        backend = MlflowRestBackend(server.url, label="auth server", auth=(name, PASSWORD))
        made.append(backend)
        return flow.PromotionContext(backend, name, seeded.gates_dir)

    yield as_user
    for backend in made:
        backend.close()


def _state(ctx: flow.PromotionContext, name: str) -> tuple[object, ...]:
    model = ctx.tracking.get_registered_model(name)
    versions = {v.version: dict(v.tags) for v in ctx.tracking.search_model_versions(name)}
    return dict(model.tags), dict(model.aliases), versions


def test_a_read_user_can_look_but_not_request_nor_approve(users, seeded) -> None:
    reader, editor = users("READ"), users("EDIT")
    name = seeded.name
    before = _state(reader, name)
    with pytest.raises(flow.PromotionPermissionDenied, match=f"You lack EDIT on model {name}"):
        flow.request_promotion(reader, name, "2", "champion", "mine")
    assert _state(reader, name) == before

    request = flow.request_promotion(editor, name, "2", "champion", "AUC +0.02").request
    assert request is not None
    waiting = flow.requests_awaiting(reader.tracking, reader.actor)
    assert [r.request_id for r in waiting if r.model_name == name] == [request.request_id]
    before = _state(reader, name)
    with pytest.raises(flow.PromotionPermissionDenied) as caught:
        flow.approve_request(reader, request.request_id)
    assert str(caught.value).startswith(f"You lack EDIT on model {name}: your approval was not")
    assert "nothing was changed" in str(caught.value)
    assert (caught.value.permission, caught.value.model_name) == ("EDIT", name)
    assert _state(reader, name) == before  # no alias moved, no tag, no lock left behind
    assert flow.load_status(reader, name).reviews[0].gates is not None  # it may still read


def test_an_edit_user_approves_and_rolls_back_to_a_version(users, seeded) -> None:
    requester, approver, on_call = users("EDIT"), users("EDIT"), users("EDIT")
    name = seeded.name
    request = flow.request_promotion(requester, name, "2", "champion", "x").request
    assert request is not None
    outcome = flow.approve_request(approver, request.request_id, "ok")
    assert outcome.applied
    assert approver.tracking.get_registered_model(name).aliases["champion"] == "2"
    stored = promotion.request_on(
        approver.tracking.get_model_version(name, "2"),  # type: ignore[attr-defined]
        request.request_id,
    )
    assert stored is not None and stored.decided_by == approver.actor
    rolled = flow.rollback_alias(on_call, name, "champion", "incident")
    assert rolled.version == "1"
    history = flow.load_history(on_call.tracking, name)
    assert history.intact
    assert [(e.action, e.actor) for e in history.events] == [
        ("requested", requester.actor),
        ("approved", approver.actor),
        ("applied", approver.actor),
        ("rolled_back", on_call.actor),
    ]


def test_removing_an_alias_needs_manage(users, seeded) -> None:
    """A rollback of an alias's first promotion removes it: MLflow wants MANAGE for that."""
    editor, manager = users("EDIT"), users("MANAGE")
    name = seeded.name
    request = flow.request_promotion(editor, name, "2", "challenger", "try it").request
    assert request is not None
    flow.approve_request(manager, request.request_id)
    assert flow.rollback_plan(editor.tracking, name, "challenger").target is None

    before = _state(editor, name)
    with pytest.raises(flow.PromotionPermissionDenied, match=f"You lack MANAGE on model {name}"):
        flow.rollback_alias(editor, name, "challenger", "undo")
    assert _state(editor, name) == before
    assert model_lock.read_intents(editor.tracking.get_registered_model(name)) == []

    outcome = flow.rollback_alias(manager, name, "challenger", "undo")
    assert outcome.applied and outcome.version == ""
    assert "challenger" not in manager.tracking.get_registered_model(name).aliases
    stored = promotion.request_on(
        manager.tracking.get_model_version(name, "2"),  # type: ignore[attr-defined]
        request.request_id,
    )
    assert stored is not None and stored.state is PromotionState.ROLLED_BACK
    assert flow.load_history(manager.tracking, name).intact


def test_four_eyes_holds_for_a_manager_too(users, seeded) -> None:
    manager = users("MANAGE")
    request = flow.request_promotion(manager, seeded.name, "2", "champion", "mine").request
    assert request is not None
    with pytest.raises(flow.FourEyesRefused):
        flow.approve_request(manager, request.request_id)
