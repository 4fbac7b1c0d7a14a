"""Cleans up after a test session that died without tearing down (killed, timed out).

The reaper is a small process in its own session that reads commands on stdin from the
test process: `watch PGID`, `forget PGID`, `remove PATH`. When stdin closes, that is when
the test process has exited in whatever way, it kills the process groups still watched
and removes the paths. A session that ends normally has already stopped and forgotten
everything, so then the reaper only removes the paths.

    python -m tests.harness.reaper      (started by `Reaper.start()`)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


class Reaper:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    @classmethod
    def start(cls) -> Reaper:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.harness.reaper"],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a Ctrl-C to the test run must not stop it first
        )
        return cls(process)

    def watch(self, pgid: int) -> None:
        self._send(f"watch {pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"forget {pgid}")

    def remove_on_exit(self, path: Path) -> None:
        self._send(f"remove {path}")

    def close(self) -> None:
        """Tell the reaper the session is over (as the test process's exit would)."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        self._process.wait(timeout=30)

    def _send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()


def _kill_groups(groups: set[int], grace_s: float = 5.0) -> None:
    """SIGTERM every group, give them `grace_s` together to exit, then SIGKILL what is left."""
    alive = set(groups)
    for pgid in groups:
        if not _signal_group(pgid, signal.SIGTERM):
            alive.discard(pgid)
    deadline = time.monotonic() + grace_s
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {pgid for pgid in alive if _signal_group(pgid, 0)}
    for pgid in alive:
        _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to the group; False once it no longer exists."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def main() -> None:
    for name in ("SIGINT", "SIGHUP", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    groups: set[int] = set()
    paths: list[Path] = []
    for line in sys.stdin:
        command, _, argument = line.rstrip("\n").partition(" ")
        if command == "watch":
            groups.add(int(argument))
        elif command == "forget":
            groups.discard(int(argument))
        elif command == "remove":
            paths.append(Path(argument))
    _kill_groups(groups)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
