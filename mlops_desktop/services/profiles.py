"""Connection profiles on disk: one JSON file in the user config dir, never a secret in it.

`ProfileStore` reads and writes `profiles.json` (`{"format_version": 1, "profiles": [...]}`)
atomically: a temp file in the same directory, fsync, `os.replace`, mode 0600. A file that
cannot be read is moved aside to `profiles.json.corrupt-<timestamp>` (never overwritten
without that backup) and reported with `ProfilesFileUnreadable`; the app then starts with no
profiles. Export and import share a team's setup in the same format; secrets, which
profiles do not hold, stay in each person's keychain.

Every operation re-reads the file, so the window and the CLI can both change it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_desktop.backends.errors import BackendError, NotFound
from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind, TlsOptions
from mlops_desktop.services import profile_rules

FORMAT_VERSION = 1
#: Words a field name must not contain: a profile holds no secret, by construction.
SECRET_WORDS = ("password", "secret", "token", "passphrase", "credential", "private")
_FILE_MODE = 0o600
_DIR_MODE = 0o700


class ProfileStoreError(BackendError):
    """A profiles file or a profile could not be read, written or accepted."""


class ProfilesFileUnreadable(ProfileStoreError):
    """The profiles file was corrupt or unreadable; `backup` is where it was kept."""

    def __init__(self, message: str, backup: Path | None) -> None:
        super().__init__(message)
        self.backup = backup


class UnsupportedProfilesFormat(ProfileStoreError):
    """An imported file was written in a format version this version cannot read."""


class InvalidProfile(ProfileStoreError, ValueError):
    """A profile's fields do not make a usable connection (empty name, no URL...)."""


class ProfileNameTaken(InvalidProfile):
    """Another profile already has that name (names are unique, ignoring case)."""


def new_profile_id() -> str:
    """A fresh, stable profile id: the key of its secret in the keychain."""
    return uuid.uuid4().hex


def _assert_no_secret_field() -> None:
    fields = [f.name for f in dataclasses.fields(Profile)] + [
        f.name for f in dataclasses.fields(TlsOptions)
    ]
    leaking = [name for name in fields if any(word in name.lower() for word in SECRET_WORDS)]
    # Checked at import: a field that could hold a secret must never be added to a profile.
    if leaking:
        raise AssertionError(f"Profile fields look like secrets: {leaking}")


_assert_no_secret_field()


