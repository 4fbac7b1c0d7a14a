"""Promotion gates: what a model version must show before an alias moves to it.

A team declares the gates of a model in a TOML file it keeps in version control,
`<gates dir>/<model name>.toml` (see `gates_dir_for` for where the folder is):

    [[compare]]                 # against the version that holds the alias now
    metric = "val_auc"
    op = ">="                   # >=, <=, >, <
    tolerance = 0.005           # ">=": candidate >= holder - 0.005; "<=": <= holder + 0.005

    [[threshold]]               # an absolute bound
    metric = "val_auc"
    op = ">="
    value = 0.90

    [required_tags]             # on the version, else on its source run
    validation_status = "passed"

    [max_drift]                 # latest drift.<feature> sample of the monitoring source
    max = 0.25
    features = []               # optional: only these features (default: all)
    window_hours = 24           # optional: how far back a sample counts

    [min_eval_size]             # a metric, param or tag of the run, else a version tag
    key = "eval_rows"
    min = 5000

Every `[[compare]]`, `[[threshold]]`, `[max_drift]` and `[min_eval_size]` table may also set
`name` (what `--override NAME=REASON` names; default `compare:<metric>`, `threshold:<metric>`,
`drift`, `eval_size`; required tags are `tag:<key>`) and `aliases = ["champion"]` (the aliases
it guards; default every alias). A key that is not part of this schema is an error, so a
typo never turns a gate off silently.

Each gate gives a `GateResult`: passed, failed, or not evaluated (with the reason, e.g. no
version holds the alias yet, or the workspace has no monitoring source). Only a failed gate
blocks an approval; overriding it needs a written reason (`services/promotion_flow.py`).
The drift gate reads production drift: the traffic the current holder serves, which is what
the team watches before swapping models.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from mlops_desktop.backends.errors import BackendError, NotFound
from mlops_desktop.backends.metrics_source import MetricsSource
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.connections import Profile
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.domain.tracking import Run
from mlops_desktop.services.paths import AppPaths

GATES_FOLDER = "gates"
POLICY_SUFFIX = ".toml"
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}
_OP_WORDS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
_DRIFT_PREFIX = "drift."
_SECTIONS = ("compare", "threshold", "required_tags", "max_drift", "min_eval_size", "description")


class GateOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_EVALUATED = "not_evaluated"


@dataclass(frozen=True)
class GateResult:
    name: str  # what an override names: "compare:val_auc", "tag:validation_status", "drift"
    kind: str  # "compare", "threshold", "required_tag", "max_drift", "min_eval_size"
    title: str  # what the gate requires, in one line
    outcome: GateOutcome
    evidence: str  # one sentence: the values and where they came from

    @property
    def passed(self) -> bool:
        return self.outcome is GateOutcome.PASSED

    @property
    def failed(self) -> bool:
        return self.outcome is GateOutcome.FAILED


# -- the gates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricComparison:
    """The candidate's metric against the holder's, with a tolerance in the holder's favour."""

    name: str
    metric: str
    op: str
    tolerance: float = 0.0
    aliases: tuple[str, ...] = ()
    kind = "compare"

    def bound(self, holder_value: float) -> float:
        """The value the candidate is compared with: the holder's, loosened by the tolerance."""
        return holder_value - self.tolerance if ">" in self.op else holder_value + self.tolerance

    def title(self, alias: str) -> str:
        sign = "−" if ">" in self.op else "+"
        slack = f" {sign} {_num(self.tolerance)}" if self.tolerance else ""
        return f"{self.metric} {_OP_WORDS[self.op]} the {alias}'s{slack}"


@dataclass(frozen=True)
class MetricThreshold:
    name: str
    metric: str
    op: str
    value: float
    aliases: tuple[str, ...] = ()
    kind = "threshold"

    def title(self, alias: str) -> str:
        return f"{self.metric} {_OP_WORDS[self.op]} {_num(self.value)}"


@dataclass(frozen=True)
class RequiredTag:
    name: str
    tag: str
    value: str
    aliases: tuple[str, ...] = ()
    kind = "required_tag"

    def title(self, alias: str) -> str:
        return f"tag {self.tag} = {self.value}"


@dataclass(frozen=True)
class MaxDrift:
    name: str
    max: float
    features: tuple[str, ...] = ()
    window_hours: float = 24.0
    aliases: tuple[str, ...] = ()
    kind = "max_drift"

    def title(self, alias: str) -> str:
        which = ", ".join(self.features) if self.features else "every feature"
        return f"production drift ≤ {_num(self.max)} ({which})"


