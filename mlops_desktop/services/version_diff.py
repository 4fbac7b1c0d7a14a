"""The diff an approver reads: a candidate version against the version that holds the alias now.

Params and metrics come from each version's source run, tags from the versions themselves
(without the app's bookkeeping). Every key either side has is one row; `differs` marks the
rows whose values are not the same, so the approval page can highlight them. A plain
two-column diff on purpose: the compare issue brings the richer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlops_desktop.backends.errors import NotFound
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.domain.tracking import Run
from mlops_desktop.services.registry import visible_tags
from mlops_desktop.services.tasks import TaskState

SECTIONS = ("metric", "param", "tag")
MISSING = "–"


@dataclass(frozen=True)
class DiffRow:
    section: str  # "metric", "param" or "tag"
    key: str
    candidate: str  # MISSING when the candidate lacks the key
    holder: str  # MISSING when the holder lacks it (or there is no holder)
    differs: bool


@dataclass(frozen=True)
class VersionDiff:
    candidate: ModelVersion
    holder: ModelVersion | None  # None when no version holds the alias yet
    alias: str
    rows: tuple[DiffRow, ...]  # metrics, params, tags; keys alphabetical in each
    #: One sentence per run that could not be read (deleted, no permission); rows lack its side.
    problems: tuple[str, ...] = ()

    @property
    def differing(self) -> tuple[DiffRow, ...]:
        return tuple(row for row in self.rows if row.differs)


def format_value(value: float | str) -> str:
    """Metrics with up to 6 significant digits (what a reviewer compares), text as is."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


Values = Mapping[str, float] | Mapping[str, str]


def _rows(section: str, candidate: Values, holder: Values | None) -> list[DiffRow]:
    """One row per key either side has; with no holder at all, nothing differs."""
    other: Values = holder if holder is not None else {}
    rows = []
    for key in sorted(set(candidate) | set(other)):
        left = format_value(candidate[key]) if key in candidate else MISSING
        right = format_value(other[key]) if key in other else MISSING
        rows.append(DiffRow(section, key, left, right, holder is not None and left != right))
    return rows


def version_diff(
    candidate: ModelVersion,
    candidate_run: Run | None,
    holder: ModelVersion | None,
    holder_run: Run | None,
    alias: str,
    problems: tuple[str, ...] = (),
) -> VersionDiff:
    """Put the two sides together; pure. Without a holder nothing `differs`: it is all new."""
    # A holder whose run could not be read still counts as a holder: its side shows "–".
    empty: dict[str, str] = {}
    holder_metrics = (holder_run.metrics if holder_run else empty) if holder else None
    holder_params = (holder_run.params if holder_run else empty) if holder else None
    rows = [
        *_rows("metric", candidate_run.metrics if candidate_run else empty, holder_metrics),
        *_rows("param", candidate_run.params if candidate_run else empty, holder_params),
        *_rows("tag", visible_tags(candidate), visible_tags(holder) if holder else None),
    ]
    return VersionDiff(candidate, holder, alias, tuple(rows), problems)


def _read_run(tracking: TrackingBackend, version: ModelVersion, problems: list[str]) -> Run | None:
    if not version.run_id:
        problems.append(f"Version {version.version} names no source run.")
        return None
    try:
        return tracking.get_run(version.run_id)
    except NotFound:
        problems.append(
            f"The source run {version.run_id} of version {version.version} no longer exists."
        )
        return None


def load_version_diff(
    tracking: TrackingBackend,
    candidate: ModelVersion,
    holder: ModelVersion | None,
    alias: str,
    state: TaskState,
) -> VersionDiff:
    """Read both source runs and diff the two versions (a worker task)."""
    problems: list[str] = []
    state.progress(-1, f"Reading the source run of version {candidate.version}")
    candidate_run = _read_run(tracking, candidate, problems)
    state.check()
    holder_run = None
    if holder is not None and holder.version != candidate.version:
        state.progress(-1, f"Reading the source run of version {holder.version}")
        holder_run = _read_run(tracking, holder, problems)
    elif holder is not None:
        holder_run = candidate_run
    return version_diff(candidate, candidate_run, holder, holder_run, alias, tuple(problems))
