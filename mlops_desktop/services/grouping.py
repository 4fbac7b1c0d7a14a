"""Group runs by a param or tag with per-group aggregates, and nest child runs under parents.

Both work on a runs frame (see `services.experiments`) and answer in numpy row positions into
it, so a tree model can show groups and nested runs without copying a cell. Everything is
vectorised: 100,000 runs group or nest in tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlops_desktop.services.experiments import PARAM_PREFIX, TAG_PREFIX

#: The label of the group of runs that have no value in the grouped column.
NONE_LABEL = "(none)"
#: The aggregates a group row can show in its metric columns.
AGGREGATES = ("mean", "min", "max")

Positions = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class MetricSummary:
    """One metric over every group: arrays indexed by group, NaN where a group has no value."""

    mean: Floats
    min: Floats
    max: Floats
    count: npt.NDArray[np.int64]  # runs of the group with a value

    def aggregate(self, name: str) -> Floats:
        """The array of one aggregate by name ("mean", "min" or "max")."""
        if name not in AGGREGATES:
            raise ValueError(f"Unknown aggregate {name!r}: choose one of {', '.join(AGGREGATES)}.")
        values: Floats = getattr(self, name)
        return values


@dataclass(frozen=True, eq=False)
class Grouping:
    """Runs grouped by the values of one column, groups in value order, "(none)" last.

    Group `g` holds the frame rows `order[offsets[g]:offsets[g + 1]]`, in frame order.
    """

    column: str
    labels: tuple[str, ...]  # the value of each group; NONE_LABEL for the missing-value group
    missing_group: int  # the index of the "(none)" group, or -1 when every run has a value
    counts: npt.NDArray[np.int64]
    order: Positions
    offsets: Positions
    group_of_row: Positions  # the group of each frame row
    metrics: dict[str, MetricSummary]

    def __len__(self) -> int:
        return len(self.labels)

    def members(self, group: int) -> Positions:
        """The frame row positions of one group's runs, in frame order."""
        return self.order[self.offsets[group] : self.offsets[group + 1]]


@dataclass(frozen=True, eq=False)
class Nesting:
    """Runs as a forest: each run under its parent run, when the parent is in the frame.

    Orphans (whose parent is not in the frame) and the run that closes a parent cycle are
    shown at the top level and flagged, so every run appears exactly once.
    """

    parent: Positions  # the frame row of each run's parent; -1 at the top level
    depth: Positions  # 0 at the top level
    order: Positions  # depth-first: each run followed by its descendants, siblings in frame order
    orphan: Flags  # names a parent run that is not in the frame
    cycle_cut: Flags  # its parent chain loops back to itself; cut here to show it at all
    child_order: Positions  # children grouped by parent: see `children`
    child_offsets: Positions

    @property
    def roots(self) -> Positions:
        """The top-level runs, in frame order."""
        return np.flatnonzero(self.parent < 0).astype(np.intp)

    def children(self, row: int) -> Positions:
        """The frame rows of one run's direct children, in frame order."""
        return self.child_order[self.child_offsets[row] : self.child_offsets[row + 1]]


# -- sort keys ---------------------------------------------------------------------------------


def text_ranks(values: Sequence[str]) -> Floats:
    """A float per text that sorts it: as a number when every text is one (`1e-3` before
    `0.01`), else alphabetically ignoring case. Ties get the same rank."""
    if not len(values):
        return np.empty(0, dtype=np.float64)
    texts = pd.Series(list(values), dtype=object)
    numbers = pd.to_numeric(texts, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=np.float64)
    lowered = texts.str.lower().to_numpy(dtype=str)
    ranks: Floats = np.unique(lowered, return_inverse=True)[1].astype(np.float64)
    return ranks