@dataclass(frozen=True)
class MinEvalSize:
    name: str
    key: str
    min: float
    aliases: tuple[str, ...] = ()
    kind = "min_eval_size"

    def title(self, alias: str) -> str:
        return f"evaluated on at least {_num(self.min)} ({self.key})"


Gate = MetricComparison | MetricThreshold | RequiredTag | MaxDrift | MinEvalSize


@dataclass(frozen=True)
class GatePolicy:
    """A model's gates, as read from its policy file."""

    model_name: str
    source: str  # the file it came from; "" when the model has none
    gates: tuple[Gate, ...] = ()
    description: str = ""

    def for_alias(self, alias: str) -> tuple[Gate, ...]:
        """The gates that guard `alias`."""
        return tuple(g for g in self.gates if not g.aliases or alias in g.aliases)

    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.gates)


@dataclass(frozen=True)
class GateReport:
    """Every gate of a policy checked for "move `alias` of `model_name` to `version`"."""

    model_name: str
    version: str
    alias: str
    holder_version: str | None  # the version that holds the alias now
    policy_source: str  # the policy file, or a sentence saying there is none
    results: tuple[GateResult, ...]

    @property
    def failing(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if r.failed)

    @property
    def all_passed(self) -> bool:
        """Nothing failed (a gate that could not be evaluated says why, and does not block)."""
        return not self.failing


class GatePolicyError(BackendError):
    """A gate policy file that cannot be read or does not follow the schema."""


# -- where the policies are ----------------------------------------------------------------


def default_gates_dir(paths: AppPaths) -> Path:
    """`<config dir>/gates`: where policies live when nothing else says."""
    return paths.config_dir / GATES_FOLDER


def gates_dir_for(
    paths: AppPaths,
    profile: Profile | None = None,
    workspace_kind: str = "",
    explicit: Path | None = None,
) -> Path:
    """The gates folder to use: `--gates DIR`, else the connection profile's, else the demo
    workspace's own (for the demo), else `<config dir>/gates`."""
    if explicit is not None:
        return explicit
    if profile is not None and isinstance(profile.gates_dir, str) and profile.gates_dir.strip():
        return Path(profile.gates_dir.strip()).expanduser()
    if workspace_kind == "demo":
        return paths.demo_dir / GATES_FOLDER
    return default_gates_dir(paths)


def policy_path(gates_dir: Path, model_name: str) -> Path:
    """`<gates dir>/<model name>.toml`; a path separator in the name becomes `_`."""
    safe = model_name.replace("/", "_").replace("\\", "_")
    return gates_dir / f"{safe}{POLICY_SUFFIX}"


def install_demo_policies(folder: Path) -> list[Path]:
    """Copy the policies shipped with the app (`mlops_desktop/resources/gates`) into
    `folder`, as the demo workspace's team would keep them. Returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    shipped = resources.files("mlops_desktop") / "resources" / GATES_FOLDER
    for item in shipped.iterdir():
        if item.name.endswith(POLICY_SUFFIX):
            target = folder / item.name
            with resources.as_file(item) as source:
                shutil.copyfile(source, target)
            written.append(target)
    return sorted(written)


# -- reading a policy --------------------------------------------------------------------------


def load_policy(gates_dir: Path | None, model_name: str) -> GatePolicy:
    """The model's policy from `<gates dir>/<model>.toml`; an empty policy when there is no
    such file (nothing to check). Raises `GatePolicyError` for a file that is not valid."""
    if gates_dir is None:
        return GatePolicy(model_name, "")
    path = policy_path(gates_dir, model_name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return GatePolicy(model_name, "")
    except OSError as error:
        raise GatePolicyError(f"The gate policy {path} cannot be read: {error}.") from error
    return parse_policy(text, model_name, str(path))


def parse_policy(text: str, model_name: str, source: str = "") -> GatePolicy:
    """Parse a policy file's text; `GatePolicyError` names the file and what is wrong."""
    where = source or f"the gate policy of {model_name}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise GatePolicyError(f"{where} is not valid TOML: {error}.") from None
    try:
        return _policy_from(data, model_name, source)
    except ValueError as error:
        raise GatePolicyError(f"{where}: {error}.") from None


