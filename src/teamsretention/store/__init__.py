"""State: SQLAlchemy tables, Alembic migrations applied at start, and the cycle's repository."""

from .database import Database

__all__ = ["Database"]
