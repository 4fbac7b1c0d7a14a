"""The Connections view against a real keychain and a real basic-auth MLflow server.

Profiles are added through the dialog as a user would; Test and Connect go to the server;
the questions the window asks (a secret, "keep for this session?", "remove?") are answered
by `ScriptedPrompts`.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest

from mlops_desktop.backends.secrets import SERVICE_NAME, SecretVault
from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.profiles import new_profile_id
from mlops_desktop.ui.context import DEMO_KEY, UiContext
from mlops_desktop.ui.main_window import MainWindow
from mlops_desktop.ui.profile_dialog import COLOUR_PRESETS
from mlops_desktop.ui.profile_list import ROLE_COLOUR, ROLE_DETAIL, ROLE_LABEL
from mlops_desktop.ui.views.connections_view import DEMO_NAME, ConnectionsView
from tests.harness.mlflow_servers import free_port
from tests.ui.scripted_prompts import (
    ScriptedPrompts,
    change_password,
    create_user,
    files_holding,
    without_keychain,
)

pytestmark = pytest.mark.ui

PRESET = {label: colour for label, colour in COLOUR_PRESETS}
TIMEOUT_MS = 60_000


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def ctx(qtbot, prompts: ScriptedPrompts, demo_root) -> Iterator[UiContext]:
    paths = AppPaths.from_environment()
    paths.profiles_file.unlink(missing_ok=True)
    context = UiContext(paths, prompts=prompts)
    yield context
    # A task still running when its view is deleted would report to nobody: let them end.
    qtbot.waitUntil(lambda: not context.activity.tasks, timeout=TIMEOUT_MS)
    context.close_all()
    paths.profiles_file.unlink(missing_ok=True)


@pytest.fixture
def window(qtbot, ctx: UiContext) -> MainWindow:
    win = MainWindow(ctx, persist=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(ctx.workspace_changed, timeout=TIMEOUT_MS):
        win.open_default_workspace()
    return win


@pytest.fixture
def view(qtbot, window: MainWindow) -> ConnectionsView:
    connections = window.view("connections")
    assert isinstance(connections, ConnectionsView)
    with qtbot.waitSignal(connections.content_ready, timeout=TIMEOUT_MS):
        window.show_view("connections")
    return connections


@pytest.fixture
def no_keychain() -> Iterator[None]:
    yield from without_keychain()


def add_profile(
    qtbot,
    view: ConnectionsView,
    name: str,
    url: str,
    preset: str = "dev",
    user: str = "",
    secret: str = "",
) -> Profile:
    """Fill the Add dialog as a user would, save it, and wait for the list to show it."""
    dialog = view.add_profile()
    dialog.name_edit.setText(name)
    dialog.set_kind(ProfileKind.MLFLOW)
    dialog.url_edit.setText(url)
    dialog.preset_buttons[PRESET[preset]].click()
    if user:
        dialog.set_auth(AuthKind.BASIC)
        dialog.username_edit.setText(user)
        dialog.secret_edit.setText(secret)
    with qtbot.waitSignal(view.profiles_loaded, timeout=TIMEOUT_MS):
        dialog.accept()
    profile = dialog.saved_profile()
    assert profile is not None
    return profile


def connect_selected(qtbot, view: ConnectionsView):
    """Click Connect; wait for the switch and for the view's summary of the new workspace."""
    with qtbot.waitSignals(
        [view.ctx.workspace_changed, view.content_ready], timeout=TIMEOUT_MS, order="strict"
    ):
        view.connect_button.click()
    return view.ctx.workspace


def run_test(qtbot, view: ConnectionsView, name: str):
    view.select(name)
    with qtbot.waitSignal(view.test_finished, timeout=TIMEOUT_MS) as finished:
        view.test_button.click()
    assert view.result_panel.isVisibleTo(view)
    return finished.args[0]


def test_three_profiles_are_listed_with_their_colours_after_the_demo(qtbot, view):
    for name, preset in (("dev", "dev"), ("staging", "staging"), ("prod", "prod")):
        add_profile(qtbot, view, f"{name}-tracking", f"https://{name}.example.com", preset)

    assert view.listed_names() == [DEMO_NAME, "dev-tracking", "staging-tracking", "prod-tracking"]
    items = [view.profile_list.item(row) for row in range(4)]
    assert [item.data(ROLE_LABEL) for item in items] == ["demo", "dev", "staging", "prod"]
    assert [item.data(ROLE_COLOUR) for item in items[1:]] == [
        PRESET["dev"],
        PRESET["staging"],
        PRESET["prod"],
    ]
    assert "https://prod.example.com" in items[3].data(ROLE_DETAIL)
    assert view.selected_key() == view.ctx.profiles.get("prod-tracking").profile_id
    assert view.detail_title.text() == "prod-tracking  ·  prod"