def _policy_from(data: Mapping[str, Any], model_name: str, source: str) -> GatePolicy:
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ValueError(
            f"unknown section {unknown[0]!r} (the sections are {', '.join(_SECTIONS[:-1])})"
        )
    gates: list[Gate] = []
    for table in _tables(data, "compare", many=True):
        _only(table, "compare", {"metric", "op", "tolerance", "name", "aliases"})
        metric = _str(table, "metric", "compare")
        gates.append(
            MetricComparison(
                name=_name(table, f"compare:{metric}"),
                metric=metric,
                op=_op(table, "compare"),
                tolerance=_number(table, "tolerance", "compare", default=0.0),
                aliases=_aliases(table),
            )
        )
    for table in _tables(data, "threshold", many=True):
        _only(table, "threshold", {"metric", "op", "value", "name", "aliases"})
        metric = _str(table, "metric", "threshold")
        gates.append(
            MetricThreshold(
                name=_name(table, f"threshold:{metric}"),
                metric=metric,
                op=_op(table, "threshold"),
                value=_number(table, "value", "threshold"),
                aliases=_aliases(table),
            )
        )
    for table in _tables(data, "required_tags", many=False):
        for tag, value in table.items():
            if not isinstance(value, str):
                raise ValueError(f'required tag {tag!r} must be a string, like {tag} = "passed"')
            gates.append(RequiredTag(name=f"tag:{tag}", tag=tag, value=value))
    for table in _tables(data, "max_drift", many=False):
        _only(table, "max_drift", {"max", "features", "window_hours", "name", "aliases"})
        features = table.get("features", [])
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValueError("max_drift's features must be a list of feature names")
        gates.append(
            MaxDrift(
                name=_name(table, "drift"),
                max=_number(table, "max", "max_drift"),
                features=tuple(features),
                window_hours=_number(table, "window_hours", "max_drift", default=24.0),
                aliases=_aliases(table),
            )
        )
    for table in _tables(data, "min_eval_size", many=False):
        _only(table, "min_eval_size", {"key", "min", "name", "aliases"})
        gates.append(
            MinEvalSize(
                name=_name(table, "eval_size"),
                key=_str(table, "key", "min_eval_size"),
                min=_number(table, "min", "min_eval_size"),
                aliases=_aliases(table),
            )
        )
    names = [g.name for g in gates]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"two gates are named {name!r}: give one of them its own name")
    description = data.get("description", "")
    return GatePolicy(model_name, source, tuple(gates), str(description))


def _tables(data: Mapping[str, Any], section: str, *, many: bool) -> list[Mapping[str, Any]]:
    value = data.get(section)
    if value is None:
        return []
    if many and isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return list(value)
    if isinstance(value, dict):
        return [value]
    shape = f"[[{section}]] tables" if many else f"a [{section}] table"
    raise ValueError(f"{section} must be {shape}")


