"""State: SQLAlchemy tables, Alembic migrations applied at start, and named functions per concern.

This package is the only place that imports SQLAlchemy or Alembic. Its modules:

- ``database``: :class:`Database` (engine, migrations, sessions for the modules below);
- ``recordings``, ``drives``, ``directory``: the inventory;
- ``digests``: digests and the warnings they carry;
- ``assignments``: client assignments and their tags; ``governance``: the facts read whole (``load``);
- ``exemptions``: exemptions and legal holds, and the Retention requests list items they came from;
- ``runs``, ``control``: run records, the cycle lock and the pause switch;
- ``health``: what the health and metrics endpoint reads (the latest cycles, sums, recordings by state and rule);
- ``audit``: the audit trail's one writer (and its verification);
- ``evidence``: pruning the personal data of old deletions once their evidence period is over;
- ``urls``: database URLs (parsing, masking their passwords).
"""

from .database import Database

__all__ = ["Database"]
