"""Database URLs: the store's own business, so SQLAlchemy parses them (settings ask here).

A URL may carry a password (in its userinfo or a ``password=`` query parameter): that makes it a secret,
never shown whole in a message, a log line or the run record.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"


def password_of(url: str) -> str | None:
    """The password in a database URL, if any."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Unparsable (validation reports it), yet it may still carry "user:password@": err towards secret.
        match = re.search(r"://[^/@:]*:([^/@]+)@", url)
        return match[1] if match else None
    password = parsed.password or parsed.query.get("password")
    return str(password) if password else None


def mask_database_url(url: str) -> str:
    """The URL with its password replaced by ``***``; ``***`` alone when it cannot be parsed."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return MASK  # cannot tell where a password would be: show nothing
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": MASK})
    return parsed.render_as_string(hide_password=True)


def is_database_url(url: str) -> bool:
    return mask_database_url(url) != MASK


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return parsed.database
