"""Opening the state store safely: is it there (and may this command create it), is it private, is it sound.

Every message names the store (its file, or its URL without the password), says what is wrong and what to
do; :class:`~teamsretention.errors.StoreSetupError` (exit 2) when the configuration points somewhere
unusable, :class:`~teamsretention.errors.StoreError` (exit 1) when something goes wrong at run time.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import structlog
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import StoreDamaged, StoreError, StoreNotFound, StoreSetupError
from ..files import PRIVATE_DIR, PRIVATE_FILE, NotPrivate, create_private_file, make_private_dir, mode_text, tighten
from .urls import mask_database_url, password_of

log = structlog.get_logger(__name__)

SIDE_FILES = ("-journal", "-wal", "-shm")  # SQLite's journals: as private as the database itself
FIRST_RUN = "the first `teamsretention plan` or `teamsretention run` creates it."


def _from(origin: str) -> str:
    return f" ({origin})" if origin else ""


def prepare_sqlite(path: Path, *, create: bool, state_dir: Path | None, origin: str) -> bool:
    """Before SQLite opens ``path``: its directory exists (0700 when created here), is a directory, is
    writable; the file exists unless ``create``; both are private (tightened when ours, refused when not).
    Returns True when the file was created here (empty, 0600), so there is nothing to check yet."""
    where = _from(origin)
    if path.is_dir():
        raise StoreSetupError(f"state store {path}{where}: is a directory, not a database file; point the "
                              "setting at a file name, or remove the directory")
    if not path.exists():
        if not create:
            raise StoreNotFound(f"no state store at {path}{where}. This command uses an existing store and "
                                "never creates one: check that it runs with the daemon's configuration (the same "
                                "--config file and TEAMSRETENTION_* variables as the service; the systemd unit in "
                                f"deploy/ keeps its store in /var/lib/teamsretention); {FIRST_RUN}")
        _make_directory(path.parent, where)
    directory = path.parent
    if state_dir is not None and directory.resolve() == state_dir.expanduser().resolve():
        _make_private(directory, PRIVATE_DIR, "state directory", where, "700")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreSetupError(f"state store {path}{where}: the directory {directory} is not writable by "
                              f"{_user()} (SQLite writes its journal next to the database); give that user write "
                              "access to it, or point state.directory elsewhere")
    created = create_private_file(path) if create else False
    if not created:
        _make_private(path, PRIVATE_FILE, "state database", where, "600")
        for suffix in SIDE_FILES:
            side = path.with_name(path.name + suffix)
            if side.exists():
                _make_private(side, PRIVATE_FILE, "state database journal", where, "600")
        if not os.access(path, os.R_OK | os.W_OK):
            raise StoreSetupError(f"state store {path}{where}: the file is not readable and writable by "
                                  f"{_user()}; run the command as the user the daemon runs as")
    return created


def _make_directory(directory: Path, where: str) -> None:
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise StoreSetupError(f"state directory {directory}{where}: cannot be created, {existing} is a file, "
                              "not a directory; point state.directory elsewhere")
    try:
        make_private_dir(directory)
    except OSError as exc:
        raise StoreSetupError(f"state directory {directory}{where}: cannot be created ({exc.strerror}); create "
                              f"it for {_user()} (mode 700), or point state.directory elsewhere") from None


def _make_private(path: Path, private: int, what: str, where: str, fix: str) -> None:
    try:
        was = tighten(path, private)
    except NotPrivate as exc:
        raise StoreSetupError(f"{what} {path}{where}: other users can access it (mode {mode_text(exc.mode)}) and "
                              f"it belongs to uid {exc.owner}, not to {_user()}, so it is not changed here; as its "
                              f"owner run `chmod {fix} {path}`") from None
    if was is not None:
        log.warning("store.permissions_tightened", path=str(path), was=mode_text(was), now=mode_text(private),
                    reason=f"the {what} holds personal data: only its owner may read it")


def _user() -> str:
    try:
        return f"user {getpass.getuser()} (uid {os.geteuid()})"
    except (KeyError, OSError):
        return f"uid {os.geteuid()}"


# --- after connecting -----------------------------------------------------------------------------------
def check_integrity(engine: Engine, path: Path) -> None:
    """``PRAGMA quick_check`` (cheap; the full integrity_check reads every index too): a damaged store is
    refused before anything reads from or writes to it."""
    with engine.connect() as conn:
        problems = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise damaged(path, problems[0] if problems else "no answer")


def damaged(path: Path, problem: str) -> StoreDamaged:
    return StoreDamaged(
        f"state store {path} is damaged ({problem}); it was not used and nothing was changed. To restore it: stop "
        f"the daemon, move the damaged file aside with its journals (`mv {path} {path}.damaged`, and the same for "
        f"{path.name}-wal and {path.name}-shm if they exist), copy the last backup to {path} (`chmod 600` it), "
        "then check it with `teamsretention plan`. Without a backup, once the damaged file is moved aside the next "
        "`plan` or `run` starts an empty store: keep the damaged copy, it holds the audit trail.")


def require_schema(engine: Engine, location: str, origin: str) -> None:
    """For commands that never create a store: the database must hold one (migrated by a cycle)."""
    if not inspect(engine).has_table("alembic_version"):
        raise StoreNotFound(f"no state store in {location}{_from(origin)}: the database is reachable but holds "
                            "no teamsretention tables. This command uses an existing store and never creates "
                            "one: check that it runs with the daemon's configuration; " + FIRST_RUN)


def location_of(url: str, sqlite_file: str | None) -> str:
    """How an operator is shown the store: the file, or the URL without its password."""
    return str(Path(sqlite_file)) if sqlite_file else mask_database_url(url)


def describe(exc: SQLAlchemyError, url: str) -> str:
    """The driver's reason in one line, never with the URL's password."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    lines = str(orig if orig is not None else exc).strip().splitlines()
    text = lines[0][:300] if lines else ""
    secret = password_of(url)
    if secret:
        text = text.replace(secret, "***")
    name = type(orig).__name__ if orig is not None else type(exc).__name__
    return f"{name}: {text}" if text else name


def store_error(exc: SQLAlchemyError, location: str, url: str, sqlite_file: str | None) -> StoreError:
    """What an SQLAlchemy error while opening or using the store means to an operator."""
    reason = describe(exc, url).lower()
    if sqlite_file and "locked" in reason:
        return StoreError(f"state store {location}: the database file is locked by another process (waited for "
                          "its write to end, in vain); find it with `fuser` or `lsof`, let it finish, then try again")
    if sqlite_file and ("not a database" in reason or "malformed" in reason):
        return damaged(Path(sqlite_file), describe(exc, url))
    if sqlite_file and "readonly" in reason:
        return StoreError(f"state store {location}: the database is read-only to {_user()} ({describe(exc, url)})")
    verb = "cannot be opened" if sqlite_file else "cannot be reached or used"
    return StoreError(f"state store {location} {verb}: {describe(exc, url)}")
