"""Opening the state store: private files, a damaged or locked database, places it cannot live.

Each problem is one StoreError naming the file and the reason; ``exit_code`` 2 for configuration (where
the store is put), 1 for what happens at run time (locked, damaged).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from teamsretention.errors import StoreDamaged, StoreError, StoreNotFound, StoreSetupError
from teamsretention.store import Database, control, database

from ..cycle.test_cycle import at

AS_ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_a_new_store_is_private_with_its_journals(tmp_path):
    state = tmp_path / "state"
    db = Database(url(state / "teamsretention.db"), state_dir=state)
    try:
        control.set_paused(db, True, reason="check", by="it", now=at(0))
        with db.engine.connect() as conn:  # WAL and shared memory exist while a connection is open
            conn.exec_driver_sql("SELECT count(*) FROM audit")
            files = sorted(p.name for p in state.iterdir())
            assert files == ["teamsretention.db", "teamsretention.db-shm", "teamsretention.db-wal"]
            assert {p.name: mode(p) for p in state.iterdir()} == dict.fromkeys(files, 0o600)
        assert mode(state) == 0o700
    finally:
        db.dispose()


def test_an_existing_store_open_to_others_is_tightened_and_says_so(tmp_path):
    state = tmp_path / "state"
    Database(url(state / "teamsretention.db"), state_dir=state).dispose()
    state.chmod(0o755)
    (state / "teamsretention.db").chmod(0o644)
    with capture_logs() as logs:
        Database(url(state / "teamsretention.db"), state_dir=state, create=False).dispose()
    assert mode(state) == 0o700 and mode(state / "teamsretention.db") == 0o600
    tightened = {(e["path"], e["was"], e["now"]) for e in logs if e["event"] == "store.permissions_tightened"}
    assert tightened == {(str(state), "0755", "0700"), (str(state / "teamsretention.db"), "0644", "0600")}


@pytest.mark.skipif(not AS_ROOT, reason="giving a file to another user needs root")
def test_a_store_open_to_others_and_owned_by_another_user_is_refused(tmp_path):
    path = tmp_path / "teamsretention.db"
    Database(url(path)).dispose()
    path.chmod(0o644)
    os.chown(path, 65534, 65534)
    with pytest.raises(StoreSetupError) as refused:
        Database(url(path), origin="state.directory from file /etc/teamsretention.toml")
    message = str(refused.value)
    assert str(path) in message and "mode 0644" in message and f"chmod 600 {path}" in message
    assert "state.directory from file /etc/teamsretention.toml" in message and refused.value.exit_code == 2
    assert mode(path) == 0o644  # not ours to change


def test_a_missing_store_is_not_created_when_create_is_false(tmp_path):
    state = tmp_path / "state"
    with pytest.raises(StoreNotFound) as missing:
        Database(url(state / "teamsretention.db"), create=False, state_dir=state, origin="the default")
    assert str(state / "teamsretention.db") in str(missing.value) and missing.value.exit_code == 2
    assert not state.exists()


def test_an_empty_file_is_no_store_for_a_command_that_never_creates_one(tmp_path):
    (tmp_path / "teamsretention.db").touch(mode=0o600)
    with pytest.raises(StoreNotFound, match="holds no teamsretention tables"):
        Database(url(tmp_path / "teamsretention.db"), create=False)


def _corrupt_pages(path: Path) -> None:
    """Garbage over every page but the first: the header still says SQLite, the b-trees are broken."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for offset in range(page, len(data), page):
        data[offset:offset + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))


def _corrupt_header(path: Path) -> None:
    path.write_bytes(b"this is not a database at all" * 200)


@pytest.mark.parametrize("corrupt", [_corrupt_pages, _corrupt_header], ids=["pages", "header"])
def test_a_damaged_store_is_refused_with_the_way_to_restore_it(tmp_path, corrupt):
    path = tmp_path / "teamsretention.db"
    db = Database(url(path))
    control.set_paused(db, True, reason="before the damage", by="it", now=at(0))
    db.dispose()
    with sqlite3.connect(path) as conn:  # everything in the main file, nothing left in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    corrupt(path)
    damaged = path.read_bytes()
    with pytest.raises(StoreDamaged) as refused:
        Database(url(path))
    message = str(refused.value)
    assert message.startswith(f"state store {path} is damaged (")
    assert f"mv {path} {path}.damaged" in message and "last backup" in message and refused.value.exit_code == 1
    assert path.read_bytes() == damaged  # nothing was written to it


def test_a_file_locked_by_another_process_is_read_and_its_first_write_is_one_line_with_the_path(tmp_path, monkeypatch):
    """A store at the newest migration is opened without a write: while another process holds the write lock,
    reads go on (WAL), and the first write waits out the busy timeout, then fails naming the file and what to do,
    having written nothing."""
    path = tmp_path / "teamsretention.db"
    Database(url(path)).dispose()
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        db = Database(url(path))
        assert control.lock_state(db).holder is None
        with pytest.raises(StoreError) as locked:
            control.acquire_lock(db, "host-a", at(0), dt.timedelta(minutes=5))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(locked.value) == (f"state store {path}: the database file is locked by another process (waited for "
                                 "its write to end, in vain); find it with `fuser` or `lsof`, let it finish, then "
                                 "try again")
    assert locked.value.exit_code == 1
    assert control.lock_state(db).holder is None  # nothing was written
    db.dispose()


def test_a_state_directory_that_is_a_file_cannot_hold_the_store(tmp_path):
    (tmp_path / "state").write_text("")
    with pytest.raises(StoreSetupError) as refused:
        Database(url(tmp_path / "state" / "teamsretention.db"), origin="state.directory from X")
    assert str(refused.value) == (f"state directory {tmp_path / 'state'} (state.directory from X): cannot be created, "
                                  f"{tmp_path / 'state'} is a file, not a directory; point state.directory elsewhere")


def test_a_store_path_that_is_a_directory_is_refused(tmp_path):
    (tmp_path / "teamsretention.db").mkdir()
    with pytest.raises(StoreSetupError, match="is a directory, not a database file"):
        Database(url(tmp_path / "teamsretention.db"))


def test_a_directory_that_cannot_be_created_names_the_reason():
    with pytest.raises(StoreSetupError) as refused:
        Database(url(Path("/proc/teamsretention-state/teamsretention.db")))
    assert str(refused.value).startswith("state directory /proc/teamsretention-state: cannot be created (")
    assert refused.value.exit_code == 2


@pytest.mark.skipif(AS_ROOT, reason="root may write to any directory")
def test_an_unwritable_state_directory_is_refused(tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o500)
    try:
        with pytest.raises(StoreSetupError, match="is not writable by"):
            Database(url(state / "teamsretention.db"))
    finally:
        state.chmod(0o700)
