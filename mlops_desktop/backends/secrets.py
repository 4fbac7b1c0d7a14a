"""Where connection secrets live: the OS keychain, or this session's memory. Never a file.

`KeyringSecretStore` reads and writes the OS keychain through `keyring` (Secret Service on
Linux, Keychain on macOS, Credential Locker on Windows) under the service "mlops-desktop",
keyed by profile id. It refuses `keyring`'s fail and null backends and any backend that
stores secrets in plain text (keyrings.alt's), so there is no silent plaintext fallback.
`SessionSecretStore` keeps secrets in memory for the life of the process ("keep for this
session only"). `SecretVault` puts the two together for the app.

No secret is ever logged or put in an exception message; keyring's own error messages are
passed on only after the secret has been scrubbed from them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_desktop.backends.errors import BackendError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

#: The keychain service every secret of the app is filed under; the account is the profile id.
SERVICE_NAME = "mlops-desktop"
#: Looked up (never written) to find out whether the keychain can be opened and is unlocked.
_PROBE_KEY = "mlops-desktop-keychain-probe"
_NO_KEYCHAIN_ADVICE = (
    "install and unlock an OS keychain (GNOME Keyring or KWallet on Linux), or keep secrets "
    "for this session only"
)


class KeychainUnavailable(BackendError):
    """The OS keychain cannot store or read secrets now: absent, locked, prompt dismissed,
    or a plaintext backend that is refused. The UI offers a session-only secret instead."""

    failure = "keychain"


@dataclass(frozen=True)
class KeychainStatus:
    """Whether secrets can go to the OS keychain, which one it is, and if not, why not."""

    usable: bool
    backend: str  # a readable backend name, e.g. "SecretService Keyring"
    reason: str  # one sentence when unusable; empty when usable


def keychain_status() -> KeychainStatus:
    """Probe the keychain `keyring` would use: present, not plaintext, and unlocked.

    A real backend is asked for a probe key, which is what fails when the keychain is
    locked or its unlock prompt is dismissed. May block for as long as that prompt is shown.
    """
    try:
        backend = _usable_backend()
    except KeychainUnavailable as error:
        return KeychainStatus(False, _backend_name_or_none(), str(error))
    name = _backend_name(backend)
    try:
        backend.get_password(SERVICE_NAME, _PROBE_KEY)
    except Exception as error:  # keyring backends raise their own D-Bus, OS and init errors
        return KeychainStatus(False, name, _explain_failure(name, error, secret=None))
    return KeychainStatus(True, name, "")


class KeyringSecretStore:
    """Secrets in the OS keychain, one per profile id, under the service "mlops-desktop".

    The backend is looked up on every call (`keyring.get_keyring()`), so a keychain that
    appears, disappears or is replaced (as tests do with `keyring.set_keyring`) is seen.
    Every keychain problem is raised as `KeychainUnavailable`.
    """

    service = SERVICE_NAME

    def get(self, profile_id: str) -> str | None:
        backend = _usable_backend()
        try:
            return backend.get_password(self.service, profile_id)
        except Exception as error:
            raise KeychainUnavailable(
                _explain_failure(_backend_name(backend), error, secret=None)
            ) from None

    def set(self, profile_id: str, secret: str) -> None:
        backend = _usable_backend()
        try:
            backend.set_password(self.service, profile_id, secret)
        except Exception as error:
            # `from None`: the original error (and its traceback's locals) stay out of logs.
            raise KeychainUnavailable(
                _explain_failure(_backend_name(backend), error, secret=secret)
            ) from None

    def delete(self, profile_id: str) -> None:
        """Remove the secret; no secret there is not an error."""
        from keyring.errors import PasswordDeleteError

        backend = _usable_backend()
        try:
            backend.delete_password(self.service, profile_id)
        except PasswordDeleteError:
            pass  # nothing stored under that id
        except Exception as error:
            raise KeychainUnavailable(
                _explain_failure(_backend_name(backend), error, secret=None)
            ) from None


class SessionSecretStore:
    """Secrets kept in this process's memory only, gone when the app quits."""

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, profile_id: str) -> str | None:
        with self._lock:
            return self._secrets.get(profile_id)

    def set(self, profile_id: str, secret: str) -> None:
        with self._lock:
            self._secrets[profile_id] = secret

    def delete(self, profile_id: str) -> None:
        with self._lock:
            self._secrets.pop(profile_id, None)

    def __contains__(self, profile_id: object) -> bool:
        with self._lock:
            return profile_id in self._secrets

    def __repr__(self) -> str:
        return f"<SessionSecretStore with {len(self._secrets)} secret(s)>"  # never the values