def test_demo_entry_cannot_be_edited_or_removed(view):
    view.select(DEMO_KEY)
    assert view.selected_key() == DEMO_KEY
    assert not view.edit_button.isEnabled()
    assert not view.remove_button.isEnabled()
    assert view.connect_button.text() == "Active"


def test_right_password_shows_the_user_and_the_version(qtbot, view, keychain, mlflow_auth_server):
    user, password = create_user(mlflow_auth_server)
    add_profile(qtbot, view, "auth", mlflow_auth_server.url, "staging", user, password)
    report = run_test(qtbot, view, "auth")
    assert report.ok, report.message
    assert report.user == user
    assert report.server_version.startswith("3.")
    assert view.result_panel.tone == "ok"
    headline = view.result_panel.headline.text()
    assert f"Connected to MLflow {report.server_version}" in headline
    assert f"as {user}" in headline
    assert " ms" in headline


def test_wrong_password_gives_the_401_sentence(qtbot, view, keychain, mlflow_auth_server):
    user, _ = create_user(mlflow_auth_server)
    add_profile(qtbot, view, "wrong", mlflow_auth_server.url, "dev", user, "not-the-password")
    report = run_test(qtbot, view, "wrong")
    assert not report.ok
    assert report.failure == "auth"
    assert view.result_panel.tone == "failed"
    assert "refused the credentials (401)" in view.result_panel.headline.text()


def test_closed_port_gives_the_refused_sentence(qtbot, view):
    add_profile(qtbot, view, "closed", f"http://127.0.0.1:{free_port()}", "dev")
    report = run_test(qtbot, view, "closed")
    assert report.failure == "refused"
    assert view.result_panel.tone == "failed"
    assert view.result_panel.headline.text() == report.message
    assert "refused the connection" in report.message


def test_connect_switches_every_view_and_back_to_the_demo_instantly(
    qtbot, window, view, keychain, mlflow_auth_server
):
    ctx = window.ctx
    demo = ctx.workspace
    user, password = create_user(mlflow_auth_server)
    profile = add_profile(qtbot, view, "prod-auth", mlflow_auth_server.url, "prod", user, password)
    view.select("prod-auth")
    server = connect_selected(qtbot, view)
    assert server.profile_id == profile.profile_id
    assert ctx.workspace is server
    assert set(ctx.open_workspaces) == {DEMO_KEY, profile.profile_id}
    assert view.header.badge.text() == "on prod-auth"
    assert view.header.badge_colour == PRESET["prod"]
    experiments = window.view("experiments")
    assert experiments.header.badge.text() == "on prod-auth"
    assert experiments.header.badge_colour == PRESET["prod"]
    switcher = window.connection_switcher
    assert [switcher.itemText(i) for i in range(switcher.count())] == [DEMO_NAME, "prod-auth"]
    assert switcher.currentText() == "prod-auth"

    started: list[str] = []
    record = ctx.activity.add
    ctx.activity.add = lambda task: (started.append(task.description), record(task))[1]  # type: ignore[method-assign]
    switcher.setCurrentIndex(0)
    switcher.activated.emit(0)
    assert ctx.workspace is demo, "an open workspace is switched to at once"
    assert experiments.header.badge.text() == f"on {DEMO_NAME}"
    assert not [d for d in started if "Connecting" in d or "Opening" in d or "Reading" in d]

    view.select("prod-auth")
    assert view.connect_button.text() == "Switch to"
    view.connect_button.click()
    assert ctx.workspace is server
    assert not [d for d in started if "Connecting" in d or "Opening" in d]


def test_revoked_secret_prompts_again_and_connects(
    qtbot, view, prompts, keychain, mlflow_auth_server
):
    user, password = create_user(mlflow_auth_server, prefix="bob")
    profile = add_profile(qtbot, view, "revoked", mlflow_auth_server.url, "prod", user, password)
    new_password = change_password(mlflow_auth_server, user)
    prompts.secrets.append(new_password)

    view.select("revoked")
    connect_selected(qtbot, view)
    ((_, name, reason),) = prompts.questions("secret")
    assert name == "revoked"
    assert "401" in reason
    assert view.ctx.workspace.profile_id == profile.profile_id
    assert keyring.get_password(SERVICE_NAME, profile.profile_id) == new_password


def test_cancelled_prompt_reports_the_refusal(qtbot, view, prompts, keychain, mlflow_auth_server):
    user, _ = create_user(mlflow_auth_server)
    add_profile(qtbot, view, "cancelled", mlflow_auth_server.url, "dev", user, "wrong-one")
    prompts.secrets.append(None)
    view.select("cancelled")
    with qtbot.waitSignal(view.connect_failed, timeout=TIMEOUT_MS) as failed:
        view.connect_button.click()
    assert "401" in failed.args[0]
    assert view.ctx.workspace.kind == "demo"
    assert view.result_panel.tone == "failed"


