"""The server filter's as-you-type check: the verdict MLflow's own parser gives, in plainer
words with a position; completion names for params, metrics, tags and attributes."""

from __future__ import annotations

import pytest

from mlops_desktop.services.search_syntax import (
    check_search_filter,
    completion_prefix,
    field_completions,
    quoted_field,
)

#: Filters MLflow accepts and refuses, typed the way people type them.
FILTERS = [
    "",
    "metrics.val_auc > 0.9",
    "metrics.val_auc >= 0.9 and params.optimizer = 'adam'",
    "params.optimizer = 'adam' AND tags.team = 'core'",
    "param.x = 'a'",
    "parameter.x = 'a'",
    "parms.x = 'a'",
    "metric.x > 1",
    "tag.x = 'a'",
    "attribute.status = 'FINISHED'",
    "attr.status = 'FINISHED'",
    "run.status = 'FINISHED'",
    "status = 'FINISHED'",
    "run_name = 'x'",
    "`run name` = 'x'",
    "attributes.`run name` = 'x'",
    "attributes.bogus = 'x'",
    "foo = 'x'",
    "val_auc > 1",
    "metrics.x > 'a'",
    "metrics.x = 1",
    "metrics.x != 1",
    "metrics.x <> 1",
    "metrics.x == 1",
    "metrics.x >>> 1",
    "metrics.x =~ 1",
    "metrics.x LIKE 1",
    "params.x = 1",
    "params.x = adam",
    'params.x = "adam"',
    "params.x > 'a'",
    "params.x LIKE 'a%'",
    "params.x ILIKE '%A%'",
    "params.x like 'a%'",
    "params.x IS NULL",
    "params.x IS NOT NULL",
    "tags.x is null",
    "metrics.x IS NULL",
    "params.x = 'a",
    "params.x = 'a' and",
    "and params.x = 'a'",
    "params.x = 'a' or params.y = 'b'",
    "params.x = 'a' params.y = 'b'",
    "(params.x = 'a')",
    "metrics.x > 1 and (metrics.y > 2)",
    "attributes.run_id IN ('a', 'b')",
    "attributes.run_id IN ('a')",
    "run_id NOT IN ('a','b')",
    "attributes.status IN ('a')",
    "params.x IN ('a')",
    "datasets.name IN ('a','b')",
    "datasets.name = 'train'",
    "datasets.bogus = 'x'",
    "datasets.digest LIKE 'ab%'",
    "attributes.start_time > 1700000000000",
    "attributes.start_time > '2024'",
    "attributes.created > 5",
    "attributes.end_time <= 5",
    "attributes.start_time LIKE 5",
    "attributes.status > 'a'",
    "attributes.status LIKE 'FIN%'",
    "attributes.status ILIKE 'fin%'",
    "metrics.x > -1",
    "metrics.x > 1e-3",
    "metrics.x > .5",
    "metrics.x > 1.",
    "metrics.`my key` > 1",
    'metrics."my key" > 1',
    "`metrics`.x > 1",
    "`metrics`.`x y` > 1",
    "params.x = 'it''s'",
    "params.learning-rate = 'a'",
    "metrics.val/auc > 1",
    "tags.mlflow.runName = 'x'",
    "tags.`mlflow.runName` = 'x'",
    "params.x='a'and params.y='b'",
    "metrics.x>1",
    "metrics. > 1",
    "metrics.x",
    "metrics.x >",
    "metrics.x > and",
    "params.x = 'a' AND AND params.y = 'b'",
    "metrics.x > 1 1",
    "tags.x = `a`",
    "params.x != 'a'",
    "user_id = 'alice'",
    "attributes.user_id = 'alice'",
    "attributes.artifact_uri LIKE '%s3%'",
    "metrics.x < 1 and metrics.y <= 2 and metrics.z >= 3 and metrics.w != 4",
    "params.a = 'x' AND params.b LIKE 'y%' AND tags.c IS NOT NULL",
    "metrics.x IN (1,2)",
    "run_id IN ()",
    "run_id IN ('a',)",
    "run_id IN 'a'",
    "params.x IS 'a'",
    "params.x NOT LIKE 'a'",
    "metrics.x > 1 ;",
    "metrics.x > 1 OR",
    "OR",
    "'a'",
    "metrics.x > 0x1",
    "params.x = 'a\\'b'",
    "metrics.X > 1",
    "Metrics.x > 1",
    "PARAMS.x = 'a'",
    "metrics.x>=1AND metrics.y>1",
    "tags.\"a b\" = 'x'",
    'params.x = "a" and metrics.y > 2',
    "datasets.context = 'training'",
    "datasets.context IN ('training')",
    "dataset.name = 'x'",
    (
        "metrics.val_auc > 0.9 and params.optimizer = 'adamw' and tags.team = 'ranking' and "
        "attributes.status = 'FINISHED' and params.learning_rate != '0.1' and "
        "metrics.train_loss < 0.3 and tags.mlflow.runName LIKE 'trial-%'"
    ),
    "tags.x = `a`",
    "metrics.x>-1",
    "metrics.x >=-1",
    "params.x = adam",
    "metrics.x = - 1",
    "params.`learning-rate` = 'a'",
    "params.x-1 = 'a'",
]
#: Where the check is stricter than MLflow on purpose: an empty key matches nothing.
STRICTER_THAN_MLFLOW = {"metrics. > 1"}


