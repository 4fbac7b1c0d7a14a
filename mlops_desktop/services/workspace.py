"""A workspace: the set of backends the window is looking at (demo, a server, a bundle)."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_desktop.backends.jobs import JobHistory
from mlops_desktop.backends.metrics_source import MetricsSource
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.tasks import TaskState


@dataclass(frozen=True)
class Workspace:
    label: str  # shown in the status bar and every view header
    kind: str  # "demo", "local", "mlflow", "bundle"
    tracking: TrackingBackend
    metrics: MetricsSource | None = None
    jobs: JobHistory | None = None
    read_only: bool = False
    profile_id: str = ""  # the connection profile it was opened from; "" for demo and bundles
    colour: str = ""  # the profile's colour, shown on every view header; "" = the default

    @property
    def location(self) -> str:
        return self.tracking.location

    def close(self) -> None:
        self.tracking.close()


def open_demo_workspace(paths: AppPaths, state: TaskState) -> Workspace:
    """Open the embedded demo workspace, seeding it first if it does not exist yet."""
    from mlops_desktop.backends.embedded_metrics import EmbeddedMetricsSource
    from mlops_desktop.backends.local_runner import LocalJobHistory
    from mlops_desktop.backends.mlflow_local import LocalTrackingBackend
    from mlops_desktop.services import demo
    from mlops_desktop.services.gates import GATES_FOLDER, install_demo_policies

    root = paths.demo_dir
    if not demo.is_demo_workspace(root):
        demo.init_demo_workspace(root, state=state)
    elif not (root / GATES_FOLDER).is_dir():
        # Seeded by a version without promotion gates: give it the policies it ships with.
        install_demo_policies(root / GATES_FOLDER)
    state.progress(-1, "Opening the demo workspace")
    layout = demo.DemoLayout(root)
    tracking = LocalTrackingBackend(layout.store_path, layout.artifact_root, label="Demo workspace")
    return Workspace(
        label="Demo workspace",
        kind="demo",
        tracking=tracking,
        metrics=EmbeddedMetricsSource(layout.monitoring_path),
        jobs=LocalJobHistory(layout.jobs_path),
    )
