"""The Models view on the demo workspace: models, versions with aliases, pending requests."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mlops_desktop.backends.errors import ConnectionFailed
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.views.models_view import COLUMNS, REQUEST_COLUMNS, ModelsView
from tests.ui.views import open_view

pytestmark = pytest.mark.ui

DEMO_MODEL = "churn-classifier"


@pytest.fixture
def view(qtbot, demo_workspace) -> ModelsView:
    return open_view(qtbot, ModelsView, demo_workspace)


def column(view: ModelsView, name: str) -> list[str]:
    table = view.versions_table
    index = COLUMNS.index(name)
    return [table.item(row, index).text() for row in range(table.rowCount())]


def test_the_models_list_names_each_model_with_versions_and_aliases(view):
    texts = [view.models_list.item(i).text() for i in range(view.models_list.count())]
    churn = next(text for text in texts if text.startswith(DEMO_MODEL))
    assert "versions" in churn
    assert "champion → v" in churn and "challenger → v" in churn
    assert not view.banner.isVisibleTo(view)
    assert view.current_model_name() == DEMO_MODEL


def test_the_versions_table_marks_champion_and_challenger(view):
    aliases = view.version_aliases()
    versions = column(view, "Version")
    assert versions == sorted(versions, key=int, reverse=True), "newest first"
    champion, challenger = aliases.index("champion"), aliases.index("challenger")
    plain = next(row for row, text in enumerate(aliases) if not text)
    table = view.versions_table

    def background(row: int) -> object:
        return table.item(row, 0).data(Qt.ItemDataRole.BackgroundRole)

    assert background(plain) is None
    assert background(champion) is not None and background(challenger) is not None
    assert background(champion) != background(challenger)
    assert table.item(champion, 0).font().bold()
    assert set(column(view, "Validation")) == {"passed"}
    assert all(len(run) == 8 for run in column(view, "Source run"))
    chips = view.versions_table.cellWidget(champion, COLUMNS.index("Aliases"))
    assert list(chips.chips) == ["champion"]
    assert "#2e9d5b" in chips.chips["champion"].styleSheet()
    assert any("training_dataset=" in tags for tags in column(view, "Tags"))
    assert "mlops." not in " ".join(column(view, "Tags"))


def test_the_pending_request_says_who_asked_for_what_and_why(view):
    assert view.tabs.tabText(2) == "Requests (1)"
    (card,) = view.request_cards
    headline = card.headline.text()
    assert headline.startswith("alice asks to make version 4 champion")
    assert "now version 2" in headline
    assert "Requested" in card.meta.text()
    assert "drift" in card.comment.text()
    history = view.history_table
    states = [
        history.item(r, REQUEST_COLUMNS.index("State")).text() for r in range(history.rowCount())
    ]
    assert sorted(states) == ["applied", "applied", "requested", "rolled back"]


def test_picking_another_model_shows_its_versions(qtbot, view):
    names = [
        view.models_list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(view.models_list.count())
    ]
    other = next(name for name in names if name != DEMO_MODEL)
    with qtbot.waitSignal(view.model_shown) as shown:
        view.models_list.setCurrentRow(names.index(other))
    assert shown.args == [other]
    assert view.model_name.text() == other
    assert view.versions_table.rowCount() >= 1
    assert not view.request_cards
    assert not view.no_requests.isHidden()


def test_the_search_box_filters_models_by_name_tag_or_description(view):
    def visible() -> list[str]:
        items = [view.models_list.item(i) for i in range(view.models_list.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if not i.isHidden()]

    everything = visible()
    assert len(everything) >= 2
    view.search.setText("risk-ml")  # a tag of the fraud model only
    assert visible() == ["fraud-scorer"]
    assert view.current_model_name() == "fraud-scorer"
    view.search.setText("CHURN subscriber")  # name and description words, any case
    assert visible() == [DEMO_MODEL]
    view.search.setText("no such model")
    assert visible() == [] and not view.no_match.isHidden()
    view.search.clear()
    assert visible() == everything


def test_the_model_header_shows_description_and_tags(view):
    assert "subscriber" in view.model_description.text()
    assert "owner: alice" in view.model_tags.text()
    assert "mlops." not in view.model_tags.text()


def test_the_lineage_goes_from_run_to_version_to_alias_periods(view):
    tree = view.lineage_tree
    tops = {
        tree.topLevelItem(i).text(0): tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
    }
    version2 = next(item for text, item in tops.items() if "→ version 2" in text)
    assert version2.text(0).startswith("Run ") and "now champion" in version2.text(0)
    children = [version2.child(i).text(0) for i in range(version2.childCount())]
    assert children.count("held champion until now") == 1
    assert sum(c.startswith("held champion until 20") for c in children) == 1
    assert any(c.startswith("request: champion (applied)") for c in children)


def test_clicking_a_source_run_asks_to_open_it(qtbot, view):
    overview = view.shown
    row = 0
    with qtbot.waitSignal(view.run_open_requested) as opened:
        view._on_versions_table_cell_clicked(row, COLUMNS.index("Source run"))
    assert opened.args == [overview.versions[row].run_id]


def test_the_selected_version_details_name_its_run_and_source(view):
    text = view.version_details.text()
    assert f"{DEMO_MODEL} version" in text
    assert "Run " in text and "Source " in text


class _UnreachableTracking:
    label = "prod"
    location = "https://mlflow.invalid"

    def search_registered_models(self):
        raise ConnectionFailed("Cannot reach https://mlflow.invalid: name not resolved.")

    def close(self) -> None:
        pass


def test_a_failing_registry_shows_the_error_and_is_still_ready(qtbot):
    workspace = Workspace(label="prod", kind="mlflow", tracking=_UnreachableTracking())
    view = open_view(qtbot, ModelsView, workspace)
    assert view.is_ready
    assert view.banner.isVisibleTo(view)
    assert "Could not load the registry" in view.banner.message.text()
    assert "mlflow.invalid" in view.banner.message.text()
    assert view.pages.currentWidget() is view.placeholder


class _EmptyTracking(_UnreachableTracking):
    def search_registered_models(self):
        return []


def test_an_empty_registry_explains_itself(qtbot):
    view = open_view(
        qtbot, ModelsView, Workspace(label="empty", kind="mlflow", tracking=_EmptyTracking())
    )
    assert view.placeholder.heading.text() == "No registered models"
    assert not view.banner.isVisibleTo(view)
