"""The ``[ha]`` section: several daemons sharing one PostgreSQL store, one of them running each cycle.

The cycle lock is a lease: the daemon running a cycle renews it every third of ``lease_seconds``; one that
dies or hangs stops renewing, and once the lease has run out a standby takes it over and runs that date's
cycle. The other daemons, finding the lease held, try again every ``standby_retry_seconds``.
"""

from __future__ import annotations

from pydantic import field_validator

from .sections import _Section

MIN_LEASE_SECONDS = 3  # renewed every second: any shorter and one slow store round trip loses it
MAX_LEASE_SECONDS = 7200  # a dead leader's date is taken over after at most this long
MAX_RETRY_SECONDS = 3600


class HaSettings(_Section):
    lease_seconds: int = 300
    standby_retry_seconds: int = 60

    @field_validator("lease_seconds")
    @classmethod
    def _check_lease(cls, value: int) -> int:
        if not MIN_LEASE_SECONDS <= value <= MAX_LEASE_SECONDS:
            raise ValueError(f"must be from {MIN_LEASE_SECONDS} to {MAX_LEASE_SECONDS} seconds (300 is the default): "
                             "how long a daemon that died or hangs keeps the cycle lock before another takes over")
        return value

    @field_validator("standby_retry_seconds")
    @classmethod
    def _check_retry(cls, value: int) -> int:
        if not 1 <= value <= MAX_RETRY_SECONDS:
            raise ValueError(f"must be from 1 to {MAX_RETRY_SECONDS} seconds (60 is the default): how often a "
                             "daemon finding the cycle lock held tries again")
        return value
