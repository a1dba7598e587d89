"""Scenario files: a simulated tenant described in TOML (read with tomllib).

Every time is relative to the simulator epoch (``load_scenario(path, epoch=...)``, else ``[tenant].epoch``,
else the current UTC time rounded down to the hour). Scenario keys (``key = "anna"``) name users, teams,
groups and items; events and knobs refer to those keys, and ``model.aliases`` maps them to Graph ids.

```toml
[tenant]
domain = "contoso.example"
seed = 7                               # every id and random choice derives from it
epoch = "2025-03-03T06:00:00+00:00"    # optional

[knobs]                                # optional: any simulator.knobs.Knobs field (see knobs.py)
page_size = 20
locked_items = { "r2" = { until_day = 10 } }   # item keys; 423 on delete until epoch + 10 days
forbidden_items = { "r3" = 2 }                 # 403 on the next 2 delete attempts
media_facets = false                           # beta source/media facets on v1.0 items (default off)
failing_files_folders = { "sales/Deals" = {} } # filesFolder: 404 itemNotFound "Sharepoint folder not found."
# migrated_channels = { "sales/Deals" = { parent_reference = true } }  # filesFolder: its site drive's root
next_link_loops = ["users", "anna"]            # second page links back to the first (drive: owner's key)
cast_requires_advanced_query = true            # transitiveMembers/microsoft.graph.user needs advanced query
shares_root_parent_reference = false           # /shares of a drive root: no parentReference
send_mail_status = 202                         # the 2xx sendMail answers
app_roles = ["User.Read.All", "Files.Read.All"] # roles claim of GET /_simulator/token (default: all needed)

[[users]]
key = "anna"
display_name = "Anna Berg"
upn = "anna@contoso.example"           # default "<key>@<domain>"
mail = "anna@contoso.example"          # default the UPN; "" means no mail address (and no mailbox)
preferred_language = "sv-SE"           # optional
account_enabled = true                 # default true
has_onedrive = true                    # default true; false: GET /users/{id}/drive answers 404
has_mailbox = true                     # default: true when the user has a mail address; false:
                                       # mailboxSettings answers 404, mail to the user is undeliverable
time_zone = "W. Europe Standard Time"  # mailboxSettings.timeZone; default "UTC"

[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna"]
owners = ["anna"]                      # GET /groups/{id}/owners; default none
channels = [{ name = "General" }, { name = "Deals", membership = "private" }]  # or "shared"

[[groups]]                             # plain groups, for scope.include_groups
key = "staff"
display_name = "All staff"
members = ["anna", "sales"]            # users, groups or teams (resolved transitively)
owners = []                            # optional, as for teams

[[folders]]                            # a folder with a key, so events can rename or move it
key = "anna-recordings"
owner = "anna"                         # or channel = "sales/General" (then relative to its folder)
path = ["Recordings"]

[[recordings]]                         # Teams meeting recordings
key = "r1"
organizer = "anna"                     # createdBy; the OneDrive it lands in unless `channel` is set
channel = "sales/General"              # optional: "<team key>/<channel name>" -> <Channel>/Recordings
subject = "Weekly sync"                # file name "<subject>-<yyyymmdd_hhmmss>-Meeting Recording.mp4"
age_days = 31                          # created at epoch - age_days ...
time = "09:30"                         # ... at this UTC time of day (default: the epoch's time)
size = 48000000
label = { name = "Contracts", behavior = "retain", is_delete_allowed = false }
created_by_app = "Skype Teams Services"  # optional (also on [[files]]): createdBy/lastModifiedBy is this
created_by_app_id = "<guid>"             # application, with no user; the id defaults to one derived from the name

[[files]]                              # any other file: never carries the Teams facets
owner = "anna"                         # or channel = "sales/General"
folder = "Recordings"                  # a name or a list of names; default the drive root
name = "Holiday clip.mp4"
mime_type = "video/mp4"
age_days = 40

[records_site]                         # optional: the SharePoint site the Assignments and Retention
key = "records"                        # requests lists live in (teamsretention provision creates them)
path = "/sites/records"                # https://<tenant>.sharepoint.com/sites/records
display_name = "Records"
time_zone = "Europe/Stockholm"         # the site's regional setting: date-only columns are its midnight
# team = "sales"                       # instead of path: the lists live in that team's site (a channel tab)

[[events]]                             # fire when the clock passes epoch + day days (+ hours)
day = 12
hours = 3.5                            # optional
kind = "add_recording"                 # then the same fields as [[recordings]]; age_days is
organizer = "anna"                     # counted back from the event's own time
subject = "Late upload"
age_days = 35
```

Event kinds: ``add_recording``, ``add_file``, ``add_folder`` (fields of ``[[recordings]]`` / ``[[files]]``
/ ``[[folders]]``), ``delete_item`` / ``modify_item`` (new eTag; optional new ``name``: a rename, reported in
delta for that item only, never its descendants) / ``restore_item`` with ``item = "<key>"``, ``move_item``
with ``item`` and ``to = ["Folder", "Path"]`` (relative to the drive root, created if missing; delta reports
the moved item, the folders it created and the two parents whose childCount changed, never the moved
item's descendants),
``set_label`` with ``item`` and the label fields (no ``name``: removes the label), ``add_user`` (fields of
``[[users]]``), ``disable_user`` / ``enable_user`` / ``remove_user`` with ``user = "<key>"``, and
``replace_onedrive`` with ``user``: a re-provisioned OneDrive (new drive id, new personal site, an empty
``Recordings`` folder); from then on every request on the old drive id answers 404 itemNotFound.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from .events import add_folder, add_plain_file, add_recording, add_user, schedule
from .knobs import Knobs, parse_blocks
from .model import TenantModel

__all__ = ["example_path", "load_scenario", "populate"]


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
            owner_ids=[model.resolve(o) for o in team.get("owners", [])],
        )
        model.aliases[str(team["key"])] = group.id
        for channel in team.get("channels", []):
            ch = model.add_channel(group, str(channel["name"]), str(channel.get("membership", "standard")))
            model.aliases[f"{team['key']}/{channel['name']}"] = ch.id
    for spec in data.get("groups", []):
        group = model.add_group(
            str(spec.get("display_name", spec["key"])),
            member_ids=[model.resolve(m) for m in spec.get("members", [])],
            owner_ids=[model.resolve(o) for o in spec.get("owners", [])],
        )
        model.aliases[str(spec["key"])] = group.id
    for spec in data.get("folders", []):
        add_folder(model, spec, epoch)
    for rec in data.get("recordings", []):
        add_recording(model, rec, epoch)
    for spec in data.get("files", []):
        add_plain_file(model, spec, epoch)
    for event in data.get("events", []):
        params = {k: v for k, v in event.items() if k not in ("day", "hours", "kind")}
        at = epoch + dt.timedelta(days=float(event["day"]), hours=float(event.get("hours", 0)))
        schedule(model, at, str(event["kind"]), params)
    records = data.get("records_site")
    if records is not None and records.get("team"):  # the lists live in a team's own site
        team = model.groups[model.resolve(str(records["team"]))]
        assert team.drive_id is not None, "records_site.team must name a team"
        zone = str(records.get("time_zone", "Europe/Stockholm"))
        model.use_as_records_site(model.drives[team.drive_id].site_id, zone)
    elif records is not None:  # last, so the ids of everything else stay what they were without it
        model.add_records_site(str(records.get("path", "/sites/records")), str(records.get("display_name", "Records")),
                               str(records.get("time_zone", "Europe/Stockholm")))
        model.aliases[str(records.get("key", "records"))] = model.records_site_id or ""
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
