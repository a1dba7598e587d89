"""The weekly digest to the DPO: pending requests with their age, legal holds due for review, decisions that
were ignored and why, exceptions ending soon. Plain data in, a mail out (``templates/dpo_digest.*``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..ports import OutgoingMail
from .digest import normalise_default
from .render import clean_text, load_environment

_SUBJECTS = {
    "en": "Recording exemptions, week {week}: {pending} pending, {review} holds to review, {ignored} ignored decisions",
    "sv": "Undantag för inspelningar, vecka {week}: {pending} väntar, {review} spärrar att granska, "
          "{ignored} ignorerade beslut",
}


@dataclass(frozen=True, slots=True)
class DpoEntry:
    """One exemption as the DPO sees it in the digest."""

    id: str
    kind: str  # legal_hold | exception
    target: str  # "recording drive/item", "organizer <id>", ...
    requested_by: str
    requested_on: dt.date
    reason: str
    legal_basis: str
    source: str  # cli | list
    on: dt.date | None = None  # pending: the grace's end; hold: review date; exception: its end


@dataclass(frozen=True, slots=True)
class IgnoredDecision:
    at: dt.datetime
    who: str
    what: str  # the sentence the cycle recorded (who, which exemption, why)


@dataclass(frozen=True, slots=True)
class DpoDigest:
    cycle_date: dt.date
    pending: list[DpoEntry] = field(default_factory=list)
    review: list[DpoEntry] = field(default_factory=list)
    ignored: list[IgnoredDecision] = field(default_factory=list)
    ending: list[DpoEntry] = field(default_factory=list)
    requests_url: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.pending or self.review or self.ignored or self.ending)


def _entry(e: DpoEntry, today: dt.date) -> dict[str, object]:
    return {"id": clean_text(e.id), "kind": e.kind, "target": clean_text(e.target),
            "requested_by": clean_text(e.requested_by), "requested_on": e.requested_on,
            "age": (today - e.requested_on).days, "reason": clean_text(e.reason),
            "legal_basis": clean_text(e.legal_basis), "source": e.source, "on": e.on,
            "days": (e.on - today).days if e.on else None}


def render_dpo_digest(digest: DpoDigest, *, to: list[str], language: str) -> OutgoingMail:
    lang = normalise_default(language)
    today = digest.cycle_date
    context = {
        "lang": lang, "cycle_date": today,
        "pending": [_entry(e, today) for e in digest.pending],
        "review": [_entry(e, today) for e in digest.review],
        "ending": [_entry(e, today) for e in digest.ending],
        "ignored": [{"at": i.at, "who": clean_text(i.who), "what": clean_text(i.what)} for i in digest.ignored],
        "requests_url": digest.requests_url if digest.requests_url and digest.requests_url.startswith("https://")
        else None,
    }
    env = load_environment()
    subject = _SUBJECTS[lang].format(week=today.isocalendar().week, pending=len(digest.pending),
                                     review=len(digest.review), ignored=len(digest.ignored))
    return OutgoingMail(to=list(to), subject=subject,
                        text=env.get_template(f"dpo_digest.{lang}.txt.j2").render(context),
                        html=env.get_template(f"dpo_digest.{lang}.html.j2").render(context), language=lang)
