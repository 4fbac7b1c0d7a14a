"""Where the app keeps its files: profiles (config), demo workspace (data), caches, logs.

platformdirs honours XDG_CONFIG_HOME / XDG_DATA_HOME / XDG_CACHE_HOME / XDG_STATE_HOME on
Linux, which is how tests give every run a fresh home.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from mlops_desktop import APP_NAME


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def from_environment(cls) -> AppPaths:
        return cls(
            config_dir=platformdirs.user_config_path(APP_NAME, appauthor=False),
            data_dir=platformdirs.user_data_path(APP_NAME, appauthor=False),
            cache_dir=platformdirs.user_cache_path(APP_NAME, appauthor=False),
            log_dir=platformdirs.user_log_path(APP_NAME, appauthor=False),
        )

    @property
    def demo_dir(self) -> Path:
        """The embedded demo workspace (local MLflow store, artifacts, monitoring series)."""
        return self.data_dir / "demo"

    @property
    def settings_file(self) -> Path:
        """Window geometry, last view and theme (QSettings, INI format)."""
        return self.config_dir / "window.ini"

    @property
    def profiles_file(self) -> Path:
        """The connection profiles (JSON, no secrets: those live in the OS keychain)."""
        return self.config_dir / "profiles.json"
