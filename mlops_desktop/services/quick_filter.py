"""The quick filter: a small query language over the loaded runs, with what MLflow lacks.

MLflow's search (the server filter) has AND only. The quick filter runs locally, on the runs
frame already loaded, as fast as the user types, and adds OR, NOT, parentheses, regular
expressions, IN lists and "contains":

    adam                                   run name contains "adam" (or run id starts with it)
    /trial-1\\d$/                          run name matches the regex
    params.optimizer in (adam, sgd)        one of a list (case-insensitive)
    params.optimizer ~ 'ad.*'              regex search; /ad.*/i ignores case
    tags.note contains 'baseline'          substring, case-insensitive
    metrics.val_auc >= 0.9 and not status = failed
    (params.lr < 0.01 or params.lr > 0.1) and metrics.val_loss is not null

Names are frame columns (`params.lr`, `metrics.val_auc`, `tags.team`, `status`, `run_name`),
MLflow's spellings (`param.lr`, `attributes.status`, `tags.\\`my key\\``), or a bare key when
only one group has it (`optimizer`). Text compares case-insensitively, and as a number when
the value is one (`params.lr < 0.01`). A missing value never matches a comparison, negated
ones included (`!=`, `not in`); `not (...)` keeps them. LIKE/ILIKE work as in MLflow.

`compile_quick_filter(text, columns)` parses and resolves names (raising `QuickFilterError`
with a sentence and a character position); `QuickFilter.mask(frame)` evaluates it to a numpy
boolean mask with vectorised pandas/numpy operations, never a Python step per row.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlops_desktop.services.experiments import METRIC_PREFIX, PARAM_PREFIX, TAG_PREFIX

Mask = npt.NDArray[np.bool_]

#: Prefixes (MLflow's and their aliases) and the column prefix they stand for; "" = attribute.
GROUP_PREFIXES = {
    "params": PARAM_PREFIX,
    "param": PARAM_PREFIX,
    "parameter": PARAM_PREFIX,
    "parameters": PARAM_PREFIX,
    "metrics": METRIC_PREFIX,
    "metric": METRIC_PREFIX,
    "tags": TAG_PREFIX,
    "tag": TAG_PREFIX,
    "attributes": "",
    "attribute": "",
    "attr": "",
    "run": "",
}
#: Attribute spellings (MLflow's and shorter ones) and the runs frame column they name.
ATTRIBUTES = {
    "run_id": "run_id",
    "id": "run_id",
    "run_name": "run_name",
    "run name": "run_name",
    "name": "run_name",
    "status": "status",
    "user": "user",
    "user_id": "user",
    "start_time": "start_time",
    "started": "start_time",
    "created": "start_time",
    "duration": "duration_s",
    "duration_s": "duration_s",
    "parent": "parent_run_id",
    "parent_run_id": "parent_run_id",
    "experiment_id": "experiment_id",
}
_GROUPS = (PARAM_PREFIX, METRIC_PREFIX, TAG_PREFIX)


class QuickFilterError(ValueError):
    """A sentence saying what is wrong, and the 0-based character where it is."""

    def __init__(self, message: str, position: int, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.length = max(1, length)

    def describe(self) -> str:
        return f"{self.message} (at character {self.position + 1})"


# -- tokens ------------------------------------------------------------------------------------
_WORD, _STRING, _NUMBER, _REGEX, _OP, _LPAREN, _RPAREN, _COMMA, _END = (
    "word",
    "string",
    "number",
    "regex",
    "operator",
    "(",
    ")",
    ",",
    "end",
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "like", "ilike", "is", "null"})
_OPERATORS = ("!~", "!=", "<>", "<=", ">=", "==", "&&", "||", "=", "<", ">", "~", "!", "&", "|")
_COMPARATORS = frozenset({"=", "==", "!=", "<>", "<", "<=", ">", ">=", "~", "!~"})
_WORD_STOP = set("()'\"`,=!<>~&|") | {" ", "\t", "\n", "\r"}
_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str  # the value: a string's content, a regex's pattern, a word as typed
    start: int
    end: int
    flags: str = ""  # a regex literal's flags
    quoted: bool = False  # a backticked word (a name with spaces or symbols)

    @property
    def keyword(self) -> str:
        return self.text.lower() if self.kind == _WORD and not self.quoted else ""


def tokenize(text: str) -> list[Token]:
    """The tokens of a quick filter, ending with an `end` token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "'\"":
            value, end = _read_quoted(text, position)
            tokens.append(Token(_STRING, value, position, end))
            position = end
        elif char == "`":
            end = text.find("`", position + 1)
            if end < 0:
                raise QuickFilterError(
                    "Missing closing backtick for the name that starts here.",
                    position,
                    len(text) - position,
                )
            name, start = text[position + 1 : end], position
            previous = tokens[-1] if tokens else None
            joined = previous is not None and previous.kind == _WORD and previous.end == position
            if previous is not None and joined and previous.text.endswith("."):
                tokens.pop()  # tags.`my key` is one name
                name, start = previous.text + name, previous.start
            tokens.append(Token(_WORD, name, start, end + 1, quoted=True))
            position = end + 1
        elif char == "/" and _regex_closes(text, position):
            token = _read_regex(text, position)
            tokens.append(token)
            position = token.end
        elif char in "(),":
            kind = {"(": _LPAREN, ")": _RPAREN, ",": _COMMA}[char]
            tokens.append(Token(kind, char, position, position + 1))
            position += 1
        elif (operator := _operator_at(text, position)) is not None:
            tokens.append(Token(_OP, operator, position, position + len(operator)))
            position += len(operator)
        else:
            end = position
            while end < len(text) and text[end] not in _WORD_STOP:
                end += 1
            word = text[position:end]
            kind = _NUMBER if _NUMBER_RE.fullmatch(word) else _WORD
            tokens.append(Token(kind, word, position, end))
            position = end
    tokens.append(Token(_END, "", len(text), len(text)))
    return tokens


