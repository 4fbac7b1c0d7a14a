"""A model's audit report as one self-contained HTML page, for compliance reviews.

The page says whether the hash chain verifies (and every problem when it does not), where
each alias points now and who put it there, every alias period, every version with its source
run, and every audit event with its full hash, overrides marked. Times are UTC so that two
reviewers in different time zones read the same report.

The HTML sticks to what both a browser and Qt's `QTextDocument` render (tables, inline
colours, a small style sheet), so the UI layer prints the very same page to PDF
(`ui/report_pdf.py`). Pure: no Qt, no I/O but `write_html_report`.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_desktop import __version__
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.promotion import AuditEvent
from mlops_desktop.services.lineage import AliasPeriod, alias_periods
from mlops_desktop.services.registry import (
    VALIDATION_TAG,
    ModelOverview,
    load_model,
    visible_model_tags,
    visible_tags,
)
from mlops_desktop.services.tasks import TaskState

INTACT_COLOUR = "#2e9d5b"
BROKEN_COLOUR = "#d64545"
OVERRIDE_COLOUR = "#b26a00"
ACTION_COLOURS = {
    "requested": "#2f6fde",
    "approved": "#2e9d5b",
    "rejected": "#d64545",
    "applied": "#2e9d5b",
    "rolled_back": "#b26a00",
}
_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9pt; color: #1d2026; }
h1 { font-size: 16pt; margin-bottom: 2px; }
h2 { font-size: 12pt; margin-top: 14px; margin-bottom: 4px; }
p { margin-top: 2px; margin-bottom: 2px; }
table { font-size: 8pt; }
th { background-color: #e8ebf0; text-align: left; font-weight: bold; }
td, th { vertical-align: top; }
.muted { color: #5f6670; }
/* As tall as the text beside it: a row whose cells differ in line height can be split
   between two pages by QTextDocument. */
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt; }
.override { color: #b26a00; font-weight: bold; }
"""


@dataclass(frozen=True)
class ReportSource:
    """Where and when the report was made, printed in its header."""

    generated_ms: int
    generated_by: str  # the user who exported it
    workspace: str  # "prod", "Demo workspace"
    location: str  # the server URL or store path


def utc(ms: int | None) -> str:
    """ "2026-11-28 02:13:05 UTC", or a dash for an unknown time."""
    if ms is None:
        return "–"
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def is_override(event: AuditEvent) -> bool:
    """Whether `event` approved a promotion over a failing gate (its reasons are recorded)."""
    return bool(event.overrides)


def override_text(event: AuditEvent) -> str:
    """ "Override of drift: reviewed by hand; ..." for an overriding event, else ""."""
    return "; ".join(f"Override of {gate}: {reason}" for gate, reason in event.overrides.items())


def describe_event(event: AuditEvent) -> str:
    """The event as a sentence: "bob moved champion to version 3"."""
    version = f"version {event.version}" if event.version else "no version"
    alias = event.alias or "no alias"
    sentences = {
        "requested": f"{event.actor} asked to make {version} {alias}",
        "approved": f"{event.actor} approved {version} as {alias}",
        "rejected": f"{event.actor} rejected {version} as {alias}",
        "applied": (
            f"{event.actor} moved {alias} to {version}"
            if event.version
            else f"{event.actor} removed {alias}"
        ),
        "rolled_back": f"{event.actor} rolled {alias} back to {version}",
    }
    return sentences.get(event.action, f"{event.actor} {event.action} {version} {alias}")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[int]) -> str:
    """A bordered table; cells are already-escaped HTML; widths in percent."""
    head = "".join(
        f'<th width="{width}%">{_e(header)}</th>'
        for header, width in zip(headers, widths, strict=True)
    )
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        '<table border="1" cellspacing="0" cellpadding="4" width="100%"'
        ' style="border-collapse: collapse; border-color: #c9ced6;">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def chain_summary(overview: ModelOverview) -> tuple[str, str, list[str]]:
    """(headline, colour, problems) of the chain's integrity, as the report states it."""
    chain = overview.audit
    if not chain.intact:
        count = len(chain.problems)
        return (
            f"Chain broken: {count} problem{'s' if count != 1 else ''} found",
            BROKEN_COLOUR,
            list(chain.problems),
        )
    if not chain.events:
        return "No audit events recorded for this model", "#7a808a", []
    return f"Chain intact: {len(chain.events)} events verified", INTACT_COLOUR, []