class SecretVault:
    """The app's secrets: this session's memory first, then the OS keychain.

    There is no third place: when the keychain fails, `set` raises `KeychainUnavailable`
    and stores nothing, so the UI can offer `set(..., session_only=True)` instead.
    """

    def __init__(
        self,
        keychain: KeyringSecretStore | None = None,
        session: SessionSecretStore | None = None,
    ) -> None:
        self.keychain = keychain if keychain is not None else KeyringSecretStore()
        self.session = session if session is not None else SessionSecretStore()

    def get(self, profile_id: str) -> str | None:
        """The secret kept for this session, else the keychain's, else None.

        Raises `KeychainUnavailable` when no session secret exists and the keychain cannot
        be read (the UI then explains why and asks for a session-only secret).
        """
        secret = self.session.get(profile_id)
        if secret is not None:
            return secret
        return self.keychain.get(profile_id)

    def set(self, profile_id: str, secret: str, session_only: bool = False) -> None:
        """Store the secret in the keychain, or in memory only when `session_only`.

        Raises `KeychainUnavailable` (and stores nothing) when the keychain cannot take it.
        """
        if session_only:
            self.session.set(profile_id, secret)
            return
        self.keychain.set(profile_id, secret)
        # The keychain's copy is the one to use from now on, not an older session-only one.
        self.session.delete(profile_id)

    def delete(self, profile_id: str) -> None:
        """Forget the secret everywhere. Raises `KeychainUnavailable` if the keychain could
        not be cleaned (the session copy is gone by then)."""
        self.session.delete(profile_id)
        self.keychain.delete(profile_id)

    def has_session_secret(self, profile_id: str) -> bool:
        """True when the profile's secret is kept in memory for this session only."""
        return profile_id in self.session

    def status(self) -> KeychainStatus:
        return keychain_status()


# -- choosing and describing the backend ------------------------------------------------------


def _usable_backend() -> KeyringBackend:
    """The keychain backend to use, or `KeychainUnavailable` saying why there is none.

    keyring's chainer (several viable backends) is resolved to its best non-plaintext
    member, so a stray plaintext backend is never written to nor read from.
    """
    import keyring
    from keyring.backends import chainer, fail, null

    try:
        backend = keyring.get_keyring()
    except Exception as error:
        raise KeychainUnavailable(
            f"No OS keychain is available ({_scrub(str(error), None) or type(error).__name__}): "
            f"{_NO_KEYCHAIN_ADVICE}."
        ) from None
    candidates = (
        list(backend.backends) if isinstance(backend, chainer.ChainerBackend) else [backend]
    )
    plaintext = [member for member in candidates if _is_plaintext(member)]
    real = [
        member
        for member in candidates
        if not _is_plaintext(member) and not isinstance(member, fail.Keyring | null.Keyring)
    ]
    if real:
        return real[0]
    if plaintext:
        raise KeychainUnavailable(
            f"The keyring backend {_backend_name(plaintext[0])} "
            f"({type(plaintext[0]).__module__}) stores secrets in plain text; refused. "
            f"Uninstall keyrings.alt, or {_NO_KEYCHAIN_ADVICE}."
        )
    raise KeychainUnavailable(
        f"No OS keychain is available (keyring's backend is {_backend_name(backend)}): "
        f"{_NO_KEYCHAIN_ADVICE}."
    )


def _is_plaintext(backend: KeyringBackend) -> bool:
    """keyrings.alt's backends (files, even its "encrypted" one) and any "Plaintext" class."""
    module = type(backend).__module__
    return module.startswith("keyrings.alt") or "plaintext" in type(backend).__name__.lower()


def _backend_name(backend: KeyringBackend) -> str:
    try:
        name = str(backend.name)
    except Exception:
        name = ""
    return name or f"{type(backend).__module__}.{type(backend).__qualname__}"


def _backend_name_or_none() -> str:
    try:
        import keyring

        return _backend_name(keyring.get_keyring())
    except Exception:
        return "none"


def _explain_failure(name: str, error: BaseException, secret: str | None) -> str:
    """One sentence for a keychain error, without the secret."""
    from keyring.errors import InitError, KeyringLocked, NoKeyringError

    detail = _scrub(str(error).strip().rstrip("."), secret) or type(error).__name__
    if isinstance(error, NoKeyringError):
        return f"No OS keychain is available ({detail}): {_NO_KEYCHAIN_ADVICE}."
    lowered = detail.lower()
    if isinstance(error, KeyringLocked) or "dismissed" in lowered or "locked" in lowered:
        return (
            f"The OS keychain ({name}) is locked, or its unlock prompt was dismissed "
            f"({detail}): unlock it and retry, or keep the secret for this session only."
        )
    if isinstance(error, InitError):
        return (
            f"The OS keychain ({name}) could not be opened ({detail}): check that it is "
            "running and unlocked, or keep the secret for this session only."
        )
    return (
        f"The OS keychain ({name}) failed ({detail}): retry, or keep the secret for this "
        "session only."
    )


def _scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
    return text
