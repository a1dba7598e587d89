"""Private files: what teamsretention keeps is personal data, for its own user only.

Its directories are 0700 and its files (the SQLite database, its journals, every export) 0600. A secret it
reads (a client secret, a certificate with its private key, a database URL with a password) must not be
readable by other users either: like ssh with a private key, it is refused rather than used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OTHERS = 0o077  # any permission for the group or for everyone else


class NotPrivate(Exception):
    """``path`` is open to other users (``mode``) and belongs to another user, so it cannot be tightened."""

    def __init__(self, path: Path, mode: int, owner: int) -> None:
        self.path, self.mode, self.owner = path, mode, owner
        super().__init__(path, mode, owner)

    def __str__(self) -> str:
        return f"{self.path} is open to other users (mode {mode_text(self.mode)}) and owned by uid {self.owner}"


def mode_text(mode: int) -> str:
    return f"{stat.S_IMODE(mode):04o}"


def is_posix() -> bool:
    return os.name == "posix"


def open_to_others(path: Path) -> int | None:
    """The mode of ``path`` when the group or other users have any permission on it, else None."""
    if not is_posix():
        return None
    mode = path.stat().st_mode
    return mode if mode & OTHERS else None


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with the directory itself 0700, whatever the umask. An existing
    directory is left as it is (see :func:`tighten`)."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if is_posix():
        os.chmod(path, PRIVATE_DIR)


def tighten(path: Path, private: int) -> int | None:
    """Make ``path`` private (``private``: 0700 or 0600) when others may access it. Returns the mode it had
    when it was changed, None when it was private already. Raises :class:`NotPrivate` when it belongs to
    another user (only its owner, or root, may change it; we do not act for them)."""
    mode = open_to_others(path)
    if mode is None:
        return None
    owner = path.stat().st_uid
    if owner != os.geteuid():
        raise NotPrivate(path, mode, owner)
    os.chmod(path, private)
    return mode


def create_private_file(path: Path) -> bool:
    """Create an empty file 0600 unless one exists; True when it was created here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, 0600 even when the file existed with a looser mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        if is_posix():
            os.fchmod(fh.fileno(), PRIVATE_FILE)
        fh.write(text)