def _operator_at(text: str, position: int) -> str | None:
    return next((op for op in _OPERATORS if text.startswith(op, position)), None)


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    quote, position, parts = text[start], start + 1, []
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            parts.append(text[position + 1])
            position += 2
            continue
        if char == quote:
            return "".join(parts), position + 1
        parts.append(char)
        position += 1
    raise QuickFilterError(
        f"Missing closing quote: the text that starts with {quote} has no closing {quote}.",
        start,
        len(text) - start,
    )


def _regex_closes(text: str, start: int) -> bool:
    return _regex_end(text, start) > 0


def _regex_end(text: str, start: int) -> int:
    """The offset of the / closing the regex literal opened at `start`, or -1."""
    position = start + 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == "/":
            return position
        position += 1
    return -1


def _read_regex(text: str, start: int) -> Token:
    close = _regex_end(text, start)
    end = close + 1
    while end < len(text) and text[end].isalpha():
        end += 1
    flags = text[close + 1 : end]
    unknown = set(flags) - {"i"}
    if unknown:
        raise QuickFilterError(
            f"Unknown regex flag {sorted(unknown)[0]!r}: only i (ignore case) is supported.",
            close + 1,
            len(flags),
        )
    return Token(_REGEX, text[start + 1 : close], start, end, flags=flags)


# -- the syntax tree ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    """A literal on the right of a condition."""

    text: str
    kind: str  # "word", "string", "number" or "regex"
    start: int
    end: int
    flags: str = ""

    @property
    def number(self) -> float | None:
        try:
            return float(self.text)
        except ValueError:
            return None


@dataclass(frozen=True)
class Condition:
    """`field op values`: op is one of =, !=, <, <=, >, >=, ~, !~, in, not in, contains,
    not contains, like, not like, ilike, not ilike, is null, is not null."""

    field: str  # as typed
    op: str
    values: tuple[Value, ...]
    start: int
    end: int
    field_end: int


