"""What one digest says, as plain data, and which language it is written in.

The cycle sends one digest per organizer per cycle (design §3 step 3). It fills in a :class:`Digest`;
``render.render_digest`` turns it into a mail. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..domain import Person

SUPPORTED_LANGUAGES = ("sv", "en")


@dataclass(frozen=True, slots=True)
class DigestItem:
    """A recording that will be deleted unless someone acts."""

    name: str
    web_url: str | None
    recorded_on: dt.date
    due: dt.date  # the effective deletion date the cycle promises (never brought forward)
    rule: str  # the Decision's rule code: why this is the date
    reason: str  # the Decision's sentence (English, for the DPO); shown only for rules we have no words for
    location: str  # "OneDrive" or "Team X / Channel Y"


@dataclass(frozen=True, slots=True)
class DeletedItem:
    """A recording deleted since the previous digest to the same organizer."""

    name: str
    deleted_on: dt.date
    restore_until: dt.date | None  # last day it can be restored from the recycle bin; None: permanent


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one mail to one recipient about one organizer's recordings says."""

    organizer: Person
    recipient_address: str
    recipient_is_fallback: bool  # True: sent to the fallback contact on the organizer's behalf
    cycle_date: dt.date
    items: list[DigestItem] = field(default_factory=list)
    deleted: list[DeletedItem] = field(default_factory=list)
    contact: str | None = None  # whom to ask about tagging or exemptions (notifications.contact)
    approvers: list[str] = field(default_factory=list)  # the DPO and IT admins who approve exemptions
    requests_url: str | None = None  # the Retention requests list (None: no lists configured, or never read)
    pending_grace_days: int | None = None  # how long a pending request keeps a recording
    # The reader's language tag when the cycle knows it better than the organizer's preferredLanguage
    # (for example the fallback contact's own); None: decided by choose_digest_language.
    language: str | None = None


def normalise_default(default: str) -> str:
    """The configured ``notifications.language``; settings validate it, this guards direct callers."""
    value = default.strip().lower()
    if value not in SUPPORTED_LANGUAGES:
        supported = ", ".join(SUPPORTED_LANGUAGES)
        raise ValueError(f"notification language must be one of {supported}, not {default!r}")
    return value


def language_for_tag(tag: str | None, default: str) -> str:
    """Map a language tag to "sv" or "en"; anything else gets the configured default.

    Graph's ``preferredLanguage`` is an ISO 639-1 / BCP 47 style tag ("sv-SE", "en-US") but it is free
    text set by admins and sync tools, so case, underscores ("sv_SE") and stray spaces are tolerated.
    """
    fallback = normalise_default(default)
    if not tag:
        return fallback
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else fallback


def choose_language(person: Person, default: str) -> str:
    """The language ("sv" | "en") to write to ``person`` in."""
    return language_for_tag(person.preferred_language, default)


def choose_digest_language(digest: Digest, default: str) -> str:
    """The language of one digest.

    An explicit ``digest.language`` wins. A fallback contact is not the organizer, so the organizer's
    preference says nothing about them: they get the organisation's configured language.
    """
    if digest.language:
        return language_for_tag(digest.language, default)
    if digest.recipient_is_fallback:
        return normalise_default(default)
    return choose_language(digest.organizer, default)
