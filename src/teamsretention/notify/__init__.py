"""Digests to meeting organizers: what will be deleted, how to keep it, what was deleted.

``digest`` holds the data the cycle fills in, ``render`` turns one digest into an
:class:`~teamsretention.ports.OutgoingMail` with the Jinja2 templates in ``templates/``.
"""

from __future__ import annotations

from .digest import DeletedItem, Digest, DigestItem, choose_digest_language, choose_language
from .render import render_digest

__all__ = [
    "DeletedItem",
    "Digest",
    "DigestItem",
    "choose_digest_language",
    "choose_language",
    "render_digest",
]
