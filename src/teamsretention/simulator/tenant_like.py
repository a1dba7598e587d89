"""A generated tenant that looks like a real one, for the scale benchmark (bench/tenant_bench.py).

What a real OneDrive holds besides recordings costs the inventory too: every drive gets ``files_per_drive``
other files (documents, pictures, a few videos that are not recordings), about a third of them in folders.
Recordings have every age from today to three months (some past retention on the first cycle), in
``Recordings``; organizers are a share of the users and a
few of them record a lot. New recordings arrive every working hour of every day (scheduled events), so a
week of daily cycles has new work to find.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from .events import MP4, recording_name
from .model import TenantModel

_DOCS = (("Budget", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
         ("Notes", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
         ("Slides", ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
         ("Scan", ".pdf", "application/pdf"), ("Photo", ".jpg", "image/jpeg"), ("Export", ".csv", "text/csv"))
_FOLDERS = (["Documents"], ["Documents", "Projects"], ["Pictures"], ["Desktop"])
_SUBJECTS = ("Weekly sync", "Client review", "Design walkthrough", "All hands", "Sprint demo", "Onboarding")
ORGANIZER_SHARE = 0.7  # users who record meetings at all
HEAVY_SHARE = 0.1  # organizers who record several times a week: a tenth of the organizers ...
HEAVY_WEIGHT = 4.5  # ... making a third of the recordings (0.1 * 4.5 / (0.1 * 4.5 + 0.9))
MAX_AGE_DAYS = 90


@dataclass(frozen=True, slots=True)
class TenantShape:
    recordings: int  # recordings present on the first cycle
    files_per_drive: int = 200  # other files per OneDrive
    per_user: int = 20  # recordings per user on average (organizers or not): sets the number of users
    arrivals_per_day: int | None = None  # new recordings a day; None: recordings / MAX_AGE_DAYS (a steady tenant)
    arrival_days: int = 40  # how many days of arrivals are scheduled after the epoch
    seed: int = 11

    @property
    def users(self) -> int:
        return max(1, self.recordings // self.per_user)


def build_tenant_like(shape: TenantShape, epoch: dt.datetime) -> TenantModel:
    model = TenantModel(epoch, seed=shape.seed, domain="bench.example")
    rng = random.Random(shape.seed)
    organizers: list[tuple[str, str]] = []  # (user id, drive id)
    for u in range(shape.users):
        upn = f"user{u:05d}@bench.example"
        user = model.add_user(f"Bench User {u:05d}", upn, upn, preferred_language=("sv-SE", "en-US", None)[u % 3])
        assert user.drive_id is not None
        model.aliases[f"user{u:05d}"] = user.id
        _other_files(model, user.drive_id, shape.files_per_drive, epoch, rng)
        if u == 0 or rng.random() < ORGANIZER_SHARE:
            organizers.append((user.id, user.drive_id))
    weights = [HEAVY_WEIGHT if rng.random() < HEAVY_SHARE else 1.0 for _ in organizers]
    for n, (user_id, drive_id) in enumerate(rng.choices(organizers, weights, k=shape.recordings)):
        _recording(model, user_id, drive_id, epoch - dt.timedelta(days=rng.uniform(0, MAX_AGE_DAYS)), n)
    per_day = shape.arrivals_per_day if shape.arrivals_per_day is not None else shape.recordings // MAX_AGE_DAYS
    for day in range(shape.arrival_days):
        for n in range(per_day):
            user_id, drive_id = rng.choices(organizers, weights)[0]
            at = epoch + dt.timedelta(days=day, hours=8 + 9 * n / max(1, per_day))
            model.schedule(at, "bench.recording", {"drive": drive_id}, _arrival(user_id, drive_id, n))
    return model


def _arrival(user_id: str, drive_id: str, n: int):  # type: ignore[no-untyped-def]
    def fire(model: TenantModel, event: object) -> dict[str, object]:
        item = _recording(model, user_id, drive_id, model.now, n)
        return {"kind": "bench.recording", "drive": drive_id, "item": item}
    return fire


def _recording(model: TenantModel, user_id: str, drive_id: str, created: dt.datetime, n: int) -> str:
    item = model.add_file(drive_id, ["Recordings"], recording_name(_SUBJECTS[n % len(_SUBJECTS)], created), created,
                          mime_type=MP4, size=50_000_000, created_by=user_id, teams_recording=True)
    return item.id


def _other_files(model: TenantModel, drive_id: str, count: int, epoch: dt.datetime, rng: random.Random) -> None:
    for f in range(count):
        created = epoch - dt.timedelta(days=rng.uniform(0, 3 * 365))
        if f % 50 == 49:  # a few videos that are not Teams recordings (phone clips)
            model.add_file(drive_id, ["Pictures"], f"Clip {f:03d}.mp4", created, mime_type=MP4, size=8_000_000)
            continue
        stem, suffix, mime = _DOCS[f % len(_DOCS)]
        folder = _FOLDERS[f % len(_FOLDERS)] if f % 3 == 0 else []
        model.add_file(drive_id, folder, f"{stem} {f:03d}{suffix}", created, mime_type=mime, size=40_000)