def _header(overview: ModelOverview, source: ReportSource) -> str:
    model = overview.model
    tags = visible_model_tags(model)
    tag_text = ", ".join(f"{k}={v}" for k, v in tags.items()) or "none"
    return (
        f"<h1>Audit report: {_e(model.name)}</h1>"
        f'<p class="muted">Generated {_e(utc(source.generated_ms))} by '
        f"{_e(source.generated_by or 'unknown')} from {_e(source.workspace)} "
        f"({_e(source.location)}) with MLOps Desktop {_e(__version__)}.</p>"
        f"<p>{_e(model.description or 'No description.')}</p>"
        f'<p class="muted">Model tags: {_e(tag_text)}</p>'
    )


def _chain_section(overview: ModelOverview) -> str:
    headline, colour, problems = chain_summary(overview)
    parts = [
        "<h2>Integrity of the audit chain</h2>",
        f'<p style="color: {colour}; font-weight: bold;">{_e(headline)}</p>',
    ]
    if problems:
        parts.append("<ul>" + "".join(f"<li>{_e(p)}</li>" for p in problems) + "</ul>")
    events = overview.audit.events
    if events:
        newest = events[-1]
        parts.append(
            f"<p>Newest event: number {newest.seq}, recorded {_e(utc(newest.time_ms))}, hash "
            f'<span class="mono">{_e(newest.hash)}</span>.</p>'
            '<p class="muted">Each event holds the SHA-256 of the one before it, so an edited, '
            "inserted or removed event is detected. Removing the newest events leaves a shorter "
            "chain that still verifies: compare the newest hash above with an earlier report's.</p>"
        )
    for mismatch in overview.alias_mismatches:
        parts.append(f'<p style="color: {OVERRIDE_COLOUR};">{_e(mismatch)}</p>')
    return "".join(parts)


def _overrides_section(overview: ModelOverview) -> str:
    """Every approval that overrode a failing gate, with the approver's reason: what a
    compliance reviewer reads first."""
    rows = [
        (
            _e(utc(event.time_ms)),
            _e(event.actor),
            f"version {_e(event.version)} to {_e(event.alias)}",
            _e(gate),
            f'<span class="override">{_e(reason)}</span>',
        )
        for event in overview.audit.events
        for gate, reason in event.overrides.items()
    ]
    if not rows:
        return "<h2>Gate overrides</h2><p>No failing gate was overridden.</p>"
    return f"<h2>Gate overrides ({len(rows)})</h2>" + _table(
        ("When", "Approver", "Promotion", "Gate", "Reason"), rows, (18, 12, 20, 14, 36)
    )


def _aliases_section(overview: ModelOverview, periods: list[AliasPeriod]) -> str:
    parts = ["<h2>Aliases now</h2>"]
    if not overview.aliases:
        parts.append("<p>The model has no alias.</p>")
    rows = []
    for alias, version in overview.aliases:
        since = next(
            (
                p
                for p in reversed(periods)
                if p.alias == alias and p.current and p.version == version
            ),
            None,
        )
        how = (
            f"{_e(since.action.replace('_', ' '))} by {_e(since.actor)}, {_e(utc(since.start_ms))}"
            if since is not None
            else "not recorded in the audit chain"
        )
        rows.append((f"<b>{_e(alias)}</b>", f"version {_e(version)}", how))
    if rows:
        parts.append(_table(("Alias", "Version", "Since"), rows, (20, 20, 60)))
    parts.append("<h2>Alias history</h2>")
    if not periods:
        parts.append("<p>The audit chain records no alias move.</p>")
    else:
        parts.append(
            _table(
                ("Alias", "Version", "From", "Until", "Moved by", "Comment"),
                (
                    (
                        _e(p.alias),
                        _e(p.version),
                        _e(utc(p.start_ms)),
                        "still holds" if p.end_ms is None else _e(utc(p.end_ms)),
                        f"{_e(p.actor)} ({_e(p.action.replace('_', ' '))})",
                        _e(p.comment),
                    )
                    for p in periods
                ),
                (11, 9, 16, 16, 17, 31),
            )
        )
    return "".join(parts)


