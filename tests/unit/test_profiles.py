"""Connection profiles on disk: atomic 0600 writes, a corrupt file kept aside, sharing without
secrets, names unique."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import pytest

from mlops_desktop.backends.errors import NotFound
from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind, TlsOptions
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.profiles import (
    FORMAT_VERSION,
    SECRET_WORDS,
    InvalidProfile,
    ProfileNameTaken,
    ProfilesFileUnreadable,
    ProfileStore,
    ProfileStoreError,
    UnsupportedProfilesFormat,
    new_profile_id,
)


def make_profile(name: str, **changes: object) -> Profile:
    fields: dict[str, object] = {
        "profile_id": new_profile_id(),
        "name": name,
        "kind": ProfileKind.MLFLOW,
        "url": f"https://{name.lower().replace(' ', '-')}.example.com",
    }
    fields.update(changes)
    return Profile(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "config" / "profiles.json")


def test_the_profiles_file_lives_in_the_config_dir() -> None:
    paths = AppPaths.from_environment()
    assert paths.profiles_file == paths.config_dir / "profiles.json"


def test_a_missing_file_means_no_profiles(store: ProfileStore) -> None:
    assert store.load() == []
    assert not store.path.exists()


def test_profiles_round_trip_with_every_field(store: ProfileStore) -> None:
    prod = make_profile(
        "prod",
        auth=AuthKind.BASIC,
        username="alice",
        tls=TlsOptions(verify=True, ca_bundle="/etc/ca.pem", client_cert="/c.pem"),
        proxy="http://proxy:3128",
        connect_timeout_s=2.5,
        read_timeout_s=60.0,
        colour="#d64545",
        label="prod",
        description="the real one",
    )
    local = make_profile("Local store", kind=ProfileKind.LOCAL, url="/data/mlruns")
    store.save(prod)
    store.save(local)
    assert store.load() == [prod, local]
    document = json.loads(store.path.read_text())
    assert document["format_version"] == FORMAT_VERSION == 1
    assert [entry["name"] for entry in document["profiles"]] == ["prod", "Local store"]
    assert document["profiles"][0]["kind"] == "mlflow"
    assert document["profiles"][0]["auth"] == "basic"


def test_the_file_is_private_and_written_atomically(
    store: ProfileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(make_profile("dev"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    before = store.path.read_bytes()

    # A crash between writing the temp file and renaming it leaves the old file whole and
    # no temp file behind.
    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        store.save(make_profile("staging"))
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["profiles.json"]
    assert [p.name for p in store.load()] == ["dev"]


def test_get_finds_by_id_name_or_name_in_any_case(store: ProfileStore) -> None:
    prod = make_profile("Prod")
    store.save(prod)
    assert store.get(prod.profile_id) == prod
    assert store.get("Prod") == prod
    assert store.get("prod") == prod


def test_an_unknown_name_is_a_sentence_naming_the_known_ones(store: ProfileStore) -> None:
    with pytest.raises(NotFound, match="no connection profiles are saved yet"):
        store.get("prod")
    store.save(make_profile("dev"))
    store.save(make_profile("staging"))
    with pytest.raises(NotFound) as caught:
        store.get("prod")
    assert str(caught.value) == (
        "There is no connection named 'prod'; the connections are: 'dev', 'staging'."
    )


def test_names_are_unique_ignoring_case_and_saving_an_id_again_replaces(
    store: ProfileStore,
) -> None:
    dev = make_profile("dev")
    store.save(dev)
    with pytest.raises(ProfileNameTaken, match="A connection named 'dev' already exists"):
        store.save(make_profile("DEV"))
    assert issubclass(ProfileNameTaken, ValueError)
    edited = dataclasses.replace(dev, name="Dev", url="https://new.example.com")
    store.save(edited)
    assert store.load() == [edited]


def test_an_invalid_profile_is_refused_with_a_sentence(store: ProfileStore) -> None:
    with pytest.raises(InvalidProfile, match="URL must start with http"):
        store.save(make_profile("ftp", url="ftp://files.example.com"))
    with pytest.raises(InvalidProfile, match="Remove the password from the URL"):
        store.save(make_profile("leaky", url="https://alice:hunter2@mlflow.example.com"))
    assert not store.path.exists()


def test_remove_returns_the_profile(store: ProfileStore) -> None:
    dev, prod = make_profile("dev"), make_profile("prod")
    store.save(dev)
    store.save(prod)
    assert store.remove("dev") == dev
    assert store.load() == [prod]
    with pytest.raises(NotFound, match="'prod'"):
        store.remove("dev")


def test_duplicate_makes_a_copy_with_a_new_id(store: ProfileStore) -> None:
    prod = make_profile("prod", label="prod", auth=AuthKind.BEARER)
    store.save(prod)
    copy = store.duplicate("prod")
    assert copy.name == "prod (copy)"
    assert copy.profile_id != prod.profile_id
    assert dataclasses.replace(copy, profile_id=prod.profile_id, name="prod") == prod
    assert store.duplicate("prod").name == "prod (copy 2)"
    assert store.duplicate(prod.profile_id, new_name="prod-eu").name == "prod-eu"
    with pytest.raises(ProfileNameTaken):
        store.duplicate("prod", new_name="PROD-EU")
    assert [p.name for p in store.load()] == ["prod", "prod (copy)", "prod (copy 2)", "prod-eu"]


# -- a corrupt file -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"format_version": 1, "profiles": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (b'["a", "list"]', "not a profiles file"),
        (b'{"format_version": 1, "profiles": [{"name": "x"}]}', "lacks its 'profile_id'"),
        (
            b'{"format_version": 1, "profiles": [{"profile_id": "a", "name": "x", '
            b'"kind": "mainframe"}]}',
            "unknown kind 'mainframe'",
        ),
        (b'{"format_version": 7, "profiles": []}', "format version 7"),
    ],
)
def test_a_corrupt_file_is_kept_aside_and_reported(
    store: ProfileStore, content: bytes, problem: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)
    with pytest.raises(ProfilesFileUnreadable) as caught:
        store.load()
    backup = caught.value.backup
    assert backup is not None and backup.name.startswith("profiles.json.corrupt-")
    assert backup.read_bytes() == content
    message = str(caught.value)
    assert message.startswith(f"The connection profiles file {store.path} was unreadable (")
    assert problem in message
    assert message.endswith(f"has been kept as {backup}; the app starts with no profiles.")

    # The app goes on with no profiles, and saving never touches the kept copy.
    assert store.load() == []
    store.save(make_profile("dev"))
    assert [p.name for p in store.load()] == ["dev"]
    assert backup.read_bytes() == content


def test_two_corrupt_files_in_the_same_second_get_two_backups(store: ProfileStore) -> None:
    store.path.parent.mkdir(parents=True)
    for content in (b"{broken one", b"{broken two"):
        store.path.write_bytes(content)
        with pytest.raises(ProfilesFileUnreadable):
            store.load()
    backups = sorted(store.path.parent.glob("profiles.json.corrupt-*"))
    assert sorted(p.read_bytes() for p in backups) == [b"{broken one", b"{broken two"]


def test_an_unreadable_file_is_never_overwritten(store: ProfileStore) -> None:
    if os.geteuid() == 0:
        # Root reads any file; a directory in place of the file is unreadable for anyone.
        store.path.mkdir(parents=True)
        (store.path / "keep.txt").write_text("user data")
    else:
        store.path.parent.mkdir(parents=True)
        store.path.write_text("{}")
        store.path.chmod(0)
    with pytest.raises(ProfilesFileUnreadable) as caught:
        store.load()
    assert caught.value.backup is not None and caught.value.backup.exists()
    assert "could not be read" in str(caught.value)


# -- export and import ---------------------------------------------------------------------------


def test_export_then_import_shares_profiles(store: ProfileStore, tmp_path: Path) -> None:
    prod = make_profile("prod", auth=AuthKind.BASIC, username="alice", label="prod")
    dev = make_profile("dev")
    store.save(prod)
    store.save(dev)
    shared = tmp_path / "team.json"
    assert store.export(shared, ["prod"]) == 1
    assert json.loads(shared.read_text())["format_version"] == 1
    assert store.export(tmp_path / "all.json") == 2
    with pytest.raises(NotFound, match="'nope'"):
        store.export(tmp_path / "x.json", ["nope"])

    teammate = ProfileStore(tmp_path / "teammate" / "profiles.json")
    assert teammate.import_file(shared) == [prod]  # the id is kept: no clash
    assert teammate.load() == [prod]


def test_import_renames_on_a_name_clash_and_renews_a_clashing_id(
    store: ProfileStore, tmp_path: Path
) -> None:
    prod = make_profile("prod")
    store.save(prod)
    store.export(tmp_path / "mine.json")
    imported = store.import_file(tmp_path / "mine.json")
    assert [p.name for p in imported] == ["prod (2)"]
    assert imported[0].profile_id != prod.profile_id
    again = store.import_file(tmp_path / "mine.json")
    assert [p.name for p in again] == ["prod (3)"]
    assert len({p.profile_id for p in store.load()}) == 3


def test_import_never_reads_a_secret(store: ProfileStore, tmp_path: Path) -> None:
    document = {
        "format_version": 1,
        "profiles": [
            {
                "profile_id": new_profile_id(),
                "name": "shared",
                "kind": "mlflow",
                "url": "https://mlflow.example.com",
                "auth": "basic",
                "username": "bob",
                "password": "bobs-password-123",
                "token": "bobs-token-456",
                "tls": {"verify": True, "client_key_passphrase": "bobs-passphrase-789"},
            }
        ],
    }
    source = tmp_path / "with-secrets.json"
    source.write_text(json.dumps(document))
    [imported] = store.import_file(source)
    assert imported.username == "bob"
    written = store.path.read_text()
    for secret in ("bobs-password-123", "bobs-token-456", "bobs-passphrase-789"):
        assert secret not in written
        assert secret not in repr(imported)


def test_import_refuses_an_unknown_format_version(store: ProfileStore, tmp_path: Path) -> None:
    source = tmp_path / "future.json"
    source.write_text(json.dumps({"format_version": 2, "profiles": []}))
    with pytest.raises(UnsupportedProfilesFormat, match=r"format version 2.*reads version 1"):
        store.import_file(source)
    assert not store.path.exists()


def test_import_of_a_bad_file_imports_nothing(store: ProfileStore, tmp_path: Path) -> None:
    store.save(make_profile("dev"))
    good = make_profile("fine")
    leaky = make_profile("leaky", url="https://bob:pw@mlflow.example.com")
    source = tmp_path / "mixed.json"
    source.write_text(
        json.dumps(
            {
                "format_version": 1,
                "profiles": [
                    {**dataclasses.asdict(p), "kind": p.kind.value, "auth": p.auth.value}
                    for p in (good, leaky)
                ],
            }
        )
    )
    with pytest.raises(ProfileStoreError, match=r"Nothing was imported from .*password"):
        store.import_file(source)
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(ProfileStoreError, match=r"Nothing was imported from .*not valid JSON"):
        store.import_file(tmp_path / "junk.json")
    with pytest.raises(ProfileStoreError, match="Could not read"):
        store.import_file(tmp_path / "missing.json")
    assert [p.name for p in store.load()] == ["dev"]


def test_a_profile_has_no_field_that_could_hold_a_secret() -> None:
    names = [f.name for f in dataclasses.fields(Profile)] + [
        f.name for f in dataclasses.fields(TlsOptions)
    ]
    assert not [name for name in names if any(word in name for word in SECRET_WORDS)]


def test_ids_are_unique_hex() -> None:
    ids = {new_profile_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