def mlflow_accepts(text: str) -> bool:
    """MLflow's verdict: its parser, then the comparator check its stores make per clause."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    try:
        for clause in SearchUtils.parse_search_filter(text):
            key = SearchUtils.translate_key_alias(clause["key"])
            comparator, kind = clause["comparator"].upper(), clause["type"]
            known = (
                SearchUtils.is_string_attribute(kind, key, comparator)
                or SearchUtils.is_numeric_attribute(kind, key, comparator)
                or SearchUtils.is_metric(kind, comparator)
                or SearchUtils.is_param(kind, comparator)
                or SearchUtils.is_tag(kind, comparator)
                or SearchUtils.is_dataset(kind, comparator)
            )
            if not known:
                return False
            if kind == "metric":
                float(clause["value"])
    except (MlflowException, ValueError):
        return False
    return True


@pytest.mark.parametrize("text", FILTERS)
def test_the_check_agrees_with_mlflow(text):
    problem = check_search_filter(text)
    if text in STRICTER_THAN_MLFLOW:
        assert mlflow_accepts(text) and problem is not None
    else:
        assert (problem is None) == mlflow_accepts(text), problem


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("parms.lr = '0.1'", "Unknown prefix 'parms.': did you mean params.?", 0),
        ("metric.val_auc > 0.9 and metrix.f1 > 1", "did you mean metrics.?", 25),
        ("params.optimizer = 'adam", "Missing closing quote", 19),
        ("params.optimizer = adam", "Quote the value: params.optimizer = 'adam'", 19),
        ("metrics.val_auc > high", "metrics.val_auc compares with a number, not high", 18),
        ("metrics.a > 1 or metrics.b > 2", "MLflow's search has no OR", 14),
        ("params.lr > '0.1'", "params.lr takes =, !=, LIKE, ILIKE, IS NULL, not >", 10),
        ("metrics.val_auc >", "Expected a value after >", 17),
        ("metrics.val_auc", "Expected an operator", 15),
        ("metrics.x >>> 1", "'>>>' is not an operator MLflow knows", 10),
        ("attributes.colour = 'red'", "Unknown run attribute 'colour'", 11),
        ("params.learning-rate = '0.1'", "write it in backticks, params.`learning-rate`", 7),
        ("params.x IN ('a')", "params.x takes", 9),
        ("attributes.status IN ('A')", "IN lists work on attributes.run_id", 18),
        ("(metrics.x > 1)", "no parentheses", 0),
    ],
)
def test_problems_say_what_is_wrong_and_where(text, message, position):
    problem = check_search_filter(text)
    assert problem is not None
    assert message in problem.message
    assert problem.position == position
    assert problem.describe() == f"{problem.message} (at character {position + 1})"


def test_a_bare_key_is_matched_to_the_loaded_columns():
    columns = ["run_name", "params.optimizer", "metrics.val_auc"]
    problem = check_search_filter("val_auc > 0.9", columns)
    assert problem is not None
    assert problem.message == "'val_auc' needs its prefix: did you mean metrics.val_auc?"


def test_mlflow_prefix_aliases_are_fine():
    for text in (
        "param.lr = '1'",
        "parameters.lr = '1'",
        "attr.status = 'FINISHED'",
        "run.status = 'X'",
    ):
        assert check_search_filter(text) is None, text


def test_a_long_filter_checks_in_one_pass():
    clause = "metrics.val_auc > 0.85 and params.optimizer = 'adamw' and tags.team = 'ranking'"
    text = " and ".join([clause] * 3)
    assert len(text) > 200
    assert check_search_filter(text) is None
    assert check_search_filter(text + " and") is None  # MLflow ignores a trailing AND


# -- completion --------------------------------------------------------------------------------
def test_completions_cover_every_key_group_and_the_attributes():
    columns = [
        "run_id",
        "run_name",
        "params.optimizer",
        "metrics.val_auc",
        "tags.team",
        "tags.my key",
    ]
    names = field_completions(columns)
    assert "params.optimizer" in names
    assert "metrics.val_auc" in names
    assert "tags.`my key`" in names
    assert "attributes.status" in names
    assert "run_name" not in names  # attributes are offered with their prefix
    assert names == sorted(names, key=str.lower)


def test_completions_for_ten_thousand_keys_stay_sorted_and_unique():
    columns = [f"metrics.m{i:05d}" for i in range(10_000)] + ["params.a", "params.a"]
    names = field_completions(columns)
    assert len(names) == 10_001 + 6
    assert names == sorted(set(names), key=str.lower)


def test_the_prefix_under_the_cursor():
    text = "metrics.val_auc > 0.9 and params.opt"
    assert completion_prefix(text, len(text)) == (26, "params.opt")
    assert completion_prefix(text, 11) == (0, "metrics.val")
    assert completion_prefix("a = ", 4) == (4, "")


def test_keys_with_symbols_get_backticks():
    assert quoted_field("params.batch size") == "params.`batch size`"
    assert quoted_field("metrics.val/auc") == "metrics.`val/auc`"
    assert quoted_field("tags.mlflow.runName") == "tags.mlflow.runName"