def sort_key(series: pd.Series) -> Floats:
    """A float per row that sorts the column like the runs table does, NaN for missing.

    Numbers as themselves, times as epoch milliseconds, text by `text_ranks` of its distinct
    values (so a sweep's numeric-looking params sort as numbers).
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(
        series.dtype
    ):
        naive = series.dt.tz_localize(None) if series.dt.tz is not None else series
        ms = naive.astype("datetime64[ms]").to_numpy().view(np.int64).astype(np.float64)
        ms[series.isna().to_numpy()] = np.nan
        return ms
    if is_number_column(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    ranks = np.append(text_ranks([str(u) for u in uniques]), np.nan)  # code -1 picks NaN
    key: Floats = ranks[codes]
    return key


def is_number_column(series: pd.Series) -> bool:
    """True for a numeric column (metrics, durations) that groups can aggregate."""
    dtype = series.dtype
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_datetime64_any_dtype(dtype)
    )


# -- grouping ----------------------------------------------------------------------------------


def groupable_columns(frame: pd.DataFrame, max_groups: int = 500) -> list[str]:
    """The params and tags worth grouping by: 2 to `max_groups` groups (missing counts as
    one), and at most one group per two runs.

    A column with the same value everywhere makes one group; one with a value per run (a
    seed, a continuous learning rate) makes groups of one. Reads every value of every param
    and tag: run it off the GUI thread on a wide frame.
    """
    limit = min(max_groups, max(2, len(frame) // 2))
    chosen = []
    for name in frame.columns:
        if not name.startswith((PARAM_PREFIX, TAG_PREFIX)):
            continue
        groups = frame[name].nunique(dropna=False)
        if 2 <= groups <= limit:
            chosen.append(name)
    return chosen


def group_runs(frame: pd.DataFrame, by: str, metrics: Sequence[str] = ()) -> Grouping:
    """Group the runs by the values of column `by`, with count and mean/min/max per metric.

    Runs without a value form the "(none)" group, last; the others come in `text_ranks`
    order. A metric's aggregates ignore missing values; a group with none has NaN.
    """
    if by not in frame.columns:
        raise KeyError(f"The runs have no column {by!r} to group by.")
    codes, uniques = pd.factorize(frame[by], use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    value_order = np.argsort(text_ranks(labels), kind="stable")
    has_missing = bool((codes < 0).any())
    group_of_code = np.empty(len(labels) + 1, dtype=np.intp)  # the last slot is code -1
    group_of_code[value_order] = np.arange(len(labels))
    group_of_code[-1] = len(labels)
    group_of_row: Positions = group_of_code[codes]
    ordered_labels = [labels[i] for i in value_order] + ([NONE_LABEL] if has_missing else [])
    group_count = len(ordered_labels)

    order = np.argsort(group_of_row, kind="stable").astype(np.intp)
    counts = np.bincount(group_of_row, minlength=group_count).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
    summaries = {
        name: _summarise(frame[name].to_numpy(dtype=np.float64, na_value=np.nan)[order], offsets)
        for name in metrics
    }
    return Grouping(
        column=by,
        labels=tuple(ordered_labels),
        missing_group=group_count - 1 if has_missing else -1,
        counts=counts,
        order=order,
        offsets=offsets,
        group_of_row=group_of_row,
        metrics=summaries,
    )


def _summarise(grouped_values: Floats, offsets: Positions) -> MetricSummary:
    """Count, mean, min and max of each group's slice of `grouped_values`, NaN-aware."""
    starts = offsets[:-1]
    if not len(starts):
        empty = np.empty(0, dtype=np.float64)
        return MetricSummary(empty, empty, empty, np.empty(0, dtype=np.int64))
    present = ~np.isnan(grouped_values)
    count = np.add.reduceat(present.astype(np.int64), starts)
    total = np.add.reduceat(np.where(present, grouped_values, 0.0), starts)
    mean = np.divide(total, count, out=np.full(len(starts), np.nan), where=count > 0)
    # fmin/fmax skip NaN unless a whole group is NaN, which is what "no value" should give.
    minimum = np.fmin.reduceat(grouped_values, starts)
    maximum = np.fmax.reduceat(grouped_values, starts)
    return MetricSummary(mean=mean, min=minimum, max=maximum, count=count)


# -- nesting -----------------------------------------------------------------------------------


def nest_runs(frame: pd.DataFrame) -> Nesting:
    """Each run under its parent (`parent_run_id`), at any depth; see `Nesting`."""
    count = len(frame)
    parent, orphan = _parent_rows(frame)
    cycle_cut = np.zeros(count, dtype=bool)
    levels, reached = _levels(parent)
    if not reached.all():
        # Every unreached run descends from a parent cycle: cut each cycle once, then retry.
        cut = _cycle_cuts(parent, ~reached)
        parent[cut] = -1
        cycle_cut[cut] = True
        levels, reached = _levels(parent)
    depth = np.zeros(count, dtype=np.intp)
    for number, level in enumerate(levels):
        depth[level] = number
    child_order, child_offsets = _children_by_parent(parent)
    return Nesting(
        parent=parent,
        depth=depth,
        order=_depth_first_order(parent, levels),
        orphan=orphan,
        cycle_cut=cycle_cut,
        child_order=child_order,
        child_offsets=child_offsets,
    )


