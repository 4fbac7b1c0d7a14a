"""The profile dialog: fields per kind, inline checks, and where the secret goes when saved."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import keyring
import pytest

from mlops_desktop.backends.secrets import SERVICE_NAME
from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.ui.app import setup_logging
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.profile_dialog import COLOUR_PRESETS, ProfileDialog
from tests.harness.environment import SessionDirs
from tests.ui.scripted_prompts import ScriptedPrompts, files_holding, without_keychain

pytestmark = pytest.mark.ui

PRESET = {label: colour for label, colour in COLOUR_PRESETS}


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def ctx(qtbot, prompts: ScriptedPrompts) -> Iterator[UiContext]:
    paths = AppPaths.from_environment()
    paths.profiles_file.unlink(missing_ok=True)
    context = UiContext(paths, prompts=prompts)
    yield context
    qtbot.waitUntil(lambda: not context.activity.tasks, timeout=20_000)
    paths.profiles_file.unlink(missing_ok=True)


@pytest.fixture
def app_log() -> Iterator[None]:
    """The app's own log file, at DEBUG (task tracebacks included), for the secret scans."""
    logger = logging.getLogger("mlops_desktop")
    before, level = list(logger.handlers), logger.level
    setup_logging(AppPaths.from_environment())
    logger.setLevel(logging.DEBUG)
    yield
    for handler in logger.handlers[len(before) :]:
        handler.close()
        logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def no_keychain() -> Iterator[None]:
    yield from without_keychain()


def new_dialog(qtbot, ctx: UiContext, others: tuple[str, ...] = ()) -> ProfileDialog:
    dialog = ProfileDialog(ctx, others)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill_mlflow(dialog: ProfileDialog, name: str, url: str, user: str = "", secret: str = ""):
    dialog.name_edit.setText(name)
    dialog.set_kind(ProfileKind.MLFLOW)
    dialog.url_edit.setText(url)
    if user:
        dialog.set_auth(AuthKind.BASIC)
        dialog.username_edit.setText(user)
        dialog.secret_edit.setText(secret)


def save(qtbot, dialog: ProfileDialog) -> Profile:
    with qtbot.waitSignal(dialog.profile_saved, timeout=20_000) as saved:
        dialog.accept()
    profile = saved.args[0]
    assert isinstance(profile, Profile)
    return profile


def visible_error(dialog: ProfileDialog, field: str) -> str:
    note = dialog._errors[field]
    return note.text() if note.isVisibleTo(dialog) else ""


def test_fields_follow_the_kind(qtbot, ctx):
    dialog = new_dialog(qtbot, ctx)
    dialog.set_kind(ProfileKind.MLFLOW)
    assert dialog.sign_in_group.isVisibleTo(dialog)
    assert dialog.network_group.isVisibleTo(dialog)
    assert dialog.url_caption.text() == "Server URL"
    assert not dialog._holders["namespace"].isVisibleTo(dialog)

    dialog.set_kind(ProfileKind.LOCAL)
    assert not dialog.sign_in_group.isVisibleTo(dialog)
    assert not dialog.network_group.isVisibleTo(dialog)
    assert dialog.url_caption.text() == "Store folder"

    dialog.set_kind(ProfileKind.KUBERNETES)
    assert dialog._holders["namespace"].isVisibleTo(dialog)
    assert dialog._holders["kube_context"].isVisibleTo(dialog)

    dialog.set_kind(ProfileKind.SLURM)
    assert dialog.auth is AuthKind.SLURM_JWT
    assert dialog._holders["username"].isVisibleTo(dialog)
    assert dialog.secret_caption.text() == "JWT"
    with pytest.raises(ValueError, match="does not offer"):
        dialog.set_auth(AuthKind.BASIC)


def test_secret_field_hides_what_is_typed(qtbot, ctx):
    dialog = new_dialog(qtbot, ctx)
    dialog.set_auth(AuthKind.BEARER)
    assert dialog.secret_edit.echoMode() == dialog.secret_edit.EchoMode.Password
    assert dialog.secret_caption.text() == "Token"
    assert "OS keychain" in dialog.secret_hint.text()


def test_problems_are_shown_next_to_their_fields_and_block_saving(qtbot, ctx):
    dialog = new_dialog(qtbot, ctx, others=("Prod",))
    dialog.accept()  # everything empty
    assert "name" in visible_error(dialog, "name").lower()
    assert "URL" in visible_error(dialog, "url")
    assert dialog.isVisible(), "a dialog with problems stays open"

    dialog.name_edit.setText("prod")
    assert "already exists" in visible_error(dialog, "name")
    dialog.url_edit.setText("ftp://mlflow.example.com")
    assert "http://" in visible_error(dialog, "url")
    dialog.set_auth(AuthKind.BASIC)
    dialog.accept()
    assert "user name" in visible_error(dialog, "username")

    dialog.name_edit.setText("prod-eu")
    dialog.url_edit.setText("https://mlflow.example.com")
    dialog.username_edit.setText("alice")
    assert not any(visible_error(dialog, field) for field in dialog._errors)
    profile = save(qtbot, dialog)
    assert profile.name == "prod-eu"
    assert ctx.profiles.get("prod-eu") == profile


