"""The promotion workflow in the window: inbox, approval page, overrides, rollback, notifications.

Each test works on its own copy of the demo workspace (it writes to the registry) with a gate
policy the test chooses. The current user is this machine's user (the demo has no profile),
so the demo's pending request, made by alice, is in their inbox.
"""

from __future__ import annotations

import getpass
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from mlops_desktop.domain.promotion import PromotionState
from mlops_desktop.services.gates import GATES_FOLDER
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.promotion import read_requests
from mlops_desktop.services.promotion_flow import PromotionOutcome
from mlops_desktop.services.registry import load_model
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import open_demo_workspace
from mlops_desktop.ui.approval_page import ApprovalPage
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.notifications import notifier_for
from mlops_desktop.ui.promotion_dialogs import CommentDialog
from mlops_desktop.ui.views.audit_view import AuditView
from mlops_desktop.ui.views.models_view import ModelsView

pytestmark = pytest.mark.ui

DEMO_MODEL = "churn-classifier"
TIMEOUT_MS = 60_000
#: Gates the demo's version 4 passes: no AUC regression, validated.
PASSING_GATES = """
[[compare]]
metric = "val_auc"
op = ">="
tolerance = 0.005

[required_tags]
validation_status = "passed"
"""
#: A gate no demo version passes.
FAILING_GATES = """
[[threshold]]
name = "auc-floor"
metric = "val_auc"
op = ">="
value = 0.999
"""
ME = getpass.getuser()


class DemoCopy:
    """A private copy of the demo workspace, its paths, and its gates folder."""

    def __init__(self, root: Path, demo_root: Path) -> None:
        self.paths = AppPaths(root / "config", root / "data", root / "cache", root / "log")
        shutil.copytree(demo_root, self.paths.demo_dir, ignore=shutil.ignore_patterns("artifacts"))
        self.gates_dir = self.paths.demo_dir / GATES_FOLDER
        shutil.rmtree(self.gates_dir, ignore_errors=True)
        self.gates_dir.mkdir(parents=True)
        self.workspace = open_demo_workspace(self.paths, TaskState())

    def set_gates(self, text: str) -> None:
        (self.gates_dir / f"{DEMO_MODEL}.toml").write_text(text, encoding="utf-8")

    def model(self):
        return load_model(self.workspace.tracking, DEMO_MODEL, TaskState())


@pytest.fixture
def demo(demo_root, tmp_path) -> Iterator[DemoCopy]:
    copy = DemoCopy(tmp_path, demo_root)
    yield copy
    copy.workspace.close()