@dataclass(frozen=True)
class NameMatch:
    """A bare word, string or /regex/: matches the run name."""

    value: Value


@dataclass(frozen=True)
class Negation:
    part: Node


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


Node = Condition | NameMatch | Negation | AllOf | AnyOf


class _Parser:
    """or := and ("or" and)*; and := unary (["and"] unary)*; unary := "not" unary | primary."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def is_keyword(self, token: Token, *words: str) -> bool:
        return token.keyword in words

    def is_or(self, token: Token) -> bool:
        return self.is_keyword(token, "or") or (token.kind == _OP and token.text in ("|", "||"))

    def is_and(self, token: Token) -> bool:
        return self.is_keyword(token, "and") or (token.kind == _OP and token.text in ("&", "&&"))

    def is_not(self, token: Token) -> bool:
        return self.is_keyword(token, "not") or (token.kind == _OP and token.text == "!")

    def parse(self) -> Node | None:
        if self.peek().kind == _END:
            return None
        node = self.any_of()
        token = self.peek()
        if token.kind == _RPAREN:
            raise QuickFilterError("This ) closes no (: remove it or add the (.", token.start)
        if token.kind != _END:  # pragma: no cover - any_of consumes every other token
            raise QuickFilterError(f"Unexpected {token.text!r}.", token.start)
        return node

    def any_of(self) -> Node:
        parts = [self.all_of()]
        while self.is_or(self.peek()):
            operator = self.take()
            self.expect_operand(operator)
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def all_of(self) -> Node:
        parts = [self.unary()]
        while True:
            token = self.peek()
            if self.is_and(token):
                self.take()
                self.expect_operand(token)
            elif token.kind in (_END, _RPAREN) or self.is_or(token):
                break
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def expect_operand(self, operator: Token) -> None:
        following = self.peek()
        if following.kind in (_END, _RPAREN) or self.is_or(following) or self.is_and(following):
            raise QuickFilterError(
                f"Expected a condition after {operator.text.upper()}.",
                operator.start,
                operator.end - operator.start,
            )

    def unary(self) -> Node:
        token = self.peek()
        if self.is_not(token):
            self.take()
            if self.peek().kind in (_END, _RPAREN):
                raise QuickFilterError("Expected a condition after NOT.", token.start, 3)
            return Negation(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == _LPAREN:
            self.take()
            if self.peek().kind == _RPAREN:
                raise QuickFilterError("Empty parentheses: put a condition inside.", token.start)
            node = self.any_of()
            closing = self.take()
            if closing.kind != _RPAREN:
                raise QuickFilterError("Missing ) to close the ( that starts here.", token.start, 1)
            return node
        if token.kind == _RPAREN:
            raise QuickFilterError("This ) closes no (: remove it or add the (.", token.start)
        if token.kind == _COMMA:
            raise QuickFilterError(
                "A comma only separates values in a list, e.g. in (adam, sgd).", token.start
            )
        if token.kind == _OP:
            raise QuickFilterError(
                f"Expected a name before {token.text!r}, e.g. metrics.val_auc {token.text} 0.9.",
                token.start,
                token.end - token.start,
            )
        if token.kind == _WORD and self.starts_condition():
            return self.condition()
        if token.kind == _WORD and token.keyword in _KEYWORDS:
            raise QuickFilterError(
                f"{token.text!r} is a keyword here; quote it to search for the word: "
                f"'{token.text}'.",
                token.start,
                token.end - token.start,
            )
        self.take()
        return NameMatch(_value_of(token))

    def starts_condition(self) -> bool:
        following = self.peek(1)
        if following.kind == _OP and following.text in _COMPARATORS:
            return True
        if following.keyword in ("in", "contains", "like", "ilike", "is"):
            return True
        return following.keyword == "not" and self.peek(2).keyword in (
            "in",
            "contains",
            "like",
            "ilike",
        )

    def condition(self) -> Condition:
        name = self.take()
        operator = self.take()
        op = operator.text.lower()
        if operator.keyword == "not":
            op = "not " + self.take().keyword
        elif operator.keyword == "is":
            op = self.is_null(operator)
            return Condition(name.text, op, (), name.start, self.peek(-1).end, name.end)
        op = {"==": "=", "<>": "!="}.get(op, op)
        values = self.value_list(operator) if op.endswith("in") else (self.value(operator),)
        return Condition(name.text, op, values, name.start, values[-1].end, name.end)

    def is_null(self, operator: Token) -> str:
        token = self.take()
        if token.keyword == "null":
            return "is null"
        if token.keyword == "not" and self.take().keyword == "null":
            return "is not null"
        raise QuickFilterError(
            "Expected IS NULL or IS NOT NULL.", operator.start, token.end - operator.start
        )

    def value(self, operator: Token) -> Value:
        token = self.take()
        if token.kind in (_WORD, _STRING, _NUMBER, _REGEX) and not (
            token.kind == _WORD and token.keyword in ("and", "or") and not token.quoted
        ):
            return _value_of(token)
        found = "the end" if token.kind == _END else repr(token.text)
        raise QuickFilterError(
            f"Expected a value after {operator.text!r}, found {found}.",
            token.start if token.kind != _END else operator.end,
            max(1, token.end - token.start),
        )

    def value_list(self, operator: Token) -> tuple[Value, ...]:
        opening = self.take()
        if opening.kind != _LPAREN:
            raise QuickFilterError(
                "Expected a list in parentheses after IN, e.g. in (adam, sgd).",
                opening.start,
            )
        values: list[Value] = []
        while True:
            token = self.peek()
            if token.kind == _RPAREN:
                self.take()
                break
            if token.kind == _COMMA:
                self.take()
                continue
            if token.kind == _END:
                raise QuickFilterError(
                    "Missing ) to close the list that starts here.", opening.start
                )
            if token.kind not in (_WORD, _STRING, _NUMBER):
                raise QuickFilterError(
                    f"Expected a value in the list, found {token.text!r}.", token.start
                )
            values.append(_value_of(self.take()))
        if not values:
            raise QuickFilterError("The list is empty: put values in it.", opening.start)
        return tuple(values)


def _value_of(token: Token) -> Value:
    kind = token.kind if token.kind != _WORD else "word"
    return Value(token.text, kind, token.start, token.end, token.flags)


def parse(text: str) -> Node | None:
    """The syntax tree of a quick filter; None when it is empty."""
    return _Parser(tokenize(text)).parse()


# -- resolving names ---------------------------------------------------------------------------
def resolve_field(name: str, columns: Sequence[str], start: int = 0) -> str:
    """The frame column a typed name stands for, or a `QuickFilterError` saying why none."""
    known = set(columns)
    if name in known:
        return name
    group, dot, key = name.partition(".")
    if dot and group in GROUP_PREFIXES:
        prefix = GROUP_PREFIXES[group]
        if not prefix:
            column = ATTRIBUTES.get(key)
            if column is None:
                raise QuickFilterError(
                    f"Unknown run attribute {key!r}: use one of "
                    "run_name, status, start_time, duration, user, run_id.",
                    start + len(group) + 1,
                    len(key),
                )
            return column
        column = prefix + key.strip("`")
        if column in known:
            return column
        raise QuickFilterError(_unknown_column(column, columns), start, len(name))
    if name in ATTRIBUTES:
        return ATTRIBUTES[name]
    matches = [prefix + name for prefix in _GROUPS if prefix + name in known]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise QuickFilterError(
            f"{name!r} is {' and '.join(matches)}: write which one.", start, len(name)
        )
    if dot and difflib.get_close_matches(group, GROUP_PREFIXES, n=1, cutoff=0.7):
        near = difflib.get_close_matches(group, GROUP_PREFIXES, n=1, cutoff=0.7)[0]
        raise QuickFilterError(
            f"Unknown prefix '{group}.': did you mean {GROUP_PREFIXES[near] or 'attributes.'}?",
            start,
            len(group) + 1,
        )
    raise QuickFilterError(_unknown_column(name, columns), start, len(name))


def _unknown_column(name: str, columns: Sequence[str]) -> str:
    """ "No column X", with the closest existing name when there is one."""
    group = name.partition(".")[0] + "." if "." in name else ""
    candidates = [c for c in columns if c.startswith(group)] if group else list(columns)
    starting = [c for c in candidates if c.lower().startswith(name.lower())]
    near = starting[:1] or difflib.get_close_matches(name, candidates[:20_000], n=1, cutoff=0.75)
    hint = f": did you mean {near[0]}?" if near else "."
    return f"The loaded runs have no column {name!r}{hint}"


def _resolve_tree(node: Node, columns: Sequence[str]) -> Node:
    if isinstance(node, Condition):
        column = resolve_field(node.field, columns, node.start)
        return Condition(column, node.op, node.values, node.start, node.end, node.field_end)
    if isinstance(node, Negation):
        return Negation(_resolve_tree(node.part, columns))
    if isinstance(node, AllOf):
        return AllOf(tuple(_resolve_tree(part, columns) for part in node.parts))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(_resolve_tree(part, columns) for part in node.parts))
    return node


# -- evaluation --------------------------------------------------------------------------------
_NUMBER_KIND, _TEXT_KIND, _TIME_KIND = "number", "text", "time"
_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?)\s*(ms|s|sec|min|m|h|d)\Z", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


@dataclass
class PreparedFrame:
    """A runs frame with what repeated filtering needs cached: lower-cased text, text read as
    numbers, times as milliseconds. Make one per frame and keep it while the frame lives."""

    frame: pd.DataFrame
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    def kind(self, column: str) -> str:
        dtype = self.frame[column].dtype
        if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            return _TIME_KIND
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            return _NUMBER_KIND
        return _TEXT_KIND

    def _cached(self, column: str, what: str, make: Callable[[], Any]) -> Any:
        key = (column, what)
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def text(self, column: str) -> pd.Series:
        """The column as pandas strings (missing stays missing)."""

        def make() -> pd.Series:
            series = self.frame[column]
            if isinstance(series.dtype, pd.StringDtype):
                return series
            return series.astype("str")

        result: pd.Series = self._cached(column, "text", make)
        return result

    def lower(self, column: str) -> pd.Series:
        result: pd.Series = self._cached(column, "lower", lambda: self.text(column).str.lower())
        return result

    def numbers(self, column: str) -> npt.NDArray[np.float64]:
        """Float64 values: numbers as stored, text parsed (NaN where it is not a number),
        times in milliseconds since 1970."""

        def make() -> npt.NDArray[np.float64]:
            series = self.frame[column]
            kind = self.kind(column)
            if kind == _NUMBER_KIND:
                return series.to_numpy(dtype=np.float64, na_value=np.nan)
            if kind == _TIME_KIND:
                naive = series.dt.tz_localize(None) if series.dt.tz is not None else series
                values = naive.astype("datetime64[ms]").to_numpy().view(np.int64)
                result = values.astype(np.float64)
                result[series.isna().to_numpy()] = np.nan
                return result
            parsed = pd.to_numeric(self.text(column), errors="coerce")
            return np.asarray(parsed.to_numpy(dtype=np.float64, na_value=np.nan))

        result: npt.NDArray[np.float64] = self._cached(column, "numbers", make)
        return result

    def missing(self, column: str) -> Mask:
        result: Mask = self._cached(column, "missing", lambda: self.frame[column].isna().to_numpy())
        return result


@dataclass(frozen=True)
class QuickFilter:
    """A parsed, name-resolved quick filter; `mask(frame)` evaluates it."""

    text: str
    tree: Node | None

    @property
    def is_empty(self) -> bool:
        return self.tree is None

    def mask(self, frame: pd.DataFrame | PreparedFrame) -> Mask:
        """True for the rows the filter keeps (all rows when it is empty)."""
        prepared = frame if isinstance(frame, PreparedFrame) else PreparedFrame(frame)
        if self.tree is None:
            return np.ones(len(prepared), dtype=bool)
        return _evaluate(self.tree, prepared)


def compile_quick_filter(text: str, columns: Sequence[str]) -> QuickFilter:
    """Parse `text` and resolve its names against the loaded columns.

    Raises `QuickFilterError` for a syntax error or a name no column has; a type error
    (contains on a metric, a word compared with a number) is raised by `mask`.
    """
    tree = parse(text)
    return QuickFilter(text, None if tree is None else _resolve_tree(tree, columns))


def quick_filter_mask(text: str, frame: pd.DataFrame) -> Mask:
    """Compile and evaluate in one step, against the frame's own columns."""
    return compile_quick_filter(text, list(frame.columns)).mask(frame)


