"""The RegistryWriter protocol: the few model-registry writes the promotion workflow needs.

A tracking backend that can change the registry (an MLflow server, a local store) implements
it next to `TrackingBackend`; a read-only one (a bundle) does not, and the workflow says so.
Every write is a single tag or alias operation, each atomic on the server; the workflow
(`services/promotion_flow.py`) builds its steps from them.

On an MLflow basic-auth server these need (MLflow 3.17, `mlflow/server/auth`): setting or
deleting a registered-model tag, setting a model-version tag and setting an alias EDIT;
deleting a model-version tag and deleting an alias MANAGE.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mlops_desktop.backends.errors import PermissionDenied
from mlops_desktop.domain.registry import ModelVersion

EDIT = "EDIT"
MANAGE = "MANAGE"


class MissingPermission(PermissionDenied):
    """403 on a registry write: the user lacks `permission` on model `model_name`."""

    def __init__(self, message: str, *, permission: str, model_name: str) -> None:
        super().__init__(message)
        self.permission = permission
        self.model_name = model_name


def missing_permission(
    permission: str, model_name: str, doing: str, where: str
) -> MissingPermission:
    """The error for a refused write, in one sentence: who lacks what, and who can grant it."""
    return MissingPermission(
        f"You lack {permission} on model {model_name} (needed to {doing}): ask an "
        f"administrator of {where} to grant it.",
        permission=permission,
        model_name=model_name,
    )


@runtime_checkable
class RegistryWriter(Protocol):
    """Single writes to the model registry; errors are `BackendError` subclasses
    (`MissingPermission` on a 403, `NotFound` for a missing model or version)."""

    def get_model_version(self, model_name: str, version: str) -> ModelVersion:
        """One version read fresh, with its tags and the aliases it holds."""
        ...

    def set_model_version_tag(
        self, model_name: str, version: str, key: str, value: str
    ) -> None: ...

    def delete_model_version_tag(self, model_name: str, version: str, key: str) -> None:
        """Remove a version's tag; a tag that is already gone is not an error."""
        ...

    def set_registered_model_tag(self, model_name: str, key: str, value: str) -> None: ...

    def delete_registered_model_tag(self, model_name: str, key: str) -> None:
        """Remove a model's tag; a tag that is already gone is not an error."""
        ...

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        """Point `alias` at `version` (moving it off whichever version held it)."""
        ...

    def delete_alias(self, model_name: str, alias: str) -> None:
        """Remove `alias` from the model; an alias that is already gone is not an error."""
        ...
