"""services.gates: policy files read strictly, each gate kind evaluated with its evidence."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from mlops_desktop.backends.errors import NotFound
from mlops_desktop.domain.connections import Profile, ProfileKind
from mlops_desktop.domain.monitoring import Series
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.domain.tracking import Run, RunStatus
from mlops_desktop.services import gates
from mlops_desktop.services.gates import GateOutcome, GatePolicyError
from mlops_desktop.services.paths import AppPaths

MODEL = "churn"
CANDIDATE_RUN = "cand0001aaaa"
HOLDER_RUN = "hold0002bbbb"
FULL_POLICY = """
description = "every kind"

[[compare]]
metric = "val_auc"
op = ">="
tolerance = 0.005

[[compare]]
name = "latency"
metric = "latency_ms"
op = "<="
tolerance = 1.0
aliases = ["champion"]

[[threshold]]
metric = "val_auc"
op = ">="
value = 0.9

[required_tags]
validation_status = "passed"

[max_drift]
max = 0.25

[min_eval_size]
key = "eval_rows"
min = 5000
"""


class Runs:
    """The one TrackingBackend method gates read: get_run."""

    label = "fake"

    def __init__(self, *runs: Run) -> None:
        self.runs = {run.run_id: run for run in runs}

    def get_run(self, run_id: str) -> Run:
        if run_id not in self.runs:
            raise NotFound(f"No run {run_id}.")
        return self.runs[run_id]


class Monitoring:
    """A MetricsSource with fixed drift series ending at t=10,000 s."""

    label = "test monitoring"

    def __init__(self, latest: dict[str, float]) -> None:
        self.latest = latest

    def list_series(self, model_name: str) -> list[str]:
        return ["throughput", *(f"drift.{feature}" for feature in self.latest)]

    def query_range(self, model_name: str, name: str, start_s: float, end_s: float) -> Series:
        stamps = np.array([t for t in (9_000.0, 10_000.0) if start_s <= t <= end_s])
        value = self.latest[name.removeprefix("drift.")]
        return Series(name, "psi", stamps, np.full(len(stamps), value))


def _run(run_id: str, metrics: dict[str, float], **kwargs: dict[str, str]) -> Run:
    return Run(
        run_id=run_id,
        experiment_id="1",
        name=run_id,
        status=RunStatus.FINISHED,
        start_time_ms=1,
        end_time_ms=2,
        metrics=metrics,
        params=kwargs.get("params", {}),
        tags=kwargs.get("tags", {}),
    )


def _version(number: str, run_id: str, **tags: str) -> ModelVersion:
    return ModelVersion(MODEL, number, run_id, "s", tags=tags)


def _evaluate(
    policy_text: str,
    candidate_metrics: dict[str, float],
    holder_metrics: dict[str, float] | None = None,
    *,
    version_tags: dict[str, str] | None = None,
    run_tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    drift: dict[str, float] | None = None,
    alias: str = "champion",
) -> dict[str, gates.GateResult]:
    runs = [_run(CANDIDATE_RUN, candidate_metrics, params=params or {}, tags=run_tags or {})]
    holder = None
    if holder_metrics is not None:
        runs.append(_run(HOLDER_RUN, holder_metrics))
        holder = _version("2", HOLDER_RUN)
    report = gates.evaluate_gates(
        Runs(*runs),  # type: ignore[arg-type]
        gates.parse_policy(policy_text, MODEL, "gates/churn.toml"),
        _version("4", CANDIDATE_RUN, **(version_tags or {})),
        alias,
        holder=holder,
        metrics=Monitoring(drift) if drift is not None else None,  # type: ignore[arg-type]
        now_s=10_500.0,
    )
    assert report.holder_version == ("2" if holder else None)
    return {result.name: result for result in report.results}


# -- reading policies ----------------------------------------------------------------------------


def test_a_full_policy_names_every_gate() -> None:
    policy = gates.parse_policy(FULL_POLICY, MODEL, "p.toml")
    assert policy.names() == (
        "compare:val_auc",
        "latency",
        "threshold:val_auc",
        "tag:validation_status",
        "drift",
        "eval_size",
    )
    assert policy.description == "every kind"
    assert "latency" not in [g.name for g in policy.for_alias("challenger")]
    assert "latency" in [g.name for g in policy.for_alias("champion")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[compare]]\nmetric = 'auc'\ntolerence = 0.1\n", "unknown key 'tolerence'"),
        ("[[compare]]\nop = '>='\n", 'compare needs metric = "..."'),
        ("[[threshold]]\nmetric = 'auc'\nop = '=>'\nvalue = 1\n", "op '=>' is not one of"),
        ("[[threshold]]\nmetric = 'auc'\n", "threshold needs value = <a number>"),
        ("[gate]\nx = 1\n", "unknown section 'gate'"),
        ("[required_tags]\nvalidated = true\n", "must be a string"),
        ("[[compare]]\nmetric = 'a'\n[[compare]]\nmetric = 'a'\n", "two gates are named"),
        ("[max_drift]\nmax = 'high'\n", "max_drift needs max = <a number>"),
        ("[[compare]]\nmetric = 'a'\nname = 'x=y'\n", "without '='"),
        ("[[compare]\nmetric = 'a'\n", "is not valid TOML"),
    ],
)
def test_a_policy_mistake_is_an_error_that_names_the_file(text: str, words: str) -> None:
    with pytest.raises(GatePolicyError, match=r"^gates/churn\.toml") as caught:
        gates.parse_policy(text, MODEL, "gates/churn.toml")
    assert words in str(caught.value)


def test_no_policy_file_means_nothing_to_check(tmp_path: Path) -> None:
    policy = gates.load_policy(tmp_path, MODEL)
    assert policy.gates == () and policy.source == ""
    report = gates.evaluate_gates(
        Runs(),  # type: ignore[arg-type]
        policy,
        _version("4", CANDIDATE_RUN),
        "champion",
    )
    assert report.results == () and report.all_passed
    assert "No gate policy" in report.policy_source
    assert gates.load_policy(None, MODEL).gates == ()


def test_policy_files_are_found_by_model_name(tmp_path: Path) -> None:
    (tmp_path / "team_churn.toml").write_text("[required_tags]\nok = 'yes'\n")
    policy = gates.load_policy(tmp_path, "team/churn")
    assert policy.names() == ("tag:ok",)
    assert policy.source == str(tmp_path / "team_churn.toml")


def test_where_the_gates_folder_is(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    profile = Profile("id", "prod", ProfileKind.MLFLOW, gates_dir="~/team/gates")
    explicit = tmp_path / "mine"
    assert gates.gates_dir_for(paths, profile, "mlflow", explicit) == explicit
    assert gates.gates_dir_for(paths, profile, "mlflow") == Path("~/team/gates").expanduser()
    plain = Profile("id", "dev", ProfileKind.MLFLOW)
    assert gates.gates_dir_for(paths, plain, "mlflow") == tmp_path / "config" / "gates"
    assert gates.gates_dir_for(paths, None, "demo") == tmp_path / "data" / "demo" / "gates"


def test_the_shipped_demo_policy_installs_and_parses(tmp_path: Path) -> None:
    (written,) = gates.install_demo_policies(tmp_path / "gates")
    assert written.name == "churn-classifier.toml"
    policy = gates.load_policy(tmp_path / "gates", "churn-classifier")
    kinds = {gate.kind for gate in policy.gates}
    assert kinds == {"compare", "threshold", "required_tag", "max_drift"}
    tomllib.loads(written.read_text())  # plain TOML a team can edit


# -- evaluating ----------------------------------------------------------------------------------


def test_compare_uses_the_holder_and_the_tolerance() -> None:
    results = _evaluate(FULL_POLICY, {"val_auc": 0.930}, {"val_auc": 0.934})
    result = results["compare:val_auc"]
    assert result.outcome is GateOutcome.PASSED  # 0.930 >= 0.934 - 0.005
    for fact in ("0.93 ", "0.934", "version 2", "run cand0001", "run hold0002", "0.929"):
        assert fact in result.evidence
    assert result.title == "val_auc ≥ the champion's − 0.005"

    failed = _evaluate(FULL_POLICY, {"val_auc": 0.920}, {"val_auc": 0.934})["compare:val_auc"]
    assert failed.outcome is GateOutcome.FAILED and "is not ≥" in failed.evidence

    lower_is_better = _evaluate(
        FULL_POLICY, {"val_auc": 1, "latency_ms": 6.5}, {"val_auc": 1, "latency_ms": 5.0}
    )["latency"]
    assert lower_is_better.outcome is GateOutcome.FAILED  # 6.5 > 5.0 + 1.0


def test_compare_without_a_holder_or_its_metric_is_not_evaluated() -> None:
    alone = _evaluate(FULL_POLICY, {"val_auc": 0.93})["compare:val_auc"]
    assert alone.outcome is GateOutcome.NOT_EVALUATED
    assert "no version holds champion yet" in alone.evidence
    blind = _evaluate(FULL_POLICY, {"val_auc": 0.93}, {"loss": 1.0})["compare:val_auc"]
    assert blind.outcome is GateOutcome.NOT_EVALUATED
    assert "run hold0002 of version 2 has no metric val_auc" in blind.evidence


def test_a_candidate_without_the_metric_fails() -> None:
    result = _evaluate(FULL_POLICY, {"loss": 1.0}, {"val_auc": 0.9})["compare:val_auc"]
    assert result.outcome is GateOutcome.FAILED
    assert result.evidence == "Run cand0001 of version 4 has no metric val_auc."


def test_threshold() -> None:
    assert _evaluate(FULL_POLICY, {"val_auc": 0.95})["threshold:val_auc"].passed
    low = _evaluate(FULL_POLICY, {"val_auc": 0.85})["threshold:val_auc"]
    assert low.failed and low.evidence.endswith("which is not ≥ 0.9.")


def test_required_tag_on_the_version_or_its_run() -> None:
    on_version = _evaluate(FULL_POLICY, {}, version_tags={"validation_status": "passed"})
    assert on_version["tag:validation_status"].evidence.endswith("(on the version).")
    on_run = _evaluate(FULL_POLICY, {}, run_tags={"validation_status": "passed"})
    assert on_run["tag:validation_status"].passed
    assert "on its run cand0001" in on_run["tag:validation_status"].evidence
    wrong = _evaluate(FULL_POLICY, {}, version_tags={"validation_status": "failed"})
    assert wrong["tag:validation_status"].failed
    assert "failed (on the version), not passed" in wrong["tag:validation_status"].evidence
    missing = _evaluate(FULL_POLICY, {})["tag:validation_status"]
    assert missing.failed and "has a tag validation_status" in missing.evidence


def test_drift_reads_the_latest_sample_of_each_feature() -> None:
    calm = _evaluate(FULL_POLICY, {}, drift={"age": 0.05, "income": 0.12})["drift"]
    assert calm.passed
    assert "0.12 psi on income" in calm.evidence and "test monitoring" in calm.evidence
    hot = _evaluate(FULL_POLICY, {}, drift={"age": 0.3, "income": 0.4})["drift"]
    assert hot.failed
    assert hot.evidence.startswith("Drift of income is 0.4 psi")
    assert "(also above: age)" in hot.evidence


def test_drift_without_a_source_or_series_is_not_evaluated_with_the_reason() -> None:
    no_source = _evaluate(FULL_POLICY, {})["drift"]
    assert no_source.outcome is GateOutcome.NOT_EVALUATED
    assert "no monitoring source" in no_source.evidence
    only_some = FULL_POLICY.replace("max = 0.25", "max = 0.25\nfeatures = ['tenure']")
    no_series = _evaluate(only_some, {}, drift={"age": 0.1})["drift"]
    assert no_series.outcome is GateOutcome.NOT_EVALUATED
    assert "has no drift series for churn (tenure)" in no_series.evidence
    stale = FULL_POLICY.replace("max = 0.25", "max = 0.25\nwindow_hours = 0.01")
    old = _evaluate(stale, {}, drift={"age": 0.1})["drift"]
    assert old.outcome is GateOutcome.NOT_EVALUATED and "no drift sample" in old.evidence


def test_min_eval_size_from_a_metric_a_param_or_a_tag() -> None:
    as_metric = _evaluate(FULL_POLICY, {"eval_rows": 12000.0})["eval_size"]
    assert as_metric.passed and "eval_rows = 12000 (metric of run cand0001)" in as_metric.evidence
    as_param = _evaluate(FULL_POLICY, {}, params={"eval_rows": "3000"})["eval_size"]
    assert as_param.failed and "fewer than the 5000 required" in as_param.evidence
    as_tag = _evaluate(FULL_POLICY, {}, version_tags={"eval_rows": "6000"})["eval_size"]
    assert as_tag.passed and "tag of the version" in as_tag.evidence
    missing = _evaluate(FULL_POLICY, {})["eval_size"]
    assert missing.failed and "records eval_rows" in missing.evidence
    garbage = _evaluate(FULL_POLICY, {}, params={"eval_rows": "lots"})["eval_size"]
    assert garbage.failed and "is not a number" in garbage.evidence


def test_a_report_says_which_gates_fail() -> None:
    policy = gates.parse_policy(FULL_POLICY, MODEL)
    runs = Runs(_run(CANDIDATE_RUN, {"val_auc": 0.8, "latency_ms": 5.0}), _run(HOLDER_RUN, {}))
    report = gates.evaluate_gates(
        runs,  # type: ignore[arg-type]
        policy,
        _version("4", CANDIDATE_RUN, validation_status="passed", eval_rows="9000"),
        "challenger",
        holder=_version("2", HOLDER_RUN),
    )
    assert [r.name for r in report.failing] == ["threshold:val_auc"]
    assert not report.all_passed
    outcomes = {r.name: r.outcome for r in report.results}
    assert "latency" not in outcomes  # it guards champion only
    assert outcomes["compare:val_auc"] is GateOutcome.NOT_EVALUATED  # the holder lacks it
    assert outcomes["drift"] is GateOutcome.NOT_EVALUATED


def test_a_demo_seeded_before_gates_gets_its_policies_when_opened(tmp_path, demo_root) -> None:
    """Users who seeded the demo with an older version still see the demo's gates."""
    import shutil

    from mlops_desktop.services.gates import GATES_FOLDER
    from mlops_desktop.services.paths import AppPaths
    from mlops_desktop.services.tasks import TaskState
    from mlops_desktop.services.workspace import open_demo_workspace

    paths = AppPaths(
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        log_dir=tmp_path / "log",
    )
    shutil.copytree(demo_root, paths.demo_dir)
    shutil.rmtree(paths.demo_dir / GATES_FOLDER)
    open_demo_workspace(paths, TaskState()).close()
    assert (paths.demo_dir / GATES_FOLDER / "churn-classifier.toml").is_file()
