"""The runs table's memory per server and experiment: columns, pins, quick filter."""

from __future__ import annotations

import pytest

from mlops_desktop.ui.runs_table_settings import RunsTableSettings

pytestmark = [pytest.mark.ui, pytest.mark.usefixtures("qapp")]


def test_settings_remember_columns_pins_and_filter_per_server_and_experiment(tmp_path):
    path = tmp_path / "window.ini"
    settings = RunsTableSettings(path)
    assert settings.columns("http://a", "1") is None
    settings.set_columns("http://a", "1", ["run_name", "metrics.val_auc"])
    settings.set_pinned("http://a", "1", ["r2", "r1"])
    settings.set_quick_filter("http://a", "1", "adam or sgd")
    settings.set_columns("http://b", "1", ["status"])
    settings.sync()

    again = RunsTableSettings(path)
    assert again.columns("http://a", "1") == ["run_name", "metrics.val_auc"]
    assert again.pinned("http://a", "1") == ["r1", "r2"]
    assert again.quick_filter("http://a", "1") == "adam or sgd"
    assert again.columns("http://b", "1") == ["status"]
    assert again.columns("http://a", "2") is None
    again.forget_columns("http://a", "1")
    assert again.columns("http://a", "1") is None
    assert again.pinned("http://a", "1") == ["r1", "r2"]  # forgetting columns keeps pins


def test_an_unreadable_entry_means_defaults(tmp_path):
    settings = RunsTableSettings(tmp_path / "window.ini")
    settings._settings.setValue(settings._key("x", "1"), "{not json")
    assert settings.columns("x", "1") is None
    assert settings.pinned("x", "1") == []
