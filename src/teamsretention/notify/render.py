"""Turn a :class:`~teamsretention.notify.digest.Digest` into an :class:`~teamsretention.ports.OutgoingMail`.

The wording lives in ``templates/`` (one text and one HTML template per language, plus the short
phrases both share). This module prepares what the templates show: sorting, the summary of very long
digests, dates in words, and names made safe to print.

Recording names are chosen by whoever scheduled the meeting, so they are untrusted: the HTML templates
autoescape, control characters are removed before a name reaches the plain-text body, and only
http(s) links are ever rendered as links.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined

from ..ports import OutgoingMail
from .digest import DeletedItem, Digest, DigestItem, choose_digest_language

TEMPLATE_DIR = Path(__file__).with_name("templates")

_WEEKDAYS = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
           "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
# C0/C1 control characters, including newlines and tabs: a name must stay on its own line in the text body.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class DateCount:
    due: dt.date
    count: int


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """The items beyond ``max_items``: never dropped silently, counted per deletion date."""

    count: int
    last_due: dt.date
    per_date: list[DateCount]


@dataclass(frozen=True, slots=True)
class DeletedSummary:
    """Receipts beyond ``max_items``: how many, over which days, and the first restore deadline."""

    count: int
    first_deleted: dt.date
    last_deleted: dt.date
    first_restore_until: dt.date | None
    permanent: int


class TemplateLoader(BaseLoader):
    """Serves ``templates/``, and every template a second time under ``html/`` to be autoescaped.

    The shared phrases are used by the subject and the text body (plain) and by the HTML body. A macro
    called from an autoescaping template returns markup that is inserted as is, so phrases that print
    a name must themselves be compiled with autoescape for HTML, or the name would reach the HTML
    unescaped. Jinja2 decides autoescape from the template name it compiles, which is why the prefix
    is kept in the name (a PrefixLoader would compile under the unprefixed name).
    """

    def __init__(self, directory: Path) -> None:
        self.files = FileSystemLoader(directory)

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        return self.files.get_source(environment, template.removeprefix("html/"))


@functools.lru_cache(maxsize=1)
def load_environment() -> Environment:
    """One Jinja2 environment per process: templates are compiled once, it holds no connection."""
    env = Environment(
        loader=TemplateLoader(TEMPLATE_DIR),
        autoescape=is_html_template,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = format_day
    env.filters["iso"] = lambda value: value.isoformat()
    return env


def is_html_template(name: str | None) -> bool:
    return name is not None and (name.endswith(".html.j2") or name.startswith("html/"))


def format_day(value: dt.date, language: str) -> str:
    """Format as "2025-03-14 (fredag 14 mars)": the ISO date nobody misreads, then the day in words."""
    words = f"{_WEEKDAYS[language][value.weekday()]} {value.day} {_MONTHS[language][value.month - 1]}"
    return f"{value.isoformat()} ({words})"


def clean_text(value: str) -> str:
    """Collapse control characters (a newline in a name could fake lines in the text body) and trim."""
    return _CONTROL.sub(" ", value).strip()


def choose_link(url: str | None) -> str | None:
    """Only web links: a ``javascript:`` or ``file:`` URL is never turned into a link."""
    if url and re.match(r"^https?://", url.strip(), re.IGNORECASE) and not _CONTROL.search(url):
        return url.strip()
    return None


def name_person(digest: Digest) -> str:
    person = digest.organizer
    return clean_text(person.display_name or person.upn or person.mail or person.id)


def explain_fallback(digest: Digest) -> str:
    """Why the fallback contact got this: the specific cause when the directory told us."""
    person = digest.organizer
    if not person.account_enabled:
        return "disabled"
    if not person.mail:
        return "no_mailbox"
    return "unreachable"


def sort_items(items: list[DigestItem]) -> list[DigestItem]:
    return sorted(items, key=lambda item: (item.due, item.recorded_on, item.name))


def summarise_items(hidden: list[DigestItem]) -> ItemSummary | None:
    if not hidden:
        return None
    per_date = Counter(item.due for item in hidden)
    return ItemSummary(
        count=len(hidden),
        last_due=max(per_date),
        per_date=[DateCount(due, per_date[due]) for due in sorted(per_date)],
    )


def summarise_deleted(hidden: list[DeletedItem]) -> DeletedSummary | None:
    if not hidden:
        return None
    restorable = [item.restore_until for item in hidden if item.restore_until is not None]
    return DeletedSummary(
        count=len(hidden),
        first_deleted=min(item.deleted_on for item in hidden),
        last_deleted=max(item.deleted_on for item in hidden),
        first_restore_until=min(restorable) if restorable else None,
        permanent=len(hidden) - len(restorable),
    )


def build_context(digest: Digest, language: str, max_items: int, product_name: str) -> dict[str, Any]:
    items = sort_items(digest.items)
    deleted = sorted(digest.deleted, key=lambda item: (item.deleted_on, item.name))
    shown = [
        {
            "name": clean_text(item.name) or "?",
            "link": choose_link(item.web_url),
            "recorded_on": item.recorded_on,
            "due": item.due,
            "days_left": (item.due - digest.cycle_date).days,
            "rule": item.rule.split(":", 1)[0],
            "reason": clean_text(item.reason),
            "location": clean_text(item.location),
        }
        for item in items[:max_items]
    ]
    receipts = [
        {
            "name": clean_text(item.name) or "?",
            "deleted_on": item.deleted_on,
            "restore_until": item.restore_until,
        }
        for item in deleted[:max_items]
    ]
    return {
        "lang": language,
        "product_name": clean_text(product_name),
        "organizer_name": name_person(digest),
        "organizer_address": clean_text(digest.organizer.mail or digest.organizer.upn),
        "is_fallback": digest.recipient_is_fallback,
        "fallback_reason": explain_fallback(digest),
        "cycle_date": digest.cycle_date,
        "total": len(items),
        "first_due": items[0].due if items else None,
        "first_days_left": (items[0].due - digest.cycle_date).days if items else None,
        "items": shown,
        "more": summarise_items(items[max_items:]),
        "deleted": receipts,
        "deleted_total": len(deleted),
        "more_deleted": summarise_deleted(deleted[max_items:]),
        "any_restorable": any(item.restore_until is not None for item in deleted),
        "contact": clean_text(digest.contact) if digest.contact else None,
        "approvers": [clean_text(a) for a in digest.approvers if clean_text(a)],
        "requests_url": choose_link(digest.requests_url),
        "pending_grace_days": digest.pending_grace_days,
    }


def render_digest(digest: Digest, *, default_language: str, max_items: int = 50,
                  product_name: str = "teamsretention") -> OutgoingMail:
    """The mail for one digest, in the reader's language (see ``choose_digest_language``).

    Raises ValueError for a digest with nothing to say (no items and no receipts): an empty mail is a
    bug in the caller, and sending it would look like a warning that warns about nothing.
    """
    if max_items < 1:
        raise ValueError(f"max_items must be at least 1, not {max_items}")
    if not digest.items and not digest.deleted:
        raise ValueError("a digest needs at least one recording to warn about or one deletion to report")
    language = choose_digest_language(digest, default_language)
    context = build_context(digest, language, max_items, product_name)
    env = load_environment()
    phrases = env.get_template(f"_phrases.{language}.j2").make_module(context)
    subject = clean_text(str(phrases.subject()))  # type: ignore[attr-defined]
    text = env.get_template(f"digest.{language}.txt.j2").render(context)
    html = env.get_template(f"digest.{language}.html.j2").render(context)
    return OutgoingMail(
        to=[digest.recipient_address], subject=subject, text=text, html=html, language=language
    )