def test_unusable_keychain_shows_a_banner_and_keeps_the_secret_in_memory_only(
    qtbot, ctx, prompts, no_keychain, mlflow_auth_server, session_dirs
):
    win = MainWindow(ctx, persist=False)
    qtbot.addWidget(win)
    view = win.view("connections")
    with qtbot.waitSignal(view.keychain_checked, timeout=TIMEOUT_MS) as checked:
        win.show_view("connections")
    status = checked.args[0]
    assert not status.usable
    assert view.keychain_banner.isVisibleTo(view)
    assert status.reason in view.keychain_banner.details.text()
    assert "this session only" in view.keychain_banner.details.text()

    user, password = create_user(mlflow_auth_server)
    prompts.keep_for_session.append(True)
    profile = add_profile(qtbot, view, "memory", mlflow_auth_server.url, "dev", user, password)
    assert ctx.vault.has_session_secret(profile.profile_id)

    view.select("memory")
    connect_selected(qtbot, view)
    assert ctx.workspace.profile_id == profile.profile_id
    assert prompts.questions("secret") == [], "the session secret was used"
    roots = [session_dirs.config, session_dirs.data, session_dirs.cache, session_dirs.state]
    assert files_holding(roots, password.encode()) == []


def test_remove_asks_first_and_deletes_the_secret(qtbot, view, prompts, keychain):
    profile = add_profile(qtbot, view, "old", "https://old.example.com", "dev", "u", "old-secret")
    assert keyring.get_password(SERVICE_NAME, profile.profile_id) == "old-secret"
    view.select("old")

    prompts.confirmations.append(False)
    view.remove_button.click()
    assert "old" in view.listed_names()

    prompts.confirmations.append(True)
    with qtbot.waitSignal(view.profiles_loaded, timeout=TIMEOUT_MS):
        view.remove_button.click()
    assert view.listed_names() == [DEMO_NAME]
    assert keyring.get_password(SERVICE_NAME, profile.profile_id) is None
    assert view.notice.text() == "Removed 'old'."


def test_duplicate_export_and_import(qtbot, view, prompts, tmp_path):
    add_profile(qtbot, view, "team", "https://team.example.com", "staging")
    view.select("team")
    with qtbot.waitSignal(view.profiles_loaded, timeout=TIMEOUT_MS):
        view.duplicate_button.click()
    assert view.listed_names() == [DEMO_NAME, "team", "team (copy)"]
    assert view.selected_profile().name == "team (copy)"

    exported = tmp_path / "team.json"
    prompts.files.append(exported)
    with qtbot.waitSignal(view.notice_shown, timeout=TIMEOUT_MS) as notice:
        view.export_button.click()
    assert "Exported 2 connections" in notice.args[0]
    assert "without secrets" in notice.args[0]

    prompts.files.append(exported)
    with qtbot.waitSignal(view.profiles_loaded, timeout=TIMEOUT_MS):
        view.import_button.click()
    assert view.listed_names() == [DEMO_NAME, "team", "team (copy)", "team (2)", "team (copy) (2)"]
    assert "Imported 2 connections" in view.notice.text()


def test_profile_option_opens_that_connection(qtbot, ctx, keychain, mlflow_auth_server):
    """`mlops-desktop --profile NAME` (the window and the screenshot command) goes here."""
    user, password = create_user(mlflow_auth_server)
    profile = Profile(
        new_profile_id(),
        "ci-server",
        ProfileKind.MLFLOW,
        url=mlflow_auth_server.url,
        auth=AuthKind.BASIC,
        username=user,
        colour=PRESET["staging"],
    )
    ctx.profiles.save(profile)
    SecretVault().set(profile.profile_id, password)
    win = MainWindow(ctx, persist=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(ctx.workspace_changed, timeout=TIMEOUT_MS) as changed:
        win.open_profile("CI-server")
    assert changed.args[0].profile_id == profile.profile_id
    assert "ci-server" in win.connection_label.text()
    assert win.connection_switcher.currentText() == "ci-server"


def test_profile_option_with_an_unknown_name_says_which_exist(qtbot, ctx):
    ctx.profiles.save(Profile("id-known", "known", ProfileKind.LOCAL, url="/data/mlruns"))
    win = MainWindow(ctx, persist=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(ctx.workspace_failed, timeout=TIMEOUT_MS) as failed:
        win.open_profile("nope")
    assert failed.args[0] == "There is no connection named 'nope' (connections: 'known')."
    assert win.connection_label.text() == "No workspace open"
