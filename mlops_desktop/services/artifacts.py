"""A run's artifacts on this machine's side: the whole tree, the start of a file, downloads.

`list_artifact_tree` lists every file and folder (one request per folder on a server);
`read_head` reads the first bytes of a file without downloading the rest;
`download_artifact` copies a file or a folder into a local folder with progress and cancel,
writing under a temporary name and renaming when complete, so a cancelled or failed
download leaves nothing behind. No Qt.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlops_desktop.backends.errors import NotFound, PermissionDenied
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.tracking import ArtifactEntry
from mlops_desktop.services.tasks import TaskState

#: At most this many files and folders are listed in a run's artifact tree.
ARTIFACT_TREE_LIMIT = 10_000
_DOWNLOAD_CHUNK = 1 << 20
_DOWNLOAD_REPORT_EVERY = 1 << 20


@dataclass(frozen=True)
class ArtifactTree:
    """Every file and folder of a run's artifacts (or of one folder), folders first."""

    entries: tuple[ArtifactEntry, ...] = ()
    truncated: bool = False  # more than `ARTIFACT_TREE_LIMIT` entries: the rest is not listed
    root: str = ""

    def children(self, path: str = "") -> list[ArtifactEntry]:
        """The entries directly inside folder `path` ("" is the root)."""
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        return [
            entry
            for entry in self.entries
            if entry.path.startswith(prefix) and "/" not in entry.path[len(prefix) :]
        ]

    def find(self, path: str) -> ArtifactEntry | None:
        wanted = path.strip("/")
        return next((entry for entry in self.entries if entry.path == wanted), None)

    @property
    def files(self) -> list[ArtifactEntry]:
        return [entry for entry in self.entries if not entry.is_dir]

    @property
    def total_bytes(self) -> int:
        return sum(entry.size_bytes or 0 for entry in self.files)


def list_artifact_tree(
    tracking: TrackingBackend,
    run_id: str,
    state: TaskState,
    path: str = "",
    limit: int = ARTIFACT_TREE_LIMIT,
) -> ArtifactTree:
    """Every file and folder under `path` of the run's artifacts, folder by folder (one
    request per folder on a server), folders first and each level by name; stops at `limit`."""
    root = path.strip("/")
    children_of: dict[str, list[ArtifactEntry]] = {}
    pending, listed, truncated = [root], 0, False
    while pending and not truncated:
        state.check()
        folder = pending.pop()
        children = sorted(
            tracking.list_artifacts(run_id, folder), key=lambda e: (not e.is_dir, e.path)
        )
        if listed + len(children) > limit:
            children, truncated = children[: limit - listed], True
        children_of[folder] = children
        listed += len(children)
        pending.extend(child.path for child in children if child.is_dir)
    # Depth first, in display order: a folder's children follow it.
    entries: list[ArtifactEntry] = []
    stack = list(reversed(children_of.get(root, [])))
    while stack:
        entry = stack.pop()
        entries.append(entry)
        if entry.is_dir:
            stack.extend(reversed(children_of.get(entry.path, [])))
    return ArtifactTree(tuple(entries), truncated, root)


def parent_folder(path: str) -> str:
    """The folder holding artifact `path`: "" at the root."""
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def read_head(
    tracking: TrackingBackend, run_id: str, path: str, limit: int, state: TaskState
) -> tuple[bytes, bool]:
    """The first `limit` bytes of an artifact, and whether the file is longer."""
    chunks: list[bytes] = []
    size = 0
    stream = tracking.iter_artifact(run_id, path)
    try:
        for chunk in stream:
            state.check()
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    finally:
        _close(stream)
    data = b"".join(chunks)
    return data[:limit], len(data) > limit


def _close(stream: Iterator[bytes]) -> None:
    """Stop a chunk stream early (a generator releases its response or file)."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def format_bytes(size: int | None) -> str:
    if size is None:
        return "–"
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"  # pragma: no cover - the loop always returns


# -- downloads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadResult:
    path: Path  # the file or folder written
    files: int
    bytes: int


def download_artifact(
    tracking: TrackingBackend, run_id: str, path: str, dest_dir: Path, state: TaskState
) -> DownloadResult:
    """Copy artifact `path` (a file, or a folder with everything in it; "" is the whole run)
    into `dest_dir`, reporting progress and stopping on cancel.

    Everything is written under a hidden temporary name and renamed when complete, so a
    cancelled or failed download leaves nothing behind, and a finished one never a half file.
    An existing file or folder of the same name is kept: the copy gets a free name ("x (2)").
    """
    relative = path.strip("/")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    state.progress(-1, f"Looking up {relative or 'the artifacts'}")
    entry = artifact_entry(tracking, run_id, relative)
    files = list_artifact_tree(tracking, run_id, state, relative).files if entry.is_dir else [entry]
    name = PurePosixPath(relative).name or f"{run_id}-artifacts"
    target = free_path(dest_dir, name)
    temporary = dest_dir / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    progress = _DownloadProgress(state, target.name, sum(f.size_bytes or 0 for f in files))
    try:
        if entry.is_dir:
            temporary.mkdir()
            for file in files:
                inside = _inside(file.path, relative)
                destination = temporary.joinpath(*inside.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                _download_file(tracking, run_id, file.path, destination, progress)
        else:
            _download_file(tracking, run_id, relative, temporary, progress)
        os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    state.progress(1.0, f"Downloaded {target.name} ({format_bytes(progress.done)})")
    return DownloadResult(target, len(files), progress.done)


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/name (2).ext`, ... when that is taken."""
    candidate = folder / name
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = folder / f"{stem} ({number}){suffix}"
        number += 1
    return candidate


class _DownloadProgress:
    """Bytes written so far, reported about every megabyte (and checked for cancel)."""

    def __init__(self, state: TaskState, name: str, total: int) -> None:
        self.state, self.name, self.total = state, name, total
        self.done = 0
        self._reported = -_DOWNLOAD_REPORT_EVERY

    def add(self, count: int) -> None:
        self.done += count
        self.state.check()
        if self.done - self._reported >= _DOWNLOAD_REPORT_EVERY:
            self._reported = self.done
            fraction = min(1.0, self.done / self.total) if self.total else -1.0
            of = f" of {format_bytes(self.total)}" if self.total else ""
            self.state.progress(fraction, f"Downloading {self.name}: {format_bytes(self.done)}{of}")


def _download_file(
    tracking: TrackingBackend,
    run_id: str,
    path: str,
    destination: Path,
    progress: _DownloadProgress,
) -> None:
    stream = tracking.iter_artifact(run_id, path, _DOWNLOAD_CHUNK)
    try:
        with destination.open("xb") as out:
            for chunk in stream:
                out.write(chunk)
                progress.add(len(chunk))
    finally:
        _close(stream)


def artifact_entry(tracking: TrackingBackend, run_id: str, path: str) -> ArtifactEntry:
    """The listing entry of `path` (the root is a folder), from its parent folder's listing."""
    if not path:
        return ArtifactEntry("", is_dir=True)
    for entry in tracking.list_artifacts(run_id, parent_folder(path)):
        if entry.path.strip("/") == path:
            return entry
    raise NotFound(f"Run {short_run_id(run_id)} has no artifact {path!r}.")


def _inside(path: str, folder: str) -> PurePosixPath:
    """`path` relative to `folder`, refused when it would lead outside the download."""
    relative = PurePosixPath(path[len(folder) :].lstrip("/") if folder else path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise PermissionDenied(f"The artifact path {path!r} leads outside its folder; refused.")
    return relative


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def short_run_id(run_id: str) -> str:
    return f"{run_id[:8]}…" if len(run_id) > 8 else run_id
