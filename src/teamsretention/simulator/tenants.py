"""Built-in tenants: the demo tenant behind ``teamsretention demo`` and a generated benchmark tenant.

Both are deterministic (seeded RNG): the same epoch gives the same ids, names, ages and times of day.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .events import MP4, recording_name
from .model import TenantModel

DEMO_DOMAIN = "contoso.example"
DEMO_SENDER = f"retention@{DEMO_DOMAIN}"  # the mailbox digests are sent from
DEMO_FALLBACK = f"it-support@{DEMO_DOMAIN}"  # gets digests of organizers nobody can mail
DEMO_DPO = f"dpo@{DEMO_DOMAIN}"

# (key, display name, preferred language); special cases are adjusted in _demo_users.
_PEOPLE = [
    ("anna.berg", "Anna Berg", "sv-SE"),
    ("erik.lind", "Erik Lind", "sv-SE"),
    ("maria.holm", "Maria Holm", "en-US"),
    ("johan.ek", "Johan Ek", None),
    ("sara.nilsson", "Sara Nilsson", "sv-SE"),
    ("lars.strom", "Lars Ström", "sv-SE"),
    ("emma.wong", "Emma Wong", "en-US"),
    ("oskar.dahl", "Oskar Dahl", "sv-SE"),
    ("lina.sjoberg", "Lina Sjöberg", None),
    ("peter.cole", "Peter Cole", "en-US"),
    ("karin.fors", "Karin Fors", "sv-SE"),
    ("nils.berg", "Nils Berg", "sv-SE"),
    ("ida.lund", "Ida Lund", "en-US"),
    ("david.park", "David Park", "en-US"),
    ("frida.ahl", "Frida Åhl", "sv-SE"),
    ("magnus.ros", "Magnus Ros", None),
    ("sofia.bjork", "Sofia Björk", "sv-SE"),
    ("tom.hardy", "Tom Hardy", "en-US"),
    ("elin.vik", "Elin Vik", "sv-SE"),
    ("gustav.nord", "Gustav Nord", "sv-SE"),
    ("hanna.falk", "Hanna Falk", None),
    ("kalle.konsult", "Kalle Konsult", "sv-SE"),
    ("julia.moss", "Julia Moss", "en-US"),
    ("viktor.sand", "Viktor Sand", "sv-SE"),
]
NO_ONEDRIVE = "lars.strom"  # never signed in to OneDrive: GET /users/{id}/drive answers 404
DISABLED = "oskar.dahl"  # left the company: account disabled, mailbox still there
NO_MAILBOX = "kalle.konsult"  # external consultant without an Exchange licence: mail is null

_SUBJECTS = [
    "Weekly sync",
    "Client kickoff",
    "Sprint review",
    "Budget review",
    "Design workshop",
    "Onboarding",
    "Steering group",
    "Retrospective",
    "Sales pipeline",
    "Architecture review",
    "Town hall",
    "Customer demo",
    "Quarterly planning",
    "Incident review",
    "1-1",
]


def _demo_users() -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    for key, name, lang in _PEOPLE:
        user: dict[str, Any] = {"key": key, "display_name": name, "preferred_language": lang}
        if key == NO_ONEDRIVE:
            user["has_onedrive"] = False
        if key == DISABLED:
            user["account_enabled"] = False
        if key == NO_MAILBOX:
            user["mail"] = ""
        users.append(user)
    users += [
        {"key": "retention", "display_name": "Recording Retention", "has_onedrive": False},
        {"key": "it-support", "display_name": "IT Support", "preferred_language": "sv-SE"},
        {"key": "dpo", "display_name": "Data Protection Officer", "preferred_language": "sv-SE"},
    ]
    return users


def build_demo_tenant(epoch: dt.datetime, *, records_site: bool = False) -> TenantModel:
    """The tenant behind ``teamsretention demo``: 27 users, 2 teams, about 120 recordings aged 0-60 days
    and the awkward cases a real tenant has (see the module constants and the comments below).
    ``records_site``: also the site the governance lists live in (https://contoso.sharepoint.com/sites/records),
    added last, so every other id stays what it is without it."""
    from .scenario import populate

    rng = random.Random(20240601)
    organizers = [k for k, _, _ in _PEOPLE if k != NO_ONEDRIVE][:20]
    recordings: list[dict[str, Any]] = []
    slots: list[tuple[str, str | None]] = [(org, None) for org in organizers for _ in range(5)]
    slots += [
        (org, ch)
        for org, ch in [
            ("anna.berg", "delivery/General"),
            ("erik.lind", "delivery/General"),
            ("maria.holm", "delivery/General"),
            ("johan.ek", "delivery/Falcon Project"),
            ("anna.berg", "delivery/Falcon Project"),
            ("sara.nilsson", "delivery/Falcon Project"),
            ("emma.wong", "delivery/Falcon Project"),
            ("peter.cole", "sales/General"),
            ("ida.lund", "sales/General"),
            ("tom.hardy", "sales/General"),
            ("david.park", "sales/Key Accounts"),
            ("julia.moss", "sales/Key Accounts"),
            ("karin.fors", "sales/Key Accounts"),
            ("nils.berg", "sales/Key Accounts"),
        ]
    ]
    ages = [i * 60 / (len(slots) - 1) for i in range(len(slots))]  # 0..60 evenly, then shuffled
    rng.shuffle(ages)
    for n, ((org, channel), age) in enumerate(zip(slots, ages, strict=True)):
        rec: dict[str, Any] = {
            "key": f"rec-{n:03d}",
            "organizer": org,
            "subject": rng.choice(_SUBJECTS),
            "age_days": round(age),
            "time": _time_of_day(rng),
            "size": rng.randrange(20_000_000, 900_000_000),
        }
        if channel:
            rec["channel"] = channel
        recordings.append(rec)
    # Kept by Purview: a retain label that does not allow deletion.
    recordings.append(
        {
            "key": "demo-labelled",
            "organizer": "anna.berg",
            "subject": "Contract negotiation",
            "age_days": 45,
            "time": "13:05",
            "label": {"name": "Legal - Contracts 10y", "behavior": "retain", "is_delete_allowed": False},
        }
    )
    # Open in a player for the first days of the month: deletes answer 423 until day 10 (knob below).
    recordings.append(
        {
            "key": "demo-locked",
            "organizer": "johan.ek",
            "subject": "Vendor call",
            "age_days": 40,
            "time": "10:20",
        }
    )
    files = [
        # A home video in a Recordings folder: a video, but no Teams facets -> never a recording.
        {
            "key": "demo-holiday",
            "owner": "erik.lind",
            "folder": "Recordings",
            "name": "Holiday clip.mp4",
            "mime_type": MP4,
            "age_days": 50,
            "size": 120_000_000,
        },
        {
            "owner": "anna.berg",
            "folder": "Recordings",
            "name": "Weekly sync-Meeting Transcript.vtt",
            "mime_type": "text/vtt",
            "age_days": 33,
        },
        {
            "owner": "maria.holm",
            "name": "Meeting notes.docx",
            "age_days": 38,
            "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        },
        {
            "owner": "peter.cole",
            "name": "Budget 2025.xlsx",
            "age_days": 70,
            "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
        {"channel": "sales/General", "name": "Agenda.pdf", "mime_type": "application/pdf", "age_days": 44},
    ]
    events: list[dict[str, Any]] = [
        # Appears late: uploaded on day 12, recorded 35 days before that.
        {
            "day": 12,
            "hours": 2,
            "kind": "add_recording",
            "key": "demo-late",
            "organizer": "maria.holm",
            "subject": "Board prep",
            "age_days": 35,
            "time": "08:45",
        },
        {"day": 3, "hours": 9, "kind": "delete_item", "item": "rec-007"},  # the organizer deletes it
        {"day": 5, "hours": 11, "kind": "modify_item", "item": "rec-011"},  # trimmed: new eTag
        {
            "day": 2,
            "hours": 10,
            "kind": "set_label",
            "item": "rec-019",
            "name": "Litigation hold 2025",
            "behavior": "retain",
            "is_delete_allowed": False,
        },
        {
            "day": 15,
            "hours": 8,
            "kind": "add_user",
            "key": "nora.new",
            "display_name": "Nora New",
            "preferred_language": "en-US",
        },
        {"day": 20, "hours": 16, "kind": "disable_user", "user": "peter.cole"},
    ]
    for day in range(1, 31, 3):  # a fresh recording every three days
        events.append(
            {
                "day": day,
                "hours": 9 + day % 7,
                "kind": "add_recording",
                "key": f"new-{day:02d}",
                "organizer": organizers[day % len(organizers)],
                "subject": _SUBJECTS[day % len(_SUBJECTS)],
                "age_days": 0,
            }
        )
    data = {
        "tenant": {"domain": DEMO_DOMAIN, "seed": 42},
        "users": _demo_users(),
        "teams": [
            {
                "key": "delivery",
                "display_name": "Client Delivery",
                "members": organizers[:10],
                "channels": [{"name": "General"}, {"name": "Falcon Project", "membership": "private"}],
            },
            {
                "key": "sales",
                "display_name": "Sales",
                "members": organizers[8:],
                "channels": [{"name": "General"}, {"name": "Key Accounts"}],
            },
        ],
        "groups": [
            {
                "key": "all-staff",
                "display_name": "All staff",
                "members": ["delivery", "sales", "kalle.konsult"],
            }
        ],
        "recordings": recordings,
        "files": files,
        "events": events,
        "knobs": {"locked_items": {"demo-locked": {"until_day": 10}}},
    }
    if records_site:
        data["records_site"] = {"path": "/sites/records", "display_name": "Records and retention"}
    return populate(data, epoch=epoch)


def _time_of_day(rng: random.Random) -> str:
    # Mostly office hours, some near midnight UTC so the local (Stockholm) date differs from the UTC date.
    if rng.random() < 0.1:
        return rng.choice(["23:10:05", "23:47:30", "00:05:12", "22:55:00"])
    return f"{rng.randrange(6, 19):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"


def build_bench_tenant(users: int, recordings_per_user: int, epoch: dt.datetime) -> TenantModel:
    """``users`` people, each with a OneDrive holding ``recordings_per_user`` recordings aged 0-60 days.

    Built directly on the model (no scenario dictionaries) to stay fast and small: 2,000 x 20 takes a
    couple of seconds and some tens of MiB.
    """
    model = TenantModel(epoch, seed=7, domain="bench.example")
    rng = random.Random(7)
    for u in range(users):
        key = f"user{u:05d}"
        upn = f"{key}@bench.example"
        user = model.add_user(
            f"Bench User {u:05d}", upn, upn, preferred_language=("sv-SE", "en-US", None)[u % 3]
        )
        model.aliases[key] = user.id
        assert user.drive_id is not None
        for r in range(recordings_per_user):
            age = (r * 61 / max(1, recordings_per_user)) + rng.random()
            created = epoch - dt.timedelta(days=age)
            model.add_file(
                user.drive_id,
                ["Recordings"],
                recording_name(_SUBJECTS[r % len(_SUBJECTS)], created),
                created,
                mime_type=MP4,
                size=50_000_000,
                created_by=user.id,
                teams_recording=True,
            )
    return model
