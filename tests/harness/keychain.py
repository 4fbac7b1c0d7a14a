"""A private Secret Service keychain: a D-Bus session bus and an unlocked gnome-keyring.

The same setup a Linux desktop session has, minus the desktop: `keyring` then uses its real
SecretService backend, so the app's secret handling is tested against a real keychain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SECRETS_BUS_NAME = "org.freedesktop.secrets"


class KeychainError(RuntimeError):
    """The keychain could not be started; the message says which part failed and why."""


@dataclass
class Keychain:
    bus_address: str
    password: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)
        self.processes.clear()


def start_keychain(
    dbus_daemon: str,
    gnome_keyring_daemon: str,
    workdir: Path,
    on_spawn: Callable[[int], None] = lambda pgid: None,
    timeout_s: float = 15.0,
) -> Keychain:
    """Start both daemons and set DBUS_SESSION_BUS_ADDRESS in this process's environment.

    `on_spawn(pgid)` is called for each daemon as soon as it is started.

    Needs XDG_RUNTIME_DIR and XDG_DATA_HOME to point at the session's own directories (the
    keyring files go to $XDG_DATA_HOME/keyrings).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    socket = workdir / "bus"
    with (workdir / "dbus-daemon.log").open("wb") as bus_log:
        bus = subprocess.Popen(
            [
                dbus_daemon,
                "--session",
                "--nofork",
                "--nopidfile",
                "--print-address=1",
                f"--address=unix:path={socket}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=bus_log,
            start_new_session=True,
        )
    on_spawn(bus.pid)
    keychain = Keychain(bus_address="", password="session-keychain-password", processes=[bus])
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        if not address:
            raise KeychainError(
                f"dbus-daemon exited with status {bus.wait()} before printing its address: "
                + _tail(workdir / "dbus-daemon.log")
            )
        keychain.bus_address = address
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address

        with (workdir / "gnome-keyring.log").open("wb") as keyring_log:
            daemon = subprocess.Popen(
                # --unlock reads the login keyring's password on stdin (and creates it).
                [gnome_keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=keyring_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        on_spawn(daemon.pid)
        keychain.processes.append(daemon)
        assert daemon.stdin is not None
        daemon.stdin.write(keychain.password.encode())
        daemon.stdin.close()
        _wait_for_bus_name(address, SECRETS_BUS_NAME, daemon, timeout_s, workdir)
    except BaseException:
        keychain.stop()
        raise
    return keychain


def _wait_for_bus_name(
    address: str, name: str, daemon: subprocess.Popen[bytes], timeout_s: float, workdir: Path
) -> None:
    # NameHasOwner, not a method call on the service: a call would D-Bus-activate a second,
    # locked gnome-keyring from /usr/share/dbus-1/services.
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress(
        "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
    )
    deadline = time.monotonic() + timeout_s
    with open_dbus_connection(bus=address) as connection:
        while True:
            reply = connection.send_and_get_reply(
                new_method_call(bus, "NameHasOwner", "s", (name,)), timeout=5
            )
            if reply.body[0]:
                return
            if daemon.poll() is not None:
                raise KeychainError(
                    f"gnome-keyring-daemon exited with status {daemon.returncode}: "
                    + _tail(workdir / "gnome-keyring.log")
                )
            if time.monotonic() > deadline:
                raise KeychainError(
                    f"gnome-keyring-daemon did not claim {name} on the bus within {timeout_s:g} s: "
                    + _tail(workdir / "gnome-keyring.log")
                )
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return "(no log)"
    return text[-limit:] or "(empty log)"
