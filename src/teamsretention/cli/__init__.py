"""The command line: one module per command group (``run``: run and plan; ``pause``: pause and resume;
``demo``; ``simulator``; ``provision``; ``assignments``: assignments, ``tag`` and ``untag``; ``check``: the
preflight), the daemon (``daemon``), and what they share (``common``)."""

from __future__ import annotations

import sys

from . import assignments, check, demo, exemptions, pause, provision, run, simulator  # noqa: F401  (each registers its commands)
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