def open_models(qtbot, demo: DemoCopy) -> ModelsView:
    """The Models view on the copy, loaded, with its inbox read."""
    ctx = UiContext(demo.paths)
    ctx.set_workspace(demo.workspace)
    view = ModelsView(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.resize(1400, 900)
    view.show()
    with qtbot.waitSignals([view.content_ready, view.inbox_loaded], timeout=TIMEOUT_MS):
        view.activate()
    return view


def wait_for_action(qtbot, view: ModelsView) -> object:
    """Wait until the action ended and the registry was read again; return its result."""
    with qtbot.waitSignal(view.action_finished, timeout=TIMEOUT_MS) as finished:
        pass
    with qtbot.waitSignals([view.registry_loaded, view.inbox_loaded], timeout=TIMEOUT_MS):
        pass
    return finished.args[0]


def test_the_inbox_lists_alices_request_with_one_click_approve(qtbot, demo):
    demo.set_gates(PASSING_GATES)
    view = open_models(qtbot, demo)
    assert view.promotion is not None and view.promotion.actor == ME
    (card,) = view.inbox_cards
    assert card.headline.text().startswith(f"{DEMO_MODEL}: alice asks to make version 4 champion")
    assert card.gates.text() == "2 of 2 gates pass"
    assert card.approve.isEnabled() and card.reject.isEnabled()
    assert view.inbox_title.text() == "Your inbox (1)"


def test_approving_from_the_inbox_moves_the_alias_and_records_it(qtbot, demo):
    demo.set_gates(PASSING_GATES)
    view = open_models(qtbot, demo)
    notifier = notifier_for(view)
    (card,) = view.inbox_cards
    with qtbot.waitSignal(notifier.notified, timeout=TIMEOUT_MS) as told:
        card.approve.click()
        outcome = wait_for_action(qtbot, view)
    assert isinstance(outcome, PromotionOutcome) and outcome.applied
    assert told.args[0] == "Promotion applied"
    assert view.outcome.tone == "ok" and "4" in view.outcome.headline.text()
    model = demo.model()
    assert model.model.aliases["champion"] == "4"
    actions = [e.action for e in model.audit.events[-2:]]
    assert actions == ["approved", "applied"] and model.audit.intact
    assert all(e.actor == ME for e in model.audit.events[-2:])
    assert not view.inbox_cards and view.inbox_title.text() == "Your inbox"
    assert view.version_aliases()[0] == "champion, challenger", "version 4 now holds both"


def test_a_failing_gate_blocks_one_click_and_the_override_needs_a_reason(qtbot, demo):
    demo.set_gates(FAILING_GATES)
    view = open_models(qtbot, demo)
    (card,) = view.inbox_cards
    assert "1 fails" in card.gates.text()
    assert not card.approve.isEnabled() and card.review.isEnabled()

    page = view.review(card.request)
    qtbot.waitSignal(page.gates_loaded, timeout=TIMEOUT_MS).wait() if page.gates is None else None
    assert [row.result.name for row in page.gate_rows] == ["auc-floor"]
    assert page.gate_rows[0].icon.text() == "✖"
    assert "0.999" in page.gate_rows[0].name.text() or "0.999" in page.gate_rows[0].evidence.text()
    assert page.approve_button.isHidden() and not page.override_button.isHidden()
    assert page.override_button.isEnabled()

    reason = CommentDialog("Override", "s", "Override and approve", required=True)
    assert not reason.ok.isEnabled() and not reason.hint.isHidden()
    reason.text.setPlainText("   ")
    assert not reason.ok.isEnabled()
    reason.text.setPlainText("Seasonal dip, signed off by the risk board (RB-12).")
    assert reason.ok.isEnabled()

    with qtbot.waitSignal(page.decided, timeout=TIMEOUT_MS) as decided:
        page.approve("", overrides={"auc-floor": reason.comment()})
    assert isinstance(decided.args[0], PromotionOutcome), page.outcome.headline.text()
    model = demo.model()
    assert model.model.aliases["champion"] == "4"
    approved = next(e for e in reversed(model.audit.events) if e.action == "approved")
    assert approved.overrides == {
        "auc-floor": "Seasonal dip, signed off by the risk board (RB-12)."
    }
    page.close()


def test_without_the_reason_the_engine_refuses_and_nothing_moves(qtbot, demo):
    demo.set_gates(FAILING_GATES)
    view = open_models(qtbot, demo)
    (card,) = view.inbox_cards
    view.approve(card.request)  # as if the one-click button were forced
    result = wait_for_action(qtbot, view)
    assert isinstance(result, Exception)
    assert view.outcome.tone == "failed"
    assert "auc-floor" in view.outcome.headline.text()
    assert demo.model().model.aliases["champion"] == "2"


def test_the_requester_cannot_approve_their_own_request(qtbot, demo):
    demo.set_gates(PASSING_GATES)
    view = open_models(qtbot, demo)
    view.select_model(DEMO_MODEL)
    view.request_promotion("3", "challenger", "Back to the November model for the A/B test.")
    outcome = wait_for_action(qtbot, view)
    assert isinstance(outcome, PromotionOutcome), view.outcome.headline.text()
    mine = next(r for r in view.shown.pending if r.requester == ME)
    assert mine.version == "3" and mine.state is PromotionState.REQUESTED
    assert all(c.request.request_id != mine.request_id for c in view.inbox_cards)
    card = next(c for c in view.request_cards if c.request.request_id == mine.request_id)
    assert not card.approve.isEnabled()
    assert "your own request" in card.approve.toolTip()
    assert card.reject.isEnabled() and card.reject.text() == "Withdraw…"

    page = view.review(mine)
    with qtbot.waitSignal(page.gates_loaded, timeout=TIMEOUT_MS):
        pass
    assert page.four_eyes.text() == (
        "You cannot approve your own request: someone else must decide it."
    )
    assert not page.four_eyes.isHidden()
    assert not page.approve_button.isEnabled()
    assert page.reject_button.text() == "Withdraw" and not page.reject_button.isEnabled()
    page.comment.setPlainText("Superseded by version 4.")
    assert page.reject_button.isEnabled()
    with qtbot.waitSignal(page.decided, timeout=TIMEOUT_MS) as decided:
        page.reject_button.click()
    assert isinstance(decided.args[0], PromotionOutcome), page.outcome.headline.text()
    assert page.outcome.tone == "ok" and not page.reject_button.isEnabled()
    page.close()
    withdrawn = next(
        r for r in read_requests(demo.model().versions) if r.request_id == mine.request_id
    )
    assert withdrawn.state is PromotionState.REJECTED and withdrawn.decided_by == ME


def test_rollback_gives_the_alias_back_and_says_so(qtbot, demo):
    demo.set_gates(PASSING_GATES)
    view = open_models(qtbot, demo)
    if not view.rollback_choices:
        qtbot.waitSignal(view.rollback_choices_loaded, timeout=TIMEOUT_MS).wait()
    choice = view.rollback_choices["champion"]
    assert choice.target is not None
    assert view.rollback_button.text() == f"Roll back champion to version {choice.target}…"
    assert view.rollback_button.isEnabled()
    chips = view.alias_widgets["champion"]
    assert (
        chips.rollback_actions["champion"].text()
        == f"Roll back champion to version {choice.target}…"
    )
    view.rollback("champion", "Latency regression seen on the canary.")
    outcome = wait_for_action(qtbot, view)
    assert isinstance(outcome, PromotionOutcome) and outcome.applied
    model = demo.model()
    assert model.model.aliases["champion"] == choice.target
    last = model.audit.events[-1]
    assert (last.action, last.version, last.comment) == (
        "rolled_back",
        choice.target,
        "Latency regression seen on the canary.",
    )


def test_a_request_awaiting_you_is_notified_once(qtbot, demo):
    demo.set_gates(PASSING_GATES)
    ctx = UiContext(demo.paths)
    ctx.set_workspace(demo.workspace)
    view = ModelsView(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.show()
    notifier = notifier_for(view)
    with qtbot.waitSignal(notifier.notified, timeout=TIMEOUT_MS) as told:
        view.activate()
    assert told.args[0] == "A promotion request awaits you"
    assert "alice asks to make version 4 champion" in told.args[1]
    assert notifier.toasts and notifier.toasts[-1].title.text() == told.args[0]
    shown = len(notifier.toasts)
    with qtbot.waitSignal(view.inbox_loaded, timeout=TIMEOUT_MS):
        view.reload()
    assert len(notifier.toasts) == shown, "the same request is not announced twice"


def test_the_audit_view_marks_the_override_in_its_timeline(qtbot, demo):
    demo.set_gates(FAILING_GATES)
    view = open_models(qtbot, demo)
    (card,) = view.inbox_cards
    page = view.review(card.request)
    with qtbot.waitSignal(page.decided, timeout=TIMEOUT_MS):
        page.approve("Ship it.", overrides={"auc-floor": "Board sign-off RB-12."})
    page.close()
    ctx = UiContext(demo.paths)
    ctx.set_workspace(demo.workspace)
    audit = AuditView(ctx)
    qtbot.addWidget(audit, before_close_func=lambda closing: closing.shutdown())
    audit.resize(1400, 900)
    audit.show()
    with qtbot.waitSignal(audit.content_ready, timeout=TIMEOUT_MS):
        audit.activate()
    model = audit.timeline.timeline
    approved = [e for e in model.events if e.action == "approved" and e.overrides]
    assert len(approved) == 1
    assert audit.badge.text().startswith("Chain intact")
    QApplication.processEvents()


def test_an_approval_page_says_who_holds_the_alias_and_shows_the_diff(qtbot, demo):
    demo.set_gates(PASSING_GATES)
    view = open_models(qtbot, demo)
    (card,) = view.inbox_cards
    page: ApprovalPage = view.review(card.request)
    if page.diff is None:
        qtbot.waitSignal(page.diff_loaded, timeout=TIMEOUT_MS).wait()
    assert page.holder_line.text() == "champion is now on version 2."
    assert "Requested by alice" in page.request_line.text()
    headers = [page.diff_table.horizontalHeaderItem(c).text() for c in range(4)]
    assert headers[2:] == ["v4 (candidate)", "v2 (champion now)"]
    keys = {page.diff_table.item(r, 1).text(): r for r in range(page.diff_table.rowCount())}
    assert "val_auc" in keys
    row = keys["val_auc"]
    assert page.diff_table.item(row, 2).text() != page.diff_table.item(row, 3).text()
    assert page.diff_table.item(row, 2).background().color().alpha() > 0
    assert "values differ" in page.diff_note.text()
    page.close()