def _only(table: Mapping[str, Any], section: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(
            f"{section} has an unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _str(table: Mapping[str, Any], key: str, section: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'{section} needs {key} = "..."')
    return value.strip()


def _number(
    table: Mapping[str, Any], key: str, section: str, default: float | None = None
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{section} needs {key} = <a number>")
    return float(value)


def _op(table: Mapping[str, Any], section: str) -> str:
    op = table.get("op", ">=")
    if op not in _OPS:
        raise ValueError(f"{section}'s op {op!r} is not one of {', '.join(_OPS)}")
    return str(op)


def _name(table: Mapping[str, Any], default: str) -> str:
    name = table.get("name", default)
    if not isinstance(name, str) or not name.strip() or "=" in name:
        raise ValueError(f"the gate name {name!r} must be text without '='")
    return name.strip()


def _aliases(table: Mapping[str, Any]) -> tuple[str, ...]:
    aliases = table.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ValueError("aliases must be a list of alias names")
    return tuple(aliases)


# -- evaluating -------------------------------------------------------------------------------


class _Evidence:
    """The facts the gates read, each fetched once and only when a gate needs it."""

    def __init__(
        self,
        tracking: TrackingBackend,
        candidate: ModelVersion,
        alias: str,
        holder: ModelVersion | None,
        metrics: MetricsSource | None,
        now_s: float,
    ) -> None:
        self.tracking = tracking
        self.candidate = candidate
        self.alias = alias
        self.holder = holder
        self.metrics = metrics
        self.now_s = now_s
        self._runs: dict[str, Run | None] = {}

    def run_of(self, version: ModelVersion) -> Run | None:
        if not version.run_id:
            return None
        if version.run_id not in self._runs:
            try:
                self._runs[version.run_id] = self.tracking.get_run(version.run_id)
            except NotFound:
                self._runs[version.run_id] = None
        return self._runs[version.run_id]


def evaluate_gates(
    tracking: TrackingBackend,
    policy: GatePolicy,
    candidate: ModelVersion,
    alias: str,
    *,
    holder: ModelVersion | None = None,
    metrics: MetricsSource | None = None,
    now_s: float | None = None,
) -> GateReport:
    """Check every gate guarding `alias` for `candidate` against `holder` (the version that
    holds the alias now, None when none does). Reads runs and monitoring series."""
    evidence = _Evidence(
        tracking, candidate, alias, holder, metrics, time.time() if now_s is None else now_s
    )
    results = tuple(_evaluate(gate, evidence) for gate in policy.for_alias(alias))
    source = policy.source or "No gate policy file for this model: nothing is checked."
    return GateReport(
        model_name=candidate.model_name,
        version=candidate.version,
        alias=alias,
        holder_version=holder.version if holder is not None else None,
        policy_source=source,
        results=results,
    )


def _evaluate(gate: Gate, evidence: _Evidence) -> GateResult:
    if isinstance(gate, MetricComparison):
        outcome, sentence = _compare(gate, evidence)
    elif isinstance(gate, MetricThreshold):
        outcome, sentence = _threshold(gate, evidence)
    elif isinstance(gate, RequiredTag):
        outcome, sentence = _required_tag(gate, evidence)
    elif isinstance(gate, MaxDrift):
        outcome, sentence = _drift(gate, evidence)
    else:
        outcome, sentence = _eval_size(gate, evidence)
    return GateResult(gate.name, gate.kind, gate.title(evidence.alias), outcome, sentence)


Verdict = tuple[GateOutcome, str]


def _metric(evidence: _Evidence, version: ModelVersion, metric: str) -> tuple[float | None, str]:
    """The version's run's metric, and a phrase naming where it came from (or why none)."""
    if not version.run_id:
        return None, f"version {version.version} has no source run"
    run = evidence.run_of(version)
    if run is None:
        return None, f"the source run {_short(version.run_id)} of version {version.version} is gone"
    if metric not in run.metrics:
        return None, f"run {_short(run.run_id)} of version {version.version} has no metric {metric}"
    return run.metrics[metric], f"run {_short(run.run_id)}"


def _compare(gate: MetricComparison, evidence: _Evidence) -> Verdict:
    candidate = evidence.candidate
    value, where = _metric(evidence, candidate, gate.metric)
    if value is None:
        return GateOutcome.FAILED, f"{where[0].upper()}{where[1:]}."
    mine = f"Version {candidate.version} has {gate.metric} {_num(value)} ({where})"
    holder = evidence.holder
    if holder is None:
        return (
            GateOutcome.NOT_EVALUATED,
            f"{mine}; no version holds {evidence.alias} yet, so there is nothing to compare with.",
        )
    theirs, their_where = _metric(evidence, holder, gate.metric)
    if theirs is None:
        return (
            GateOutcome.NOT_EVALUATED,
            f"{mine}; {their_where} (it holds {evidence.alias}), so there is nothing to "
            "compare with.",
        )
    bound = gate.bound(theirs)
    slack = ""
    if gate.tolerance:
        sign = "−" if ">" in gate.op else "+"
        slack = f" {sign} {_num(gate.tolerance)} = {_num(bound)}"
    sentence = (
        f"{mine}; the {evidence.alias}, version {holder.version}, has {_num(theirs)} "
        f"({their_where}): {_num(value)} {{}} {_OP_WORDS[gate.op]} {_num(theirs)}{slack}."
    )
    if _OPS[gate.op](value, bound):
        return GateOutcome.PASSED, sentence.format("is")
    return GateOutcome.FAILED, sentence.format("is not")


def _threshold(gate: MetricThreshold, evidence: _Evidence) -> Verdict:
    candidate = evidence.candidate
    value, where = _metric(evidence, candidate, gate.metric)
    if value is None:
        return GateOutcome.FAILED, f"{where[0].upper()}{where[1:]}."
    verdict = "is" if _OPS[gate.op](value, gate.value) else "is not"
    sentence = (
        f"Version {candidate.version} has {gate.metric} {_num(value)} ({where}), which "
        f"{verdict} {_OP_WORDS[gate.op]} {_num(gate.value)}."
    )
    return (GateOutcome.PASSED if verdict == "is" else GateOutcome.FAILED), sentence


def _required_tag(gate: RequiredTag, evidence: _Evidence) -> Verdict:
    candidate = evidence.candidate
    found: tuple[str, str] | None = None
    if gate.tag in candidate.tags:
        found = (candidate.tags[gate.tag], "on the version")
    else:
        run = evidence.run_of(candidate)
        if run is not None and gate.tag in run.tags:
            found = (run.tags[gate.tag], f"on its run {_short(run.run_id)}")
    if found is None:
        run_part = f" nor its run {_short(candidate.run_id)}" if candidate.run_id else ""
        return (
            GateOutcome.FAILED,
            f"Neither version {candidate.version}{run_part} has a tag {gate.tag}.",
        )
    value, where = found
    if value == gate.value:
        return (
            GateOutcome.PASSED,
            f"Version {candidate.version} has {gate.tag} = {value} ({where}).",
        )
    return (
        GateOutcome.FAILED,
        f"Version {candidate.version} has {gate.tag} = {value} ({where}), not {gate.value}.",
    )


def _drift(gate: MaxDrift, evidence: _Evidence) -> Verdict:
    from mlops_desktop.services.monitoring import latest_value, window_end_s

    source = evidence.metrics
    model = evidence.candidate.model_name
    if source is None:
        return (
            GateOutcome.NOT_EVALUATED,
            "This workspace has no monitoring source, so production drift was not checked.",
        )
    try:
        names = [n for n in source.list_series(model) if n.startswith(_DRIFT_PREFIX)]
        if gate.features:
            names = [n for n in names if n[len(_DRIFT_PREFIX) :] in gate.features]
        if not names:
            return (
                GateOutcome.NOT_EVALUATED,
                f"The monitoring source {source.label} has no drift series for {model}"
                + (f" ({', '.join(gate.features)})" if gate.features else "")
                + ", so drift was not checked.",
            )
        end_s = window_end_s(source, model, evidence.now_s)
        start_s = end_s - gate.window_hours * 3600.0
        latest: list[tuple[float, str, str, float]] = []  # value, feature, unit, time
        for name in names:
            series = source.query_range(model, name, start_s, end_s)
            value = latest_value(series)
            if value is not None:
                stamp = float(series.timestamps_s[-1])
                latest.append((value, name[len(_DRIFT_PREFIX) :], series.unit, stamp))
    except BackendError as error:
        return GateOutcome.NOT_EVALUATED, f"Drift could not be read: {error}"
    if not latest:
        return (
            GateOutcome.NOT_EVALUATED,
            f"The monitoring source {source.label} has no drift sample for {model} in the "
            f"{_num(gate.window_hours)} hours up to {_utc(end_s)}, so drift was not checked.",
        )
    latest.sort(reverse=True)
    value, feature, unit, stamp = latest[0]
    unit_text = f" {unit}" if unit else ""
    place = f"latest sample {_utc(stamp)}, {source.label}"
    if value > gate.max:
        over = [f for v, f, _u, _t in latest if v > gate.max]
        others = len(latest) - len(over)
        rest = f"; {others} other feature(s) within it" if others else ""
        also = f" (also above: {', '.join(over[1:])})" if len(over) > 1 else ""
        return (
            GateOutcome.FAILED,
            f"Drift of {feature} is {_num(value)}{unit_text} ({place}), above the maximum "
            f"{_num(gate.max)}{also}{rest}.",
        )
    return (
        GateOutcome.PASSED,
        f"The largest drift is {_num(value)}{unit_text} on {feature} ({place}), within the "
        f"maximum {_num(gate.max)} over {len(latest)} feature(s).",
    )


def _eval_size(gate: MinEvalSize, evidence: _Evidence) -> Verdict:
    candidate = evidence.candidate
    run = evidence.run_of(candidate)
    found: tuple[str, str] | None = None
    if run is not None:
        for kind, values in (("metric", run.metrics), ("param", run.params), ("tag", run.tags)):
            if gate.key in values:
                found = (str(values[gate.key]), f"{kind} of run {_short(run.run_id)}")
                break
    if found is None and gate.key in candidate.tags:
        found = (candidate.tags[gate.key], "tag of the version")
    if found is None:
        return (
            GateOutcome.FAILED,
            f"Neither version {candidate.version} nor its run records {gate.key} "
            "(as a metric, param or tag).",
        )
    text, where = found
    try:
        size = float(text)
    except ValueError:
        return GateOutcome.FAILED, f"{gate.key} = {text!r} ({where}) is not a number."
    verdict = "at least" if size >= gate.min else "fewer than"
    sentence = f"{gate.key} = {_num(size)} ({where}): {verdict} the {_num(gate.min)} required."
    return (GateOutcome.PASSED if size >= gate.min else GateOutcome.FAILED), sentence


def _num(value: float) -> str:
    return f"{value:.6g}"


def _short(run_id: str) -> str:
    return run_id[:8]


def _utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
