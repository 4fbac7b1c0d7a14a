"""The quick filter: OR, AND, NOT, parentheses, regex, IN, contains, comparisons, bare words,
evaluated to a numpy mask over a runs frame; errors are sentences with a position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_desktop.services.quick_filter import (
    AllOf,
    AnyOf,
    Condition,
    NameMatch,
    Negation,
    PreparedFrame,
    QuickFilterError,
    compile_quick_filter,
    parse,
    quick_filter_mask,
)


def text(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"))


@pytest.fixture
def frame() -> pd.DataFrame:
    """Five runs; row 4 lacks most values."""
    return pd.DataFrame(
        {
            "run_id": text(["a1b2c3d4", "e5f6a7b8", "c9d0e1f2", "f3a4b5c6", "d7e8f9a0"]),
            "run_name": text(["adam-base", "sgd-run", "adamw-long", "rms-baseline", None]),
            "status": text(["FINISHED", "FAILED", "FINISHED", "RUNNING", "KILLED"]),
            "start_time": pd.to_datetime(
                [
                    "2025-06-15 10:00",
                    "2025-06-20 12:00",
                    "2025-07-01 09:30",
                    "2025-07-02 18:00",
                    None,
                ],
                utc=True,
            ),
            "duration_s": [10.0, 400.0, np.nan, 7200.0, 5.0],
            "params.optimizer": text(["adam", "sgd", "adamw", "rmsprop", None]),
            "params.lr": text(["0.1", "0.01", "1e-3", "0.001", "warmup"]),
            "metrics.val_auc": [0.95, 0.80, np.nan, 0.91, 0.5],
            "metrics.lr": [1.0, 2.0, 3.0, 4.0, 5.0],
            "tags.note": text(["Baseline run", None, "not a baseline", "tuned", "x"]),
            "tags.my key": text(["v1", "v2", None, None, None]),
        }
    )


def rows(text_: str, frame: pd.DataFrame) -> list[int]:
    mask = quick_filter_mask(text_, frame)
    assert mask.dtype == np.bool_ and mask.shape == (len(frame),)
    return [int(i) for i in np.flatnonzero(mask)]


# -- what the issue asks for ------------------------------------------------------------------
def test_or_between_bare_words_and_conditions(frame):
    assert rows("adam OR sgd", frame) == [0, 1, 2]
    assert rows("sgd or metrics.val_auc > 0.9", frame) == [0, 1, 3]
    assert rows("sgd || rms", frame) == [1, 3]


def test_not_and_parentheses(frame):
    assert rows("not adam", frame) == [1, 3, 4]
    assert rows("!adam", frame) == [1, 3, 4]
    assert rows("not (adam or sgd)", frame) == [3, 4]
    assert rows("(adam or sgd) and not status = failed", frame) == [0, 2]
    assert rows("adam and not adamw", frame) == [0]


def test_regex_with_tilde_or_slashes(frame):
    assert rows("params.optimizer ~ 'ad.*'", frame) == [0, 2]
    assert rows("params.optimizer ~ /^adam$/", frame) == [0]
    assert rows("params.optimizer ~ /^ADAM/i", frame) == [0, 2]
    assert rows("params.optimizer !~ '^ad'", frame) == [1, 3]  # row 4 has no optimizer
    assert rows("/-(base|long)$/", frame) == [0, 2]  # bare regex: the run name


def test_in_lists(frame):
    assert rows("params.optimizer in (adam, sgd)", frame) == [0, 1]
    assert rows("params.optimizer in ('ADAM' 'rmsprop')", frame) == [0, 3]
    assert rows("params.optimizer not in (adam, sgd)", frame) == [2, 3]
    assert rows("metrics.val_auc in (0.5, 0.95)", frame) == [0, 4]


def test_contains_ignores_case(frame):
    assert rows("tags.note contains 'baseline'", frame) == [0, 2]
    assert rows("tags.note contains BASE", frame) == [0, 2]
    assert rows("tags.note not contains baseline", frame) == [3, 4]


def test_comparisons_on_metrics(frame):
    assert rows("metrics.val_auc >= 0.9", frame) == [0, 3]
    assert rows("metrics.val_auc < 0.9", frame) == [1, 4]
    assert rows("metrics.val_auc != 0.5", frame) == [0, 1, 3]  # missing never matches
    assert rows("not metrics.val_auc = 0.5", frame) == [0, 1, 2, 3]  # not (...) keeps it


def test_bare_words_match_the_run_name_or_the_start_of_the_run_id(frame):
    assert rows("base", frame) == [0, 3]
    assert rows("BASE", frame) == [0, 3]
    assert rows("'adam'", frame) == [0, 2]
    assert rows("e5f6", frame) == [1]
    assert rows("adam long", frame) == [2]  # side by side means AND


# -- text, numbers and times ------------------------------------------------------------------
def test_text_params_compare_as_numbers_when_the_value_is_one(frame):
    assert rows("params.lr < 0.05", frame) == [1, 2, 3]
    assert rows("params.lr = 0.001", frame) == [2, 3]  # "1e-3" and "0.001" are the same number
    assert rows("params.lr = warmup", frame) == [4]
    assert rows("status = finished", frame) == [0, 2]  # text equality ignores case


def test_like_and_null_checks_as_in_mlflow(frame):
    assert rows("params.optimizer like 'adam%'", frame) == [0, 2]
    assert rows("params.optimizer like 'ADAM%'", frame) == []
    assert rows("params.optimizer ilike 'ADAM_'", frame) == [2]
    assert rows("metrics.val_auc is null", frame) == [2]
    assert rows("tags.note is not null", frame) == [0, 2, 3, 4]


def test_durations_take_units_and_times_take_dates(frame):
    assert rows("duration > 5m", frame) == [1, 3]
    assert rows("duration_s <= 10", frame) == [0, 4]
    assert rows("start_time >= 2025-07-01", frame) == [2, 3]
    assert rows("started = 2025-06-20", frame) == [1]  # a date alone: that whole day
    assert rows("start_time < '2025-06-20 13:00'", frame) == [0, 1]


def test_names_in_mlflow_spellings_aliases_and_bare_keys(frame):
    assert rows("param.optimizer = sgd", frame) == [1]
    assert rows("attributes.status = failed", frame) == [1]
    assert rows("optimizer = sgd", frame) == [1]  # only params has this key
    assert rows("name ~ rms", frame) == [3]
    assert rows("tags.`my key` = v2", frame) == [1]
    assert rows("`tags.my key` = v1", frame) == [0]


def test_an_empty_filter_keeps_every_row(frame):
    assert rows("", frame) == [0, 1, 2, 3, 4]
    assert rows("   ", frame) == [0, 1, 2, 3, 4]


def test_a_key_missing_from_a_page_is_missing_on_every_row(frame):
    compiled = compile_quick_filter("params.extra = x or params.extra is null", ["params.extra"])
    assert compiled.mask(frame).all()


# -- the syntax tree --------------------------------------------------------------------------
def test_precedence_is_not_then_and_then_or():
    tree = parse("a or b and not c")
    assert isinstance(tree, AnyOf)
    first, second = tree.parts
    assert isinstance(first, NameMatch) and first.value.text == "a"
    assert isinstance(second, AllOf)
    assert isinstance(second.parts[1], Negation)


def test_a_condition_keeps_its_field_operator_values_and_place():
    tree = parse("params.optimizer not in (adam, 'sgd')")
    assert isinstance(tree, Condition)
    assert (tree.field, tree.op) == ("params.optimizer", "not in")
    assert [v.text for v in tree.values] == ["adam", "sgd"]
    assert (tree.start, tree.end) == (0, len("params.optimizer not in (adam, 'sgd'"))


# -- errors: a sentence and a position --------------------------------------------------------
@pytest.mark.parametrize(
    ("text_", "words", "position"),
    [
        ("params.optimiser = adam", "did you mean params.optimizer?", 0),
        ("parms.optimizer = adam", "Unknown prefix 'parms.': did you mean params.?", 0),
        ("metrics.val_auc >", "Expected a value after '>'", 17),
        ("(adam or sgd", "Missing ) to close the (", 0),
        ("adam)", "This ) closes no (", 4),
        ("params.optimizer ~ '('", "regular expression '(' is not valid", 20),
        ("metrics.val_auc > high", "'high' is not a number", 18),
        ("metrics.val_auc contains 9", "holds numbers", 16),
        ("adam or", "Expected a condition after OR", 5),
        ("params.optimizer in adam", "Expected a list in parentheses", 20),
        ("params.optimizer in ()", "The list is empty", 20),
        ("tags.note contains 'base", "Missing closing quote", 19),
        ("lr > 1", "'lr' is params.lr and metrics.lr: write which one", 0),
        ("attributes.colour = red", "Unknown run attribute 'colour'", 11),
        ("start_time > yesterday", "holds times", 13),
        ("/ab/x", "Unknown regex flag 'x'", 4),
        ("in", "'in' is a keyword here", 0),
    ],
)
def test_errors_say_what_is_wrong_and_where(frame, text_, words, position):
    with pytest.raises(QuickFilterError) as raised:
        quick_filter_mask(text_, frame)
    assert words in raised.value.message
    assert raised.value.position == position
    assert raised.value.describe().endswith(f"(at character {position + 1})")


# -- speed without a clock: the mask comes from whole-column operations -------------------------
def test_a_hundred_thousand_rows_filter_through_prepared_columns():
    n = 100_000
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "run_id": text([f"{i:032x}" for i in range(n)]),
            "run_name": text([f"sweep-{i % 40}-trial-{i}" for i in range(n)]),
            "params.optimizer": text(list(rng.choice(["adam", "sgd", "adamw", "rmsprop"], n))),
            "metrics.val_auc": rng.random(n),
        }
    )
    prepared = PreparedFrame(frame)
    compiled = compile_quick_filter(
        "(params.optimizer in (adam, sgd) or params.optimizer ~ 'ad.*') and metrics.val_auc "
        ">= 0.5 or /trial-1\\d$/",
        list(frame.columns),
    )
    mask = compiled.mask(prepared)
    expected = (
        frame["params.optimizer"].isin(["adam", "sgd", "adamw"]).to_numpy()
        & (frame["metrics.val_auc"].to_numpy() >= 0.5)
    ) | frame["run_name"].str.contains(r"trial-1\d$", regex=True).to_numpy(dtype=bool)
    np.testing.assert_array_equal(mask, expected)
    assert ("params.optimizer", "lower") in prepared._cache  # reused by the next keystroke
    np.testing.assert_array_equal(compiled.mask(prepared), expected)