class ProfileStore:
    """The connection profiles saved in one JSON file (`AppPaths.profiles_file`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()

    # -- reading ----------------------------------------------------------------------------

    def load(self) -> list[Profile]:
        """Every saved profile, in the order they were added.

        A missing file means no profiles. A corrupt or unreadable one is moved aside and
        `ProfilesFileUnreadable` raised; the next `load` then finds no profiles.
        """
        with self._lock:
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return []
            except OSError as error:
                raise self._set_aside(f"could not be read ({error.strerror or error})") from None
            try:
                return _parse_document(raw, source=str(self.path))
            except (ValueError, UnsupportedProfilesFormat) as error:
                raise self._set_aside(str(error)) from None

    def get(self, name_or_id: str) -> Profile:
        """The profile with this id or name (exact, else ignoring case); `NotFound` if none."""
        profiles = self.load()
        found = _find(profiles, name_or_id)
        if found is None:
            raise NotFound(_not_found_sentence(name_or_id, profiles))
        return found

    # -- changing ---------------------------------------------------------------------------

    def save(self, profile: Profile) -> None:
        """Add the profile, or replace the one with the same `profile_id`.

        Raises `ProfileNameTaken` when another profile has that name, `InvalidProfile` when
        the profile cannot work (no name, no URL, a password in the URL...).
        """
        _check_savable(profile)
        with self._lock:
            profiles = self.load()
            _check_name_free(profiles, profile.name, except_id=profile.profile_id)
            for index, existing in enumerate(profiles):
                if existing.profile_id == profile.profile_id:
                    profiles[index] = profile
                    break
            else:
                profiles.append(profile)
            self._write(profiles)

    def remove(self, name_or_id: str) -> Profile:
        """Remove a profile and return it. Its secret stays in the keychain: the caller
        deletes it (`SecretVault.delete(profile.profile_id)`)."""
        with self._lock:
            profiles = self.load()
            found = _find(profiles, name_or_id)
            if found is None:
                raise NotFound(_not_found_sentence(name_or_id, profiles))
            self._write([p for p in profiles if p.profile_id != found.profile_id])
            return found

    def duplicate(self, name_or_id: str, new_name: str | None = None) -> Profile:
        """Save a copy under a new id, named `new_name` or "<name> (copy)"; return it.

        The copy has no secret yet (the keychain is keyed by profile id).
        """
        with self._lock:
            profiles = self.load()
            original = _find(profiles, name_or_id)
            if original is None:
                raise NotFound(_not_found_sentence(name_or_id, profiles))
            if new_name is None:
                taken = {p.name.casefold() for p in profiles}
                new_name = f"{original.name} (copy)"
                number = 2
                while new_name.casefold() in taken:
                    new_name = f"{original.name} (copy {number})"
                    number += 1
            copy = dataclasses.replace(original, profile_id=new_profile_id(), name=new_name)
            self.save(copy)
            return copy

    # -- sharing ------------------------------------------------------------------------------

    def export(self, path: Path, names: Sequence[str] | None = None) -> int:
        """Write the named profiles (all when `names` is None) to `path`; return how many.

        The file has the same format as the store and, like it, no secret.
        """
        profiles = self.load()
        if names is not None:
            chosen = []
            for name in names:
                found = _find(profiles, name)
                if found is None:
                    raise NotFound(_not_found_sentence(name, profiles))
                if found not in chosen:
                    chosen.append(found)
            profiles = chosen
        _write_atomically(Path(path), _document(profiles), mode=0o644)
        return len(profiles)

    def import_file(self, path: Path) -> list[Profile]:
        """Add the profiles of an exported file; return them as saved.

        Ids are kept unless one is already used here; a name already used becomes
        "<name> (2)", "<name> (3)"... Nothing but the profile fields is read, so a secret
        someone added to the file is never imported. A file of another format version is
        refused with `UnsupportedProfilesFormat`, a damaged one with `ProfileStoreError`;
        either way nothing is imported.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ProfileStoreError(f"Could not read {path}: {error.strerror or error}.") from None
        try:
            incoming = _parse_document(raw, source=str(path))
            for profile in incoming:
                _check_savable(profile)
        except ValueError as error:  # InvalidProfile included
            reason = str(error).rstrip(".")
            raise ProfileStoreError(f"Nothing was imported from {path}: {reason}.") from None
        with self._lock:
            profiles = self.load()
            ids = {p.profile_id for p in profiles}
            names = {p.name.casefold() for p in profiles}
            imported = []
            for profile in incoming:
                profile_id = profile.profile_id if profile.profile_id not in ids else ""
                profile = dataclasses.replace(
                    profile,
                    profile_id=profile_id or new_profile_id(),
                    name=_free_name(profile.name, names),
                )
                ids.add(profile.profile_id)
                names.add(profile.name.casefold())
                imported.append(profile)
            self._write(profiles + imported)
            return imported

    # -- the file -----------------------------------------------------------------------------

    def _write(self, profiles: Iterable[Profile]) -> None:
        _write_atomically(self.path, _document(profiles), mode=_FILE_MODE)

    def _set_aside(self, problem: str) -> ProfilesFileUnreadable:
        """Move the unreadable file aside and return the error that says where it went."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while backup.exists():
            counter += 1
            backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
        try:
            os.replace(self.path, backup)
        except OSError as error:
            # Left where it is: `save` will fail the same way rather than overwrite it.
            return ProfilesFileUnreadable(
                f"The connection profiles file {self.path} {problem.rstrip('.')}, and could "
                f"not be moved aside ({error.strerror or error}); fix or remove it, and "
                "restart the app.",
                backup=None,
            )
        return ProfilesFileUnreadable(
            f"The connection profiles file {self.path} was unreadable "
            f"({problem.rstrip('.')}) and has been kept as {backup}; the app starts with no "
            "profiles.",
            backup=backup,
        )


# -- validation ------------------------------------------------------------------------------


def _check_savable(profile: Profile) -> None:
    """Raise `InvalidProfile` with the sentences of `profile_rules` when the profile cannot
    describe a connection (no name, no URL, a password in the URL...)."""
    if not profile.profile_id.strip():
        raise InvalidProfile("The connection has no id: create it with new_profile_id().")
    problems = profile_rules.validate_profile(profile, existing_names=())
    if problems:
        prefix = f"Connection {profile.name!r}: " if profile.name.strip() else ""
        raise InvalidProfile(prefix + " ".join(problems))


# -- (de)serialisation -----------------------------------------------------------------------


def profile_to_json(profile: Profile) -> dict[str, Any]:
    """A profile as a JSON object (enums as their values)."""
    data = dataclasses.asdict(profile)
    data["kind"] = profile.kind.value
    data["auth"] = profile.auth.value
    return data


def profile_from_json(data: Mapping[str, Any]) -> Profile:
    """A profile from a JSON object; unknown keys (a newer version's, or a secret someone
    typed in) are ignored. Raises ValueError naming a bad field."""
    if not isinstance(data, Mapping):
        raise ValueError("a profile is not a JSON object")
    known = {f.name: f for f in dataclasses.fields(Profile)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known or key == "tls":
            continue
        values[key] = value
    for required in ("profile_id", "name", "kind"):
        if not isinstance(values.get(required), str):
            raise ValueError(f"a profile lacks its {required!r}")
    name = values["name"]
    try:
        values["kind"] = ProfileKind(values["kind"])
    except ValueError:
        raise ValueError(f"profile {name!r} has an unknown kind {values['kind']!r}") from None
    try:
        values["auth"] = AuthKind(values.get("auth", AuthKind.NONE.value))
    except ValueError:
        raise ValueError(f"profile {name!r} has an unknown auth {values['auth']!r}") from None
    text_keys = ("url", "username", "proxy", "colour", "label", "namespace", "kube_context")
    for key in (*text_keys, "description"):
        if key in values and not isinstance(values[key], str):
            raise ValueError(f"profile {name!r} has a {key!r} that is not text")
    for key in ("connect_timeout_s", "read_timeout_s"):
        if key in values:
            value = values[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"profile {name!r} has a {key!r} that is not a number")
            values[key] = float(value)
    values["tls"] = _tls_from_json(data.get("tls", {}), name)
    return Profile(**values)


def _tls_from_json(data: Any, name: str) -> TlsOptions:
    if not isinstance(data, Mapping):
        raise ValueError(f"profile {name!r} has TLS options that are not a JSON object")
    known = {f.name for f in dataclasses.fields(TlsOptions)}
    values = {key: value for key, value in data.items() if key in known}
    if "verify" in values and not isinstance(values["verify"], bool):
        raise ValueError(f"profile {name!r} has a TLS 'verify' that is not true or false")
    for key in ("ca_bundle", "client_cert", "client_key"):
        if key in values and not isinstance(values[key], str):
            raise ValueError(f"profile {name!r} has a TLS {key!r} that is not text")
    return TlsOptions(**values)


def _document(profiles: Iterable[Profile]) -> bytes:
    document = {
        "format_version": FORMAT_VERSION,
        "profiles": [profile_to_json(p) for p in profiles],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _parse_document(raw: bytes, source: str) -> list[Profile]:
    """The profiles of a profiles document; ValueError or UnsupportedProfilesFormat if not."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(document, dict) or "profiles" not in document:
        raise ValueError("not a profiles file: no 'profiles' list")
    version = document.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise UnsupportedProfilesFormat(
            f"{source} is in profiles format version {version!r}; this version of MLOps "
            f"Desktop reads version {FORMAT_VERSION} only. Update the app, or export the "
            "profiles again from the version that wrote them."
        )
    entries = document["profiles"]
    if not isinstance(entries, list):
        raise ValueError("its 'profiles' entry is not a list")
    profiles = [profile_from_json(entry) for entry in entries]
    seen: set[str] = set()
    for profile in profiles:
        if profile.profile_id in seen:
            raise ValueError(f"two profiles share the id {profile.profile_id}")
        seen.add(profile.profile_id)
    return profiles


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write through a temp file in the same directory, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):  # a directory cannot be opened on Windows
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