def _evaluate(node: Node, frame: PreparedFrame) -> Mask:
    if isinstance(node, AnyOf):
        result = _evaluate(node.parts[0], frame)
        for part in node.parts[1:]:
            result = result | _evaluate(part, frame)
        return result
    if isinstance(node, AllOf):
        result = _evaluate(node.parts[0], frame)
        for part in node.parts[1:]:
            result = result & _evaluate(part, frame)
        return result
    if isinstance(node, Negation):
        return ~_evaluate(node.part, frame)
    if isinstance(node, NameMatch):
        return _match_name(node.value, frame)
    return _condition_mask(node, frame)


def _match_name(value: Value, frame: PreparedFrame) -> Mask:
    rows = len(frame)
    if not frame.has("run_name"):
        return np.zeros(rows, dtype=bool)
    if value.kind == "regex":
        return _regex_mask(frame, "run_name", value, negate=False)
    word = value.text.lower()
    names = frame.lower("run_name")
    result = _bools(names.str.contains(word, regex=False))
    if frame.has("run_id") and value.kind != "string" and len(word) >= 4:
        result |= _bools(frame.lower("run_id").str.startswith(word))
    return result


def _condition_mask(node: Condition, frame: PreparedFrame) -> Mask:
    rows = len(frame)
    column, op = node.field, node.op
    if not frame.has(column):  # a key no run of this page has: every value is missing
        return np.full(rows, op == "is null", dtype=bool)
    if op in ("is null", "is not null"):
        missing = frame.missing(column)
        return missing if op == "is null" else ~missing
    kind = frame.kind(column)
    if kind == _TEXT_KIND:
        return _text_condition(node, frame)
    return _number_condition(node, frame, kind)