def test_turning_tls_verification_off_warns(qtbot, ctx):
    dialog = new_dialog(qtbot, ctx)
    warning = dialog._warnings["verify"]
    assert dialog.verify_check.isChecked(), "verification is on by default"
    assert not warning.isVisibleTo(dialog)
    dialog.verify_check.setChecked(False)
    assert warning.isVisibleTo(dialog)
    assert "not be checked" in warning.text()


def test_colour_presets_set_colour_and_label(qtbot, ctx):
    dialog = new_dialog(qtbot, ctx)
    dialog.preset_buttons[PRESET["prod"]].click()
    assert dialog.colour == PRESET["prod"]
    assert dialog.label_edit.text() == "prod"
    assert dialog.preset_buttons[PRESET["prod"]].isChecked()
    dialog.preset_buttons[PRESET["staging"]].click()
    assert (dialog.colour, dialog.label_edit.text()) == (PRESET["staging"], "staging")
    dialog.label_edit.setText("eu-west")
    dialog.preset_buttons[PRESET["dev"]].click()
    assert dialog.label_edit.text() == "eu-west", "a label the user typed is kept"


def test_unused_fields_are_not_saved(qtbot, ctx):
    dialog = new_dialog(qtbot, ctx)
    fill_mlflow(dialog, "local-copy", "https://x.example.com", user="bob", secret="s")
    dialog.namespace_edit.setText("ml")
    dialog.set_kind(ProfileKind.LOCAL)
    dialog.url_edit.setText("/data/mlruns")
    profile = dialog.profile()
    assert profile.auth is AuthKind.NONE
    assert (profile.username, profile.namespace, profile.proxy) == ("", "", "")
    assert dialog.secret() == ""


def test_secret_goes_to_the_keychain_and_to_no_file(qtbot, ctx, keychain, session_dirs, app_log):
    secret = "s3cret-typed-in-the-dialog-Ü"
    dialog = new_dialog(qtbot, ctx)
    fill_mlflow(dialog, "staging", "https://staging.example.com", user="alice", secret=secret)
    profile = save(qtbot, dialog)
    assert keyring.get_password(SERVICE_NAME, profile.profile_id) == secret
    assert dialog.secret_edit.text() == "", "the dialog forgets the secret once stored"
    assert ctx.profiles.get("staging").username == "alice"

    exported = session_dirs.cache / "team-profiles.json"
    ctx.profiles.export(exported)
    logging.getLogger("mlops_desktop").debug("after saving %s", profile)
    roots = _xdg_roots(session_dirs)
    assert list(session_dirs.state.rglob("*.log")), "the app log is among the files scanned"
    for encoding in ("utf-8", "utf-16-le", "utf-32-le"):
        assert files_holding(roots, secret.encode(encoding)) == [], encoding


def test_editing_with_an_empty_secret_keeps_the_stored_one(qtbot, ctx, keychain):
    dialog = new_dialog(qtbot, ctx)
    fill_mlflow(dialog, "dev", "https://dev.example.com", user="alice", secret="first-secret")
    profile = save(qtbot, dialog)

    edit = ProfileDialog(ctx, (), profile)
    qtbot.addWidget(edit)
    assert edit.secret_edit.text() == ""
    assert "leave empty to keep" in edit.secret_edit.placeholderText()
    edit.url_edit.setText("https://dev2.example.com")
    edited = save(qtbot, edit)
    assert edited.profile_id == profile.profile_id
    assert ctx.profiles.get("dev").url == "https://dev2.example.com"
    assert keyring.get_password(SERVICE_NAME, profile.profile_id) == "first-secret"

    # Dropping the sign-in deletes the secret: none is left behind in the keychain.
    edit = ProfileDialog(ctx, (), edited)
    qtbot.addWidget(edit)
    edit.set_auth(AuthKind.NONE)
    save(qtbot, edit)
    assert keyring.get_password(SERVICE_NAME, profile.profile_id) is None


def test_no_keychain_offers_a_session_only_secret(
    qtbot, ctx, prompts, no_keychain, session_dirs, app_log
):
    prompts.keep_for_session.append(True)
    secret = "session-only-secret-42"
    dialog = new_dialog(qtbot, ctx)
    fill_mlflow(dialog, "laptop", "https://mlflow.example.com", user="alice", secret=secret)
    profile = save(qtbot, dialog)

    (question,) = prompts.questions("session")
    assert "keychain" in question[2].lower()
    assert ctx.vault.has_session_secret(profile.profile_id)
    assert ctx.vault.get(profile.profile_id) == secret
    assert "this session only" in dialog.notice
    assert files_holding(_xdg_roots(session_dirs), secret.encode()) == []


def test_refusing_the_session_only_secret_saves_the_profile_without_it(
    qtbot, ctx, prompts, no_keychain
):
    prompts.keep_for_session.append(False)
    dialog = new_dialog(qtbot, ctx)
    fill_mlflow(dialog, "laptop", "https://mlflow.example.com", user="alice", secret="x-secret")
    profile = save(qtbot, dialog)
    assert not ctx.vault.has_session_secret(profile.profile_id)
    assert ctx.profiles.get("laptop") == profile
    assert "without its secret" in dialog.notice


def _xdg_roots(dirs: SessionDirs):
    return [dirs.config, dirs.data, dirs.cache, dirs.state]
