"""The small dialogs of the promotion workflow: what they require before OK is offered."""

from __future__ import annotations

import pytest

from mlops_desktop.ui.promotion_dialogs import CommentDialog, RequestPromotionDialog

pytestmark = pytest.mark.ui


def test_a_required_reason_keeps_ok_disabled_until_written(qtbot):
    dialog = CommentDialog("Override", "Approving overrides drift.", "Override", required=True)
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled() and dialog.hint.text() == "A written reason is required."
    dialog.text.setPlainText(" \n ")
    assert not dialog.ok.isEnabled()
    dialog.text.setPlainText("  Signed off by the risk board.  ")
    assert dialog.ok.isEnabled() and dialog.hint.isHidden()
    assert dialog.comment() == "Signed off by the risk board."
    assert dialog.ok.text() == "Override"


def test_an_optional_comment_never_blocks(qtbot):
    dialog = CommentDialog("Note", "s", "OK")
    qtbot.addWidget(dialog)
    assert dialog.ok.isEnabled() and dialog.comment() == ""


def test_a_request_names_a_new_alias_and_says_why(qtbot):
    dialog = RequestPromotionDialog(
        "churn-classifier", "4", ["champion", "challenger"], {"champion": "2", "challenger": "4"}
    )
    qtbot.addWidget(dialog)
    assert dialog.chosen_alias() == "champion"
    assert dialog.now.text() == "champion is now on version 2."
    assert not dialog.ok.isEnabled(), "no reason written yet"
    dialog.comment_edit.setPlainText("AUC +0.6 points after the drift retraining.")
    assert dialog.ok.isEnabled()
    dialog.alias.setCurrentText("challenger")
    assert dialog.now.text() == "Version 4 already holds challenger."
    assert not dialog.ok.isEnabled()
    dialog.alias.setCurrentText("shadow")
    assert dialog.now.text() == "No version holds shadow yet." and dialog.ok.isEnabled()