def _number_condition(node: Condition, frame: PreparedFrame, kind: str) -> Mask:
    column, op = node.field, node.op
    if op not in ("=", "!=", "<", "<=", ">", ">=", "in", "not in"):
        raise QuickFilterError(
            f"{column} holds {'times' if kind == _TIME_KIND else 'numbers'}: compare it with "
            f"=, !=, <, <=, >, >= or in (…), not {op}.",
            node.field_end + 1,
            len(op),
        )
    values = frame.numbers(column)
    present = ~np.isnan(values)
    if kind == _TIME_KIND and op == "=" and len(node.values) == 1 and _is_date(node.values[0]):
        day = _time_ms(node.values[0], column)
        return present & (values >= day) & (values < day + 86_400_000)
    numbers = [_number_for(value, column, kind) for value in node.values]
    if op in ("in", "not in"):
        hit = np.isin(values, numbers)
        return present & (hit if op == "in" else ~hit)
    return present & _compare(values, op, numbers[0])


def _text_condition(node: Condition, frame: PreparedFrame) -> Mask:
    column, op, values = node.field, node.op, node.values
    present = ~frame.missing(column)
    if op in ("~", "!~"):
        return present & _regex_mask(frame, column, values[0], negate=op == "!~")
    if op in ("contains", "not contains"):
        hit = _bools(frame.lower(column).str.contains(values[0].text.lower(), regex=False))
        return present & (hit if op == "contains" else ~hit)
    if op.endswith("like"):
        regex = _like_to_regex(values[0].text)
        case = not op.endswith("ilike")
        hit = _bools(frame.text(column).str.fullmatch(regex, case=case))
        return present & (~hit if op.startswith("not") else hit)
    if op in ("=", "!=", "in", "not in"):
        hit = np.zeros(len(frame), dtype=bool)
        lowered = frame.lower(column)
        hit |= _bools(lowered.isin([value.text.lower() for value in values]))
        numbers = [n for n in (v.number for v in values if v.kind == "number") if n is not None]
        if numbers:
            hit |= np.isin(frame.numbers(column), numbers)
        return present & (hit if op in ("=", "in") else ~hit)
    # <, <=, >, >=: as numbers when the value is one, else in text order.
    value = values[0]
    if value.number is not None and value.kind != "string":
        parsed = frame.numbers(column)
        return ~np.isnan(parsed) & _compare(parsed, op, value.number)
    compared = {
        "<": frame.text(column) < value.text,
        "<=": frame.text(column) <= value.text,
        ">": frame.text(column) > value.text,
        ">=": frame.text(column) >= value.text,
    }[op]
    return present & _bools(compared)


