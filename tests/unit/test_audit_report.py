"""services.audit_report, services.lineage and services.version_diff: pure, no Qt, no server."""

from __future__ import annotations

import html
import re

from mlops_desktop.domain.promotion import AuditEvent, PromotionRequest, PromotionState
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import Run, RunStatus
from mlops_desktop.services import audit, promotion
from mlops_desktop.services.audit_report import (
    ReportSource,
    audit_report_html,
    describe_event,
    is_override,
    utc,
    write_html_report,
)
from mlops_desktop.services.lineage import alias_periods, model_lineage
from mlops_desktop.services.registry import overview_of
from mlops_desktop.services.version_diff import MISSING, version_diff

MODEL = "churn-classifier"
DAY = 86_400_000
SOURCE = ReportSource(
    generated_ms=40 * DAY, generated_by="auditor", workspace="prod", location="https://ml.example"
)


def _chain(script: list[tuple[int, str, str, str, str, str]]) -> list[AuditEvent]:
    """The events of `script`; the approval saying "seasonal" overrides the drift gate."""
    events: list[AuditEvent] = []
    for time_ms, actor, action, version, alias, comment in script:
        events.append(
            audit.append_event(
                events[-1] if events else None,
                time_ms=time_ms,
                actor=actor,
                action=action,
                model_name=MODEL,
                version=version,
                alias=alias,
                comment=comment,
                **({"details": OVERRIDE} if "seasonal" in comment else {}),
            )
        )
    return events


OVERRIDE = {"override.drift": "reviewed the drift by hand"}
SCRIPT = [
    (1 * DAY, "alice", "requested", "1", "champion", "first <candidate>"),
    (2 * DAY, "bob", "approved", "1", "champion", "looks good"),
    (2 * DAY + 1, "bob", "applied", "1", "champion", ""),
    (5 * DAY, "alice", "requested", "2", "champion", "better"),
    (6 * DAY, "carol", "approved", "2", "champion", "drift is seasonal"),
    (6 * DAY + 1, "carol", "applied", "2", "champion", ""),
    (8 * DAY, "runner", "applied", "3", "challenger", "retrained"),
    (9 * DAY, "bob", "applied", "3", "champion", ""),
    (10 * DAY, "dave", "rolled_back", "2", "champion", "INC-1: back to 2"),
]


def _overview(events: list[AuditEvent], versions: list[ModelVersion] | None = None):
    tags = {audit.audit_tag_key(e.seq): audit.event_to_json(e) for e in events}
    model = RegisteredModel(
        name=MODEL,
        description="Predicts churn & more",
        tags={"team": "growth-ml", **tags},
        aliases={"champion": "2", "challenger": "3"},
    )
    versions = versions or [
        ModelVersion(MODEL, str(n), run_id=f"run{n}" * 4, source="s", creation_time_ms=n * DAY)
        for n in (1, 2, 3)
    ]
    return overview_of(model, versions)


def test_the_report_lists_every_event_with_its_full_hash_and_the_chain_status():
    events = _chain(SCRIPT)
    report = audit_report_html(_overview(events), SOURCE)
    assert report.startswith("<!DOCTYPE html>")
    assert "Chain intact: 9 events verified" in report
    for event in events:
        assert event.hash in report
        assert utc(event.time_ms) in report
    assert report.count('class="mono muted"') == len(events)  # every previous hash
    assert "INC-1: back to 2" in report
    assert "Generated " + utc(SOURCE.generated_ms) + " by auditor from prod" in report


def test_the_report_escapes_what_users_typed():
    report = audit_report_html(_overview(_chain(SCRIPT)), SOURCE)
    assert "first <candidate>" not in report
    assert html.escape("first <candidate>") in report
    assert "Predicts churn &amp; more" in report


def test_the_report_marks_overrides_and_the_aliases_now():
    report = audit_report_html(_overview(_chain(SCRIPT)), SOURCE)
    assert report.count(">OVERRIDE<") == 1
    assert "Override of drift: reviewed the drift by hand" in report
    overrides = report[report.index("Gate overrides (1)") : report.index("Aliases now")]
    assert "carol" in overrides and "reviewed the drift by hand" in overrides
    now = report[report.index("Aliases now") : report.index("Alias history")]
    assert re.search(r"champion.*version 2.*rolled back by dave", now)
    assert re.search(r"challenger.*version 3.*applied by runner", now)


def test_a_broken_chain_is_reported_with_each_problem():
    events = _chain(SCRIPT)
    tampered = [
        e if e.seq != 4 else AuditEvent(**{**e.__dict__, "actor": "mallory"}) for e in events
    ]
    del tampered[6]  # event 7 removed
    report = audit_report_html(_overview(tampered), SOURCE)
    assert "Chain broken: 2 problems found" in report
    assert "Event 4 (mallory" in report
    assert "Event 7 is missing" in report


