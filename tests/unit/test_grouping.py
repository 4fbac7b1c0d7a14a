"""Grouping runs by a column with NaN-aware aggregates, and nesting child runs under parents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_desktop.services.grouping import (
    NONE_LABEL,
    group_runs,
    groupable_columns,
    nest_runs,
    sort_key,
    text_ranks,
)

NAN = np.nan


def sweep() -> pd.DataFrame:
    """Seven runs: lr 0.1 (3 runs), 0.01 (2), 1e-3 (1), one without lr; auc with gaps."""
    return pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(7)],
            "params.lr": pd.array(["0.1", "0.01", "0.1", None, "1e-3", "0.1", "0.01"], dtype="str"),
            "metrics.auc": [0.8, 0.7, NAN, 0.5, NAN, 0.9, 0.6],
            "metrics.loss": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )


def test_groups_come_in_numeric_order_with_the_missing_group_last():
    grouping = group_runs(sweep(), "params.lr", ["metrics.auc"])
    assert grouping.labels == ("1e-3", "0.01", "0.1", NONE_LABEL)
    assert grouping.missing_group == 3
    assert grouping.counts.tolist() == [1, 2, 3, 1]
    assert [grouping.members(g).tolist() for g in range(4)] == [[4], [1, 6], [0, 2, 5], [3]]
    assert grouping.group_of_row.tolist() == [2, 1, 2, 3, 0, 2, 1]


def test_aggregates_skip_missing_values_and_an_all_missing_group_has_none():
    auc = group_runs(sweep(), "params.lr", ["metrics.auc", "metrics.loss"]).metrics["metrics.auc"]
    assert auc.count.tolist() == [0, 2, 2, 1]
    np.testing.assert_allclose(auc.mean, [NAN, 0.65, 0.85, 0.5])
    np.testing.assert_allclose(auc.min, [NAN, 0.6, 0.8, 0.5])
    np.testing.assert_allclose(auc.max, [NAN, 0.7, 0.9, 0.5])
    np.testing.assert_allclose(auc.aggregate("max"), auc.max)
    with pytest.raises(ValueError, match="Unknown aggregate 'median'"):
        auc.aggregate("median")


def test_without_missing_values_there_is_no_none_group():
    frame = sweep().dropna(subset=["params.lr"]).reset_index(drop=True)
    grouping = group_runs(frame, "params.lr")
    assert NONE_LABEL not in grouping.labels
    assert grouping.missing_group == -1
    assert grouping.metrics == {}


def test_text_groups_sort_alphabetically_ignoring_case():
    frame = pd.DataFrame({"tags.team": ["vision", "NLP", "ads", "nlp"]})
    assert group_runs(frame, "tags.team").labels == ("ads", "NLP", "nlp", "vision")


def test_an_empty_frame_has_no_groups():
    grouping = group_runs(sweep().iloc[:0], "params.lr", ["metrics.auc"])
    assert len(grouping) == 0
    assert grouping.metrics["metrics.auc"].mean.size == 0


def test_an_unknown_column_is_named():
    with pytest.raises(KeyError, match=r"params\.depth"):
        group_runs(sweep(), "params.depth")


def test_aggregates_match_a_pandas_groupby_on_a_large_frame():
    rng = np.random.default_rng(7)
    n = 20_000
    values = rng.choice(["adam", "sgd", "rmsprop", None], n).astype(object)
    auc = rng.uniform(0.5, 1.0, n)
    auc[rng.uniform(0, 1, n) < 0.2] = NAN
    frame = pd.DataFrame({"params.opt": pd.array(values, dtype="str"), "metrics.auc": auc})
    grouping = group_runs(frame, "params.opt", ["metrics.auc"])
    expected = frame.groupby(frame["params.opt"].fillna(NONE_LABEL))["metrics.auc"].agg(
        ["mean", "min", "max", "count", "size"]
    )
    summary = grouping.metrics["metrics.auc"]
    for group, label in enumerate(grouping.labels):
        row = expected.loc[label]
        assert grouping.counts[group] == row["size"]
        assert summary.count[group] == row["count"]
        assert summary.mean[group] == pytest.approx(row["mean"])
        assert (summary.min[group], summary.max[group]) == (row["min"], row["max"])


def test_groupable_columns_are_params_and_tags_with_a_few_values():
    n = 12
    frame = pd.DataFrame(
        {
            "run_name": [f"run-{i}" for i in range(n)],
            "status": ["FINISHED"] * 6 + ["FAILED"] * 6,  # not a param or tag
            "params.optimizer": ["adam", "sgd"] * 6,
            "params.seed": [str(i) for i in range(n)],  # a group per run
            "params.epochs": ["10"] * n,  # one group
            "params.warmup": ["100"] + [None] * (n - 1),  # a value and "(none)": two groups
            "params.depth": [str(i % 6) for i in range(n)],  # 6 groups of 2
            "params.width": [str(i % 7) for i in range(n)],  # 7 groups: more than n / 2
            "tags.gpu": ["a10g", "t4", "a10g", "h100"] * 3,
            "metrics.auc": np.linspace(0.5, 0.9, n),
        }
    )
    assert groupable_columns(frame) == [
        "params.optimizer",
        "params.warmup",
        "params.depth",
        "tags.gpu",
    ]
    assert groupable_columns(frame, max_groups=5) == [
        "params.optimizer",
        "params.warmup",
        "tags.gpu",
    ]


def test_text_ranks_and_sort_keys_follow_the_runs_table():
    assert text_ranks(["10", "9", "1e-2"]).tolist() == [10.0, 9.0, 0.01]
    assert text_ranks(["b", "A", "c", "a"]).tolist() == [1.0, 0.0, 2.0, 0.0]
    key = sort_key(pd.Series(pd.array(["10", None, "9"], dtype="str")))
    assert key[0] == 10.0 and np.isnan(key[1]) and key[2] == 9.0
    times = pd.Series(pd.to_datetime([1_000, None], unit="ms", utc=True))
    assert sort_key(times)[0] == 1_000.0 and np.isnan(sort_key(times)[1])


# -- nesting -----------------------------------------------------------------------------------


def runs(parents: dict[str, str | None]) -> pd.DataFrame:
    """A frame with these run ids (in this order) and their parent run ids."""
    return pd.DataFrame(
        {
            "run_id": pd.array(list(parents), dtype="str"),
            "parent_run_id": pd.array(list(parents.values()), dtype="str"),
        }
    )


def test_children_and_grandchildren_follow_their_parent_depth_first():
    frame = runs(
        {
            "grandchild": "child-a",
            "root": None,
            "child-a": "root",
            "other-root": None,
            "child-b": "root",
            "other-child": "other-root",
        }
    )
    nesting = nest_runs(frame)
    ids = frame["run_id"].tolist()
    assert [ids[r] for r in nesting.order] == [
        "root",
        "child-a",
        "grandchild",
        "child-b",
        "other-root",
        "other-child",
    ]
    assert nesting.parent.tolist() == [2, -1, 1, -1, 1, 3]
    assert nesting.depth.tolist() == [2, 0, 1, 0, 1, 1]
    assert nesting.roots.tolist() == [1, 3]
    assert nesting.children(1).tolist() == [2, 4]
    assert nesting.children(0).tolist() == []
    assert not nesting.orphan.any()
    assert not nesting.cycle_cut.any()


def test_orphans_show_at_the_top_level_flagged():
    frame = runs({"a": None, "orphan": "deleted-run", "child": "orphan", "blank": ""})
    nesting = nest_runs(frame)
    assert nesting.parent.tolist() == [-1, -1, 1, -1]
    assert nesting.orphan.tolist() == [False, True, False, False]
    assert nesting.order.tolist() == [0, 1, 2, 3]


def test_a_parent_cycle_is_cut_once_and_every_run_appears_once():
    frame = runs(
        {
            "root": None,
            "b": "c",  # b -> c -> d -> b is a cycle
            "c": "d",
            "d": "b",
            "tail": "c",  # hangs off the cycle
            "self": "self",
        }
    )
    nesting = nest_runs(frame)
    assert sorted(nesting.order.tolist()) == list(range(6))
    assert nesting.cycle_cut.tolist() == [False, True, False, False, False, True]
    # Cut at b (the cycle's first row): b at the top, then d, c, and c's other child tail.
    ids = frame["run_id"].tolist()
    assert [ids[r] for r in nesting.order] == ["root", "b", "d", "c", "tail", "self"]
    assert nesting.depth.tolist() == [0, 0, 2, 1, 3, 0]


def test_a_run_listed_twice_is_a_parent_once():
    frame = runs({"p": None, "c": "p", "p2": None}).assign(run_id=["p", "c", "p"])
    nesting = nest_runs(frame)
    assert nesting.parent.tolist() == [-1, 0, -1]


def test_frames_without_parents_are_flat():
    frame = pd.DataFrame({"run_id": ["a", "b"]})
    nesting = nest_runs(frame)
    assert nesting.parent.tolist() == [-1, -1]
    assert nesting.order.tolist() == [0, 1]
    assert nest_runs(frame.iloc[:0]).order.size == 0