def _compare(values: npt.NDArray[np.float64], op: str, number: float) -> Mask:
    with np.errstate(invalid="ignore"):
        result = {
            "=": np.equal,
            "!=": np.not_equal,
            "<": np.less,
            "<=": np.less_equal,
            ">": np.greater,
            ">=": np.greater_equal,
        }[op](values, number)
    return np.asarray(result, dtype=bool)


def _regex_mask(frame: PreparedFrame, column: str, value: Value, negate: bool) -> Mask:
    ignore_case = "i" in value.flags
    try:
        compiled = re.compile(value.text, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        offset = value.start + (1 if value.kind in ("regex", "string") else 0)
        raise QuickFilterError(
            f"The regular expression {value.text!r} is not valid: {error.msg}.",
            offset + (error.pos or 0),
        ) from None
    with warnings.catch_warnings():
        # Groups in a pattern are fine here: only whether it matches counts.
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        # Arrow strings go to RE2 (C++), and pandas falls back to `re` for what RE2 lacks.
        matched = frame.text(column).str.contains(
            compiled.pattern, regex=True, flags=0 if not ignore_case else re.IGNORECASE
        )
    hit = _bools(matched)
    present = ~frame.missing(column)
    return present & (~hit if negate else hit)


def _like_to_regex(pattern: str) -> str:
    """MLflow's LIKE: % any run of characters, _ one character, the rest literal."""
    return "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )


def _number_for(value: Value, column: str, kind: str) -> float:
    if kind == _TIME_KIND:
        return _time_ms(value, column)
    number = value.number
    if number is None and column == "duration_s":
        match = _DURATION_RE.match(value.text.strip())
        if match:
            return float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
    if number is None:
        raise QuickFilterError(
            f"{column} holds numbers: {value.text!r} is not a number.",
            value.start,
            value.end - value.start,
        )
    return number


def _is_date(value: Value) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.text) is not None


def _time_ms(value: Value, column: str) -> float:
    try:
        stamp: object = pd.Timestamp(value.text)
    except ValueError:
        stamp = None
    if not isinstance(stamp, pd.Timestamp) or pd.isna(stamp):
        raise QuickFilterError(
            f"{column} holds times: write one like 2025-06-01 or '2025-06-01 14:30', "
            f"not {value.text!r}.",
            value.start,
            value.end - value.start,
        )
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return float(stamp.value // 1_000_000)


def _bools(result: pd.Series) -> Mask:
    """A pandas boolean result (missing counts as False) as a writable numpy mask."""
    return np.array(result.to_numpy(dtype=bool, na_value=False), dtype=bool)
