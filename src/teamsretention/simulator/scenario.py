"""Scenario files: a simulated tenant described in TOML (read with tomllib).

Every time is relative to the simulator epoch (``load_scenario(path, epoch=...)``, else ``[tenant].epoch``,
else the current UTC time rounded down to the hour). Scenario keys (``key = "anna"``) name users, teams,
groups and items; events and knobs refer to those keys, and ``model.aliases`` maps them to Graph ids.

```toml
[tenant]
domain = "contoso.example"
seed = 7                               # every id and random choice derives from it
epoch = "2025-03-03T06:00:00+00:00"    # optional

[knobs]                                # optional: any simulator.knobs.Knobs field
page_size = 20
locked_items = { "r2" = { until_day = 10 } }   # item keys; 423 on delete until epoch + 10 days
forbidden_items = { "r3" = 2 }                 # 403 on the next 2 delete attempts

[[users]]
key = "anna"
display_name = "Anna Berg"
upn = "anna@contoso.example"           # default "<key>@<domain>"
mail = "anna@contoso.example"          # default the UPN; "" means no mailbox
preferred_language = "sv-SE"           # optional
account_enabled = true                 # default true
has_onedrive = true                    # default true; false: GET /users/{id}/drive answers 404

[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna"]
channels = [{ name = "General" }, { name = "Deals", membership = "private" }]

[[groups]]                             # plain groups, for scope.include_groups
key = "staff"
display_name = "All staff"
members = ["anna", "sales"]            # users, groups or teams (resolved transitively)

[[recordings]]                         # Teams meeting recordings
key = "r1"
organizer = "anna"                     # createdBy; the OneDrive it lands in unless `channel` is set
channel = "sales/General"              # optional: "<team key>/<channel name>" -> <Channel>/Recordings
subject = "Weekly sync"                # file name "<subject>-<yyyymmdd_hhmmss>-Meeting Recording.mp4"
age_days = 31                          # created at epoch - age_days ...
time = "09:30"                         # ... at this UTC time of day (default: the epoch's time)
size = 48000000
label = { name = "Contracts", behavior = "retain", is_delete_allowed = false }

[[files]]                              # any other file: never carries the Teams facets
owner = "anna"                         # or channel = "sales/General"
folder = "Recordings"                  # a name or a list of names; default the drive root
name = "Holiday clip.mp4"
mime_type = "video/mp4"
age_days = 40

[[events]]                             # fire when the clock passes epoch + day days (+ hours)
day = 12
hours = 3.5                            # optional
kind = "add_recording"                 # then the same fields as [[recordings]]; age_days is
organizer = "anna"                     # counted back from the event's own time
subject = "Late upload"
age_days = 35
```

Event kinds: ``add_recording``, ``add_file`` (fields of ``[[recordings]]`` / ``[[files]]``),
``delete_item`` / ``modify_item`` (new eTag; optional new ``name``) / ``restore_item`` with ``item = "<key>"``,
``set_label`` with ``item`` and the label fields (no ``name``: removes the label), ``add_user`` (fields of
``[[users]]``), ``disable_user`` / ``enable_user`` / ``remove_user`` with ``user = "<key>"``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from .events import add_plain_file, add_recording, add_user
from .knobs import Knobs, parse_blocks
from .model import TenantModel
from .tenants import build_bench_tenant, build_demo_tenant

__all__ = ["build_bench_tenant", "build_demo_tenant", "example_path", "load_scenario", "populate"]


def example_path() -> Path:
    return Path(__file__).with_name("scenarios") / "example.toml"


def load_scenario(source: str | Path, *, epoch: dt.datetime | None = None) -> TenantModel:
    """Read a scenario file (a path, or TOML text when it contains a newline) into a new model."""
    text = source if isinstance(source, str) and "\n" in source else Path(source).read_text(encoding="utf-8")
    return populate(tomllib.loads(text), epoch=epoch)


def populate(data: dict[str, Any], *, epoch: dt.datetime | None = None) -> TenantModel:
    tenant = data.get("tenant", {})
    if epoch is None:
        raw = tenant.get("epoch")
        epoch = (
            (dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw)
            if raw
            else dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        )
    assert epoch is not None
    model = TenantModel(
        epoch, seed=int(tenant.get("seed", 1)), domain=str(tenant.get("domain", "contoso.example"))
    )
    for user in data.get("users", []):
        add_user(model, user)
    for team in data.get("teams", []):
        group = model.add_group(
            str(team.get("display_name", team["key"])),
            is_team=True,
            member_ids=[model.resolve(m) for m in team.get("members", [])],
        )
        model.aliases[str(team["key"])] = group.id
        for channel in team.get("channels", []):
            ch = model.add_channel(group, str(channel["name"]), str(channel.get("membership", "standard")))
            model.aliases[f"{team['key']}/{channel['name']}"] = ch.id
    for spec in data.get("groups", []):
        group = model.add_group(
            str(spec.get("display_name", spec["key"])),
            member_ids=[model.resolve(m) for m in spec.get("members", [])],
        )
        model.aliases[str(spec["key"])] = group.id
    for rec in data.get("recordings", []):
        add_recording(model, rec, epoch)
    for spec in data.get("files", []):
        add_plain_file(model, spec, epoch)
    for event in data.get("events", []):
        params = {k: v for k, v in event.items() if k not in ("day", "hours", "kind")}
        at = epoch + dt.timedelta(days=float(event["day"]), hours=float(event.get("hours", 0)))
        model.schedule(at, str(event["kind"]), params)
    model.set_knobs(_knobs(model, data.get("knobs", {})))
    return model


def _knobs(model: TenantModel, spec: dict[str, Any]) -> Knobs:
    """Knobs with item keys resolved and ``until_day`` turned into a time after the epoch."""
    spec = dict(spec)
    for name in ("locked_items", "forbidden_items"):
        if name not in spec:
            continue
        raw = spec.pop(name)
        raw = dict.fromkeys(raw) if isinstance(raw, list) else raw
        resolved: dict[str, Any] = {}
        for ref, block in raw.items():
            if isinstance(block, dict) and "until_day" in block:
                block = dict(block)
                block["until"] = model.epoch + dt.timedelta(days=float(block.pop("until_day")))
            resolved[model.resolve(ref)] = block
        spec[name] = parse_blocks(resolved)
    return Knobs.from_dict(spec)