def _parent_rows(frame: pd.DataFrame) -> tuple[Positions, Flags]:
    """The frame row of each run's parent (-1 when none or not in the frame), and which runs
    name a parent that is not in the frame."""
    count = len(frame)
    if not count or "parent_run_id" not in frame.columns:
        return np.full(count, -1, dtype=np.intp), np.zeros(count, dtype=bool)
    parent_ids = frame["parent_run_id"]
    named = (parent_ids.notna() & (parent_ids != "")).to_numpy(dtype=bool, na_value=False)
    # One factorize over ids and parent ids: equal strings get equal codes, without building
    # a Python object per id.
    both = pd.concat([frame["run_id"], parent_ids], ignore_index=True)
    codes = pd.factorize(both, use_na_sentinel=True)[0]
    id_codes, parent_codes = codes[:count], codes[count:]
    row_of_code = np.full(int(codes.max()) + 2, -1, dtype=np.intp)  # the last slot is code -1
    # A run listed twice (overlapping pages) is found at its first row.
    unique_codes, first_rows = np.unique(id_codes, return_index=True)
    known = unique_codes >= 0
    row_of_code[unique_codes[known]] = first_rows[known]
    parent = row_of_code[parent_codes]
    parent[~named] = -1
    return parent, named & (parent < 0)


def _children_by_parent(parent: Positions) -> tuple[Positions, Positions]:
    """Children of each row (by parent, then frame order) and offsets into them per row."""
    count = len(parent)
    children = np.flatnonzero(parent >= 0)
    children = children[np.argsort(parent[children], kind="stable")].astype(np.intp)
    per_parent = np.bincount(parent[children], minlength=count)
    offsets = np.concatenate([[0], np.cumsum(per_parent)]).astype(np.intp)
    return children, offsets


def _levels(parent: Positions) -> tuple[list[Positions], Flags]:
    """Breadth-first from the top-level runs: the rows at each depth, and which were reached.

    Each level lists children grouped by parent, in the parents' order, then frame order.
    """
    count = len(parent)
    children, offsets = _children_by_parent(parent)
    reached = np.zeros(count, dtype=bool)
    levels: list[Positions] = []
    frontier = np.flatnonzero(parent < 0).astype(np.intp)
    while len(frontier):
        reached[frontier] = True
        levels.append(frontier)
        frontier = children[_concatenated_ranges(offsets[frontier], offsets[frontier + 1])]
        # A cycle is never reached from the top level, so this loop cannot go round forever;
        # the guard is for a parent array that somehow points back into a reached run.
        frontier = frontier[~reached[frontier]]
    return levels, reached


def _concatenated_ranges(starts: Positions, ends: Positions) -> Positions:
    """`concat(arange(s, e) for s, e in zip(starts, ends))`, without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.empty(0, dtype=np.intp)
    shifts = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    ranges: Positions = (np.arange(total) + shifts).astype(np.intp)
    return ranges


def _cycle_cuts(parent: Positions, unreached: Flags) -> list[int]:
    """One run per parent cycle among the unreached runs (the cycle's first in frame order).

    Each unreached run's parent is unreached too, so following parents from any of them
    ends in a cycle; each walk stops at a run already seen, so it ends.
    """
    walk_of = np.full(len(parent), -1, dtype=np.intp)
    cuts = []
    for walk, start in enumerate(np.flatnonzero(unreached)):
        row = int(start)
        while walk_of[row] < 0:
            walk_of[row] = walk
            row = int(parent[row])
        if walk_of[row] != walk:
            continue  # joined a walk that already found its cycle
        cycle = [row]
        member = int(parent[row])
        while member != row:
            cycle.append(member)
            member = int(parent[member])
        cuts.append(min(cycle))
    return cuts


def _depth_first_order(parent: Positions, levels: list[Positions]) -> Positions:
    """Rows in depth-first order, from subtree sizes (bottom-up) and start positions
    (top-down), one vectorised step per depth."""
    count = len(parent)
    size = np.ones(count, dtype=np.intp)
    for level in reversed(levels[1:]):
        np.add.at(size, parent[level], size[level])
    position = np.zeros(count, dtype=np.intp)
    if levels:
        roots = levels[0]
        position[roots] = np.cumsum(size[roots]) - size[roots]
    for level in levels[1:]:
        # Siblings are contiguous in a level: each starts after its parent and the earlier
        # siblings' subtrees.
        sizes = size[level]
        before = np.cumsum(sizes) - sizes
        parents = parent[level]
        first = np.concatenate([[True], parents[1:] != parents[:-1]])
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(level)), 0))
        position[level] = position[parents] + 1 + before - before[group_start]
    order = np.empty(count, dtype=np.intp)
    order[position] = np.arange(count)
    return order
