"""Check an MLflow search filter as the user types it, and name what completes it.

`check_search_filter` answers, in one sentence, what MLflow's server would refuse in a
`runs/search` filter ("unknown prefix 'parms.': did you mean params.?", "missing closing
quote"), before anything is sent. It is a small tokenizer and a clause parser that follow
MLflow's own rules (`mlflow.utils.search_utils.SearchUtils` and the comparators its stores
accept), written here because importing MLflow's parser costs over a second and this runs on
every keystroke. tests/unit/test_search_syntax.py checks it against MLflow's parser.

`field_completions` lists the `params.`/`metrics.`/`tags.`/`attributes.` names of a runs
frame's columns; `completion_prefix` finds the name being typed at the cursor.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mlops_desktop.services.experiments import METRIC_PREFIX, PARAM_PREFIX, TAG_PREFIX

# -- MLflow's vocabulary -----------------------------------------------------------------------
_METRIC, _PARAM, _TAG, _ATTRIBUTE, _DATASET = "metric", "param", "tag", "attribute", "dataset"
#: Every prefix MLflow accepts, and the kind of key it names.
ENTITY_PREFIXES = {
    "metric": _METRIC,
    "metrics": _METRIC,
    "param": _PARAM,
    "params": _PARAM,
    "parameter": _PARAM,
    "parameters": _PARAM,
    "tag": _TAG,
    "tags": _TAG,
    "attribute": _ATTRIBUTE,
    "attributes": _ATTRIBUTE,
    "attr": _ATTRIBUTE,
    "run": _ATTRIBUTE,
    "dataset": _DATASET,
    "datasets": _DATASET,
}
#: The spelling we suggest for each kind.
CANONICAL_PREFIX = {
    _METRIC: "metrics.",
    _PARAM: "params.",
    _TAG: "tags.",
    _ATTRIBUTE: "attributes.",
    _DATASET: "datasets.",
}
STRING_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri")
NUMERIC_ATTRIBUTES = ("start_time", "end_time", "created", "Created")
_ATTRIBUTE_ALIASES = ("run name", "Run name", "Run Name")
SEARCHABLE_ATTRIBUTES = frozenset(STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES + _ATTRIBUTE_ALIASES)
DATASET_KEYS = ("name", "digest", "context")
#: The attributes the completer offers (MLflow's own spellings).
COMPLETED_ATTRIBUTES = ("run_name", "status", "start_time", "end_time", "user_id", "run_id")

_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
_TEXT_OPS = ("=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL")
_LIST_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_ALLOWED_OPS = {
    _METRIC: _NUMBER_OPS,
    _PARAM: _TEXT_OPS,
    _TAG: _TEXT_OPS,
    _DATASET: _LIST_OPS,
}
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL"})

# -- tokens ------------------------------------------------------------------------------------
_NAME, _STRING, _DQUOTED, _BACKTICKED, _NUMBER, _OP, _KEYWORD, _PUNCT, _END = (
    "name",
    "string",
    "dquoted",
    "backticked",
    "number",
    "operator",
    "keyword",
    "punctuation",
    "end",
)
_NUMBER_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NAME_RE = re.compile(r"[A-Za-z0-9_.]+")
_OPERATOR_RE = re.compile(r"[=!<>~]+|[-+*/%^&|]")
_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_.]+\Z")


@dataclass(frozen=True)
class SyntaxProblem:
    """What is wrong with a filter, and where (0-based character offset and length)."""

    message: str
    position: int
    length: int = 1

    def describe(self) -> str:
        """The message with the place, for a one-line label under the filter box."""
        return f"{self.message} (at character {self.position + 1})"


class _Problem(Exception):
    def __init__(self, message: str, position: int, length: int = 1) -> None:
        super().__init__(message)
        self.problem = SyntaxProblem(message, position, max(1, length))


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def upper(self) -> str:
        return self.text.upper()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        if char in "'\"`":
            end = _closing_quote(text, position)
            kind = {"'": _STRING, '"': _DQUOTED, "`": _BACKTICKED}[char]
            tokens.append(_Token(kind, text[position:end], position))
            position = end
            continue
        if char in "(),":
            tokens.append(_Token(_PUNCT, char, position))
            position += 1
            continue
        number = _NUMBER_RE.match(text, position)
        if number and not _continues_name(text, number.end()):
            tokens.append(_Token(_NUMBER, number.group(), position))
            position = number.end()
            continue
        name = _NAME_RE.match(text, position)
        if name:
            word = name.group()
            kind = _KEYWORD if word.upper() in _KEYWORDS else _NAME
            tokens.append(_Token(kind, word, position))
            position = name.end()
            continue
        operator = _OPERATOR_RE.match(text, position)
        if operator:
            tokens.append(_Token(_OP, operator.group(), position))
            position = operator.end()
            continue
        raise _Problem(f"The character {char!r} has no meaning here.", position)
    tokens.append(_Token(_END, "", len(text)))
    return tokens


def _closing_quote(text: str, start: int) -> int:
    """The offset after the quote closing the one at `start` (a doubled quote is literal)."""
    quote = text[start]
    position = start + 1
    while position < len(text):
        if text[position] == "\\" and quote != "`":
            position += 2
            continue
        if text[position] == quote:
            if quote == "'" and text.startswith("''", position):
                position += 2
                continue
            return position + 1
        position += 1
    what = "name" if quote == "`" else "value"
    raise _Problem(
        f"Missing closing quote: the {what} that starts with {quote} has no closing {quote}.",
        start,
        len(text) - start,
    )


def _continues_name(text: str, end: int) -> bool:
    return end < len(text) and (text[end].isalnum() or text[end] in "_.")


# -- clauses -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Key:
    kind: str
    key: str
    start: int
    end: int


class _Checker:
    """Walks the tokens of an AND-joined list of clauses; raises `_Problem` on the first fault."""

    def __init__(self, tokens: list[_Token], known_columns: Sequence[str]) -> None:
        self.tokens = tokens
        self.index = 0
        self.known_columns = known_columns

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def check(self) -> None:
        """Clauses, with AND between them. Like MLflow, a stray AND (leading, trailing,
        doubled) and a missing AND between two clauses pass: both mean the same."""
        while True:
            token = self.peek()
            if token.kind == _END:
                return
            if token.kind == _KEYWORD and token.upper == "AND":
                self.take()
                continue
            if token.kind == _KEYWORD and token.upper == "OR":
                raise _Problem(
                    "MLflow's search has no OR: join conditions with AND, or write the OR "
                    "in the quick filter, which applies to the loaded runs.",
                    token.start,
                    2,
                )
            self.clause()

    def clause(self) -> None:
        token = self.peek()
        if token.kind == _PUNCT and token.text == "(":
            raise _Problem(
                "MLflow's search has no parentheses (only IN lists use them); "
                "group conditions in the quick filter instead.",
                token.start,
            )
        key = self.identifier()
        operator, op_start, op_end = self.comparator(key)
        if operator in ("IS NULL", "IS NOT NULL"):
            if key.kind not in (_PARAM, _TAG):
                raise _Problem(
                    f"{operator} works on params and tags only, not on {_describe_key(key)}.",
                    op_start,
                    op_end - op_start,
                )
            return
        self.check_operator(key, operator, op_start, op_end)
        if operator in ("IN", "NOT IN"):
            self.value_list(key, op_end)
        else:
            self.value(key, operator, op_end)

    # -- the parts of a clause ---------------------------------------------------------------
    def identifier(self) -> _Key:
        token = self.take()
        if token.kind == _END:
            raise _Problem("Expected a condition, e.g. metrics.val_auc > 0.9.", token.start)
        if token.kind not in (_NAME, _BACKTICKED, _DQUOTED):
            raise _Problem(
                f"Expected a name such as metrics.val_auc or params.optimizer, not {token.text!r}.",
                token.start,
                len(token.text),
            )
        start, text = token.start, token.text
        # `metrics`.`my key`, metrics.`my key` and metrics."my key" are one identifier; so
        # is learning-rate, which MLflow misreads (resolve() asks for backticks).
        while self._continues_identifier(start + len(text)):
            text += self.take().text
        end = start + len(text)
        return self.resolve(text, start, end)

    def _continues_identifier(self, end: int) -> bool:
        token = self.peek()
        if token.start != end:
            return False
        if token.kind in (_BACKTICKED, _DQUOTED, _NAME, _NUMBER):
            return True
        after = self.peek(1)
        return (
            token.kind == _OP
            and not set(token.text) & set("=<>!")
            and after.kind in (_NAME, _NUMBER)
            and after.start == token.end
        )

    def resolve(self, text: str, start: int, end: int) -> _Key:
        if token_is_quoted(text, '"'):
            raise _Problem(
                f"{text} is a quoted value where a name was expected, e.g. params.optimizer.",
                start,
                end - start,
            )
        entity, dot, key = _split_identifier(text)
        if not dot:
            return self.bare_attribute(_unquote(entity), start, end)
        kind = ENTITY_PREFIXES.get(_unquote(entity))
        if kind is None:
            raise _Problem(_unknown_prefix(entity), start, len(entity) + 1)
        key_start = start + len(entity) + 1
        if not key:
            raise _Problem(
                f"Expected a key after {entity}., e.g. {CANONICAL_PREFIX[kind]}{_example(kind)}.",
                key_start - 1,
            )
        plain = _unquote(key)
        if key == plain and not _PLAIN_KEY_RE.match(key):
            raise _Problem(
                f"The key {key!r} holds characters MLflow reads as operators: "
                f"write it in backticks, {entity}.`{key}`.",
                key_start,
                len(key),
            )
        if kind == _ATTRIBUTE and plain not in SEARCHABLE_ATTRIBUTES:
            raise _Problem(_unknown_attribute(plain), key_start, len(key))
        if kind == _DATASET and plain not in DATASET_KEYS:
            raise _Problem(
                f"Unknown dataset key {plain!r}: use datasets.name, datasets.digest or "
                "datasets.context.",
                key_start,
                len(key),
            )
        return _Key(kind, plain, start, end)

    def bare_attribute(self, name: str, start: int, end: int) -> _Key:
        if name in SEARCHABLE_ATTRIBUTES:
            return _Key(_ATTRIBUTE, name, start, end)
        prefix = name.split(".", 1)[0]
        near_prefix = difflib.get_close_matches(prefix, ENTITY_PREFIXES, n=1, cutoff=0.7)
        if "." in name and near_prefix:
            raise _Problem(_unknown_prefix(prefix), start, len(prefix) + 1)
        matches = [
            column
            for column in self.known_columns
            if column.partition(".")[2] == name and column.startswith(_GROUP_PREFIXES)
        ]
        if matches:
            names = " or ".join(quoted_field(column) for column in matches[:3])
            raise _Problem(f"{name!r} needs its prefix: did you mean {names}?", start, end - start)
        raise _Problem(
            f"{name!r} is not a run attribute; write params.{name}, metrics.{name} or "
            f"tags.{name} (run attributes: {', '.join(COMPLETED_ATTRIBUTES)}).",
            start,
            end - start,
        )

    def comparator(self, key: _Key) -> tuple[str, int, int]:
        token = self.take()
        if token.kind == _KEYWORD and token.upper == "IS":
            following = self.take()
            if following.kind == _KEYWORD and following.upper == "NULL":
                return "IS NULL", token.start, following.end
            if following.kind == _KEYWORD and following.upper == "NOT":
                last = self.take()
                if last.kind == _KEYWORD and last.upper == "NULL":
                    return "IS NOT NULL", token.start, last.end
            raise _Problem("Expected IS NULL or IS NOT NULL.", token.start, len(token.text))
        if token.kind == _KEYWORD and token.upper == "NOT":
            following = self.take()
            if following.kind == _KEYWORD and following.upper == "IN":
                return "NOT IN", token.start, following.end
            raise _Problem("Expected NOT IN.", token.start, 3)
        if token.kind == _KEYWORD and token.upper in ("LIKE", "ILIKE", "IN"):
            return token.upper, token.start, token.end
        if token.kind == _OP:
            if token.text not in _NUMBER_OPS:
                raise _Problem(
                    f"{token.text!r} is not an operator MLflow knows; use =, !=, <, <=, >, >=, "
                    "LIKE, ILIKE, IN or IS NULL.",
                    token.start,
                    len(token.text),
                )
            return token.text, token.start, token.end
        where = f"after {_describe_key(key)}"
        found = "the end" if token.kind == _END else repr(token.text)
        raise _Problem(
            f"Expected an operator (=, !=, <, >, LIKE…) {where}, found {found}.",
            token.start,
            max(1, len(token.text)),
        )

    def check_operator(self, key: _Key, operator: str, start: int, end: int) -> None:
        if key.kind == _ATTRIBUTE:
            numeric = key.key in NUMERIC_ATTRIBUTES
            allowed = _NUMBER_OPS if numeric else _LIST_OPS
        else:
            allowed = _ALLOWED_OPS[key.kind]
        if operator in allowed:
            return
        listed = ", ".join(op for op in allowed if " " not in op or op == "IS NULL")
        hint = ""
        if key.kind in (_PARAM, _TAG) and operator in ("<", "<=", ">", ">="):
            hint = " (MLflow compares params as text; the quick filter compares them as numbers)"
        raise _Problem(
            f"{_describe_key(key)} takes {listed}, not {operator}{hint}.", start, end - start
        )

    def value(self, key: _Key, operator: str, after: int) -> None:
        token = self.take()
        if token.kind == _END:
            raise _Problem(f"Expected a value after {operator}.", after)
        numeric = key.kind == _METRIC or (key.kind == _ATTRIBUTE and key.key in NUMERIC_ATTRIBUTES)
        if numeric:
            if token.kind != _NUMBER:
                what = (
                    "a number"
                    if key.kind == _METRIC
                    else "a time in milliseconds since 1970, e.g. 1735689600000"
                )
                raise _Problem(
                    f"{_describe_key(key)} compares with {what}, not {token.text}.",
                    token.start,
                    len(token.text),
                )
            return
        if token.kind in (_STRING, _DQUOTED):
            return
        example = f"'{_unquote(token.text)}'"
        raise _Problem(
            f"Quote the value: {_describe_key(key)} {operator} {example} "
            "(MLflow compares it as text).",
            token.start,
            max(1, len(token.text)),
        )

    def value_list(self, key: _Key, after: int) -> None:
        if not (key.kind == _DATASET or (key.kind == _ATTRIBUTE and key.key == "run_id")):
            raise _Problem(
                "MLflow's IN lists work on attributes.run_id and datasets.* only; "
                "the quick filter takes IN on any column.",
                after - 2,
                2,
            )
        opening = self.take()
        if not (opening.kind == _PUNCT and opening.text == "("):
            raise _Problem("Expected a list in parentheses, e.g. ('a', 'b').", opening.start)
        while True:
            item = self.take()
            if item.kind != _STRING:
                raise _Problem(
                    "Expected a quoted value in the list, e.g. ('a', 'b').",
                    item.start,
                    max(1, len(item.text)),
                )
            separator = self.take()
            if separator.kind == _PUNCT and separator.text == ",":
                if self.peek().text == ")":  # a trailing comma, as in a Python tuple
                    separator = self.take()
                else:
                    continue
            if separator.kind == _PUNCT and separator.text == ")":
                return
            raise _Problem("Expected , or ) in the list.", separator.start)


_GROUP_PREFIXES = (PARAM_PREFIX, METRIC_PREFIX, TAG_PREFIX)


def check_search_filter(text: str, known_columns: Sequence[str] = ()) -> SyntaxProblem | None:
    """None when MLflow would accept `text` as a runs filter, else what is wrong and where.

    `known_columns` (a runs frame's column names) lets the answer suggest the full name of a
    key typed without its prefix.
    """
    try:
        _Checker(_tokenize(text), known_columns).check()
    except _Problem as problem:
        return problem.problem
    return None


# -- wording helpers ---------------------------------------------------------------------------
def _split_identifier(text: str) -> tuple[str, str, str]:
    """`entity`, "." and `key` of a dotted name; the entity may be in backticks."""
    if text.startswith("`"):
        end = text.find("`", 1)
        if end > 0 and text[end + 1 : end + 2] == ".":
            return text[: end + 1], ".", text[end + 2 :]
        return text, "", ""
    return text.partition(".")


def token_is_quoted(text: str, quote: str) -> bool:
    return len(text) >= 2 and text[0] == quote and text[-1] == quote


def _unquote(text: str) -> str:
    for quote in "`\"'":
        if token_is_quoted(text, quote):
            return text[1:-1]
    return text


def _unknown_prefix(entity: str) -> str:
    bare = _unquote(entity)
    near = difflib.get_close_matches(bare.lower(), ENTITY_PREFIXES, n=1, cutoff=0.6)
    if near:
        suggestion = CANONICAL_PREFIX[ENTITY_PREFIXES[near[0]]]
        return f"Unknown prefix '{bare}.': did you mean {suggestion}?"
    return f"Unknown prefix '{bare}.': use params., metrics., tags., attributes. or datasets."


def _unknown_attribute(name: str) -> str:
    near = difflib.get_close_matches(name, SEARCHABLE_ATTRIBUTES, n=1, cutoff=0.6)
    hint = f"did you mean {near[0]}? " if near else ""
    return (
        f"Unknown run attribute {name!r}: {hint}attributes are "
        f"{', '.join(COMPLETED_ATTRIBUTES)}, artifact_uri."
    )


def _describe_key(key: _Key) -> str:
    if key.kind == _ATTRIBUTE:
        return f"attributes.{key.key}"
    return f"{CANONICAL_PREFIX[key.kind]}{key.key}"


def _example(kind: str) -> str:
    return {
        _METRIC: "val_auc",
        _PARAM: "optimizer",
        _TAG: "team",
        _ATTRIBUTE: "status",
        _DATASET: "name",
    }[kind]


# -- completion --------------------------------------------------------------------------------
def quoted_field(column: str) -> str:
    """A frame column as a filter name: `params.my key` needs backticks round its key."""
    for prefix in _GROUP_PREFIXES:
        if column.startswith(prefix):
            key = column[len(prefix) :]
            return column if _PLAIN_KEY_RE.match(key) else f"{prefix}`{key}`"
    return column


def field_completions(columns: Iterable[str]) -> list[str]:
    """The names a filter box completes: every param, metric and tag column of the frame,
    then the run attributes, sorted case-insensitively (QCompleter searches them by bisection).
    """
    names = {quoted_field(c) for c in columns if c.startswith(_GROUP_PREFIXES)}
    names.update(f"attributes.{attribute}" for attribute in COMPLETED_ATTRIBUTES)
    return sorted(names, key=str.lower)


_COMPLETION_CHARS = re.compile(r"[A-Za-z0-9_.`]*\Z")


def completion_prefix(text: str, cursor: int) -> tuple[int, str]:
    """Where the name being typed at `cursor` starts, and what is typed of it so far."""
    match = _COMPLETION_CHARS.search(text[:cursor])
    start = match.start() if match else cursor
    return start, text[start:cursor]