# -- finding and naming ------------------------------------------------------------------------


def _find(profiles: Sequence[Profile], name_or_id: str) -> Profile | None:
    for profile in profiles:
        if profile.profile_id == name_or_id:
            return profile
    for profile in profiles:
        if profile.name == name_or_id:
            return profile
    folded = [p for p in profiles if p.name.casefold() == name_or_id.casefold()]
    return folded[0] if len(folded) == 1 else None


def _not_found_sentence(name_or_id: str, profiles: Sequence[Profile]) -> str:
    if not profiles:
        return (
            f"There is no connection named {name_or_id!r}: no connection profiles are saved "
            "yet (mlops-desktop connections add NAME --kind mlflow --url URL)."
        )
    known = ", ".join(repr(p.name) for p in profiles)
    return f"There is no connection named {name_or_id!r}; the connections are: {known}."


def _check_name_free(profiles: Sequence[Profile], name: str, except_id: str) -> None:
    for other in profiles:
        if other.profile_id != except_id and other.name.casefold() == name.casefold():
            raise ProfileNameTaken(
                f"A connection named {other.name!r} already exists: choose another name."
            )


def _free_name(name: str, taken: set[str]) -> str:
    """`name`, or the first of "name (2)", "name (3)"... not in `taken` (casefolded)."""
    if name.casefold() not in taken:
        return name
    number = 2
    while True:
        candidate = f"{name} ({number})"
        if candidate.casefold() not in taken:
            return candidate
        number += 1