def test_an_overview_without_events_still_makes_a_report():
    report = audit_report_html(_overview([]), SOURCE)
    assert "No audit events recorded for this model" in report
    assert "The audit chain records no alias move." in report
    assert "No failing gate was overridden." in report


def test_the_html_file_is_written_whole(tmp_path):
    target = write_html_report(tmp_path / "sub" / "report.html", "<html>x</html>")
    assert target.read_text(encoding="utf-8") == "<html>x</html>"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_events_read_as_sentences():
    events = _chain(SCRIPT)
    assert describe_event(events[0]) == "alice asked to make version 1 champion"
    assert describe_event(events[2]) == "bob moved champion to version 1"
    assert describe_event(events[8]) == "dave rolled champion back to version 2"
    assert is_override(events[4]) and not is_override(events[1])


def test_alias_periods_follow_applies_and_rollbacks():
    periods = alias_periods(_chain(SCRIPT))
    champion = [(p.version, p.start_ms, p.end_ms) for p in periods if p.alias == "champion"]
    assert champion == [
        ("1", 2 * DAY + 1, 6 * DAY + 1),
        ("2", 6 * DAY + 1, 9 * DAY),
        ("3", 9 * DAY, 10 * DAY),
        ("2", 10 * DAY, None),
    ]
    assert [p.alias for p in periods][-1] == "challenger", "champion first, then challenger"


def test_an_alias_removed_ends_its_period_without_a_new_one():
    events = _chain([*SCRIPT[:3], (3 * DAY, "bob", "applied", "", "champion", "retired")])
    (period,) = alias_periods(events)
    assert period.end_ms == 3 * DAY


def test_lineage_puts_each_version_with_its_run_periods_and_requests():
    request = PromotionRequest(
        "abc123", MODEL, "2", "champion", "alice", "better", PromotionState.APPLIED, 5 * DAY
    )
    versions = [
        ModelVersion(
            MODEL,
            str(n),
            run_id=f"run{n}",
            source="s",
            tags={promotion.request_tag_key("abc123"): promotion.request_tag_value(request)}
            if n == 2
            else {},
        )
        for n in (1, 2, 3)
    ]
    lineage = {
        entry.version.version: entry for entry in model_lineage(_overview(_chain(SCRIPT), versions))
    }
    assert lineage["2"].run_id == "run2"
    assert [p.alias for p in lineage["2"].periods] == ["champion", "champion"]
    assert [r.request_id for r in lineage["2"].requests] == ["abc123"]
    assert [p.alias for p in lineage["3"].periods] == ["challenger", "champion"]


def _run(run_id: str, metrics: dict[str, float], params: dict[str, str]) -> Run:
    return Run(run_id, "0", run_id, RunStatus.FINISHED, 0, 1, metrics=metrics, params=params)


def test_the_version_diff_highlights_what_differs():
    candidate = ModelVersion(
        MODEL,
        "4",
        "r4",
        "s",
        tags={"validation_status": "passed", "mlops.promotion.request.x": "{}"},
    )
    holder = ModelVersion(
        MODEL, "2", "r2", "s", tags={"validation_status": "passed", "incident": "INC-1"}
    )
    diff = version_diff(
        candidate,
        _run("r4", {"val_auc": 0.93491234, "loss": 0.2}, {"lr": "0.1", "depth": "6"}),
        holder,
        _run("r2", {"val_auc": 0.91, "loss": 0.2}, {"lr": "0.1"}),
        "champion",
    )
    rows = {(r.section, r.key): r for r in diff.rows}
    assert rows[("metric", "val_auc")].candidate == "0.934912"
    assert rows[("metric", "val_auc")].differs
    assert not rows[("metric", "loss")].differs
    assert rows[("param", "depth")].holder == MISSING and rows[("param", "depth")].differs
    assert not rows[("param", "lr")].differs
    assert rows[("tag", "incident")].candidate == MISSING
    assert ("tag", "mlops.promotion.request.x") not in rows, "bookkeeping tags stay out"
    assert [r.section for r in diff.rows] == sorted(
        [r.section for r in diff.rows], key=["metric", "param", "tag"].index
    )


def test_without_a_holder_nothing_differs():
    candidate = ModelVersion(MODEL, "1", "r1", "s")
    diff = version_diff(candidate, _run("r1", {"val_auc": 0.9}, {}), None, None, "champion")
    assert diff.holder is None
    assert [(r.key, r.holder, r.differs) for r in diff.rows] == [("val_auc", MISSING, False)]