def _versions_section(overview: ModelOverview) -> str:
    rows = []
    for version in overview.versions:
        tags = visible_tags(version)
        rows.append(
            (
                f"<b>{_e(version.version)}</b>",
                _e(", ".join(version.aliases) or "–"),
                _e(version.status),
                _e(tags.get(VALIDATION_TAG, "–")),
                f'<span class="mono">{_e(version.run_id)}</span>',
                _e(version.user or "–"),
                _e(utc(version.creation_time_ms)),
            )
        )
    if not rows:
        return "<h2>Versions</h2><p>The model has no version.</p>"
    return "<h2>Versions</h2>" + _table(
        ("Version", "Aliases", "Status", "Validation", "Source run", "Author", "Created"),
        rows,
        (9, 11, 8, 11, 33, 11, 17),
    )


def _events_section(overview: ModelOverview, source: ReportSource) -> str:
    events = overview.audit.events
    if not events:
        return "<h2>Audit events</h2><p>No event has been recorded for this model.</p>"
    rows = []
    for event in events:
        colour = ACTION_COLOURS.get(event.action, "#1d2026")
        action = f'<span style="color: {colour};">{_e(event.action.replace("_", " "))}</span>'
        comment = _e(event.comment)
        if is_override(event):
            action += ' <span class="override">OVERRIDE</span>'
            reasons = _e(override_text(event))
            comment = (
                f'{comment}<br><span class="override">{reasons}</span>'
                if comment
                else (f'<span class="override">{reasons}</span>')
            )
        rows.append(
            (
                _e(event.seq),
                _e(utc(event.time_ms)),
                _e(event.actor),
                action,
                _e(event.version or "–"),
                _e(event.alias or "–"),
                comment,
                f'<span class="mono">{_e(event.hash[:12])}</span>',
            )
        )
    table = _table(
        ("#", "Time", "Actor", "Action", "Version", "Alias", "Comment", "Hash"),
        rows,
        (4, 14, 11, 11, 9, 11, 27, 13),
    )
    hashes = _table(
        ("#", "Hash, and the previous event's hash it records"),
        (
            (
                _e(e.seq),
                f'<span class="mono">{_e(e.hash)}</span><br>'
                f'<span class="mono muted">{_e(e.prev_hash)}</span>',
            )
            for e in events
        ),
        (6, 94),
    )
    return (
        f"<h2>Audit events ({len(events)})</h2>{table}"
        "<h2>Full hashes</h2>"
        '<p class="muted">Recompute any event\'s hash (SHA-256 of its canonical JSON) to check '
        "it independently of this application.</p>"
        f"{hashes}"
    )


def audit_report_html(overview: ModelOverview, source: ReportSource) -> str:
    """The whole report for one model as a standalone HTML document."""
    periods = alias_periods(overview.audit.events)
    body = "".join(
        (
            _header(overview, source),
            _chain_section(overview),
            _overrides_section(overview),
            _aliases_section(overview, periods),
            _versions_section(overview),
            _events_section(overview, source),
        )
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Audit report: {_e(overview.name)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def load_report_html(
    tracking: TrackingBackend, model_name: str, source: ReportSource, state: TaskState
) -> tuple[ModelOverview, str]:
    """Read the model fresh from the backend and build its report: what the server says now."""
    state.progress(-1, f"Reading {model_name}")
    overview = load_model(tracking, model_name, state)
    state.check()
    return overview, audit_report_html(overview, source)


def write_html_report(path: Path, report: str) -> Path:
    """Write the report atomically (a temp file renamed over `path`): never half a report."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(report)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def export_html_report(
    tracking: TrackingBackend, model_name: str, source: ReportSource, path: Path, state: TaskState
) -> Path:
    """Read the model, build its report and write it to `path` (a worker task)."""
    _, report = load_report_html(tracking, model_name, source, state)
    state.progress(-1, f"Writing {Path(path).name}")
    return write_html_report(path, report)
