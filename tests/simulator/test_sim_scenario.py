"""Scenario files, events on the simulated clock, the demo tenant and the benchmark tenant."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest

from teamsretention.simulator import (
    TenantModel,
    build_bench_tenant,
    build_demo_tenant,
    create_app,
    load_scenario,
)
from teamsretention.simulator.tenants import (
    DEMO_DPO,
    DEMO_FALLBACK,
    DEMO_SENDER,
    DISABLED,
    NO_MAILBOX,
    NO_ONEDRIVE,
)

from ._helpers import BASE, EPOCH, follow_delta

pytestmark = pytest.mark.anyio


def test_example_scenario_places_recordings_and_times_relative_to_the_epoch(model: TenantModel) -> None:
    weekly = model.find_item("anna-weekly")
    assert weekly.created == dt.datetime(2025, 1, 31, 9, 30, tzinfo=dt.UTC)  # 31 days before, 09:30
    assert model.item_path(weekly) == "/drive/root:/Recordings"
    assert model.item_path(model.find_item("sales-general")) == "/drive/root:/General/Recordings"
    assert model.find_item("anna-contract").label is not None
    assert model.find_item("bob-holiday").teams_recording is False
    assert model.users[model.resolve("dan")].mail is None
    assert model.users[model.resolve("cecilia")].drive_id is None
    assert model.knobs.page_size == 5


def test_scenario_text_and_bad_clock_moves() -> None:
    model = load_scenario('[tenant]\nseed = 3\n[[users]]\nkey = "a"\n', epoch=EPOCH)
    assert [u.upn for u in model.users.values()] == ["a@contoso.example"]
    with pytest.raises(ValueError):
        model.advance_to(EPOCH - dt.timedelta(days=1))
    with pytest.raises(ValueError):
        load_scenario("[tenant]\n", epoch=dt.datetime(2025, 1, 1))


async def test_events_fire_only_when_the_clock_passes_them(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    drive = model.users[model.resolve("anna")].drive_id
    _, _, link = await follow_delta(client, f"/v1.0/drives/{drive}/root/delta")
    step = (await client.post("/_simulator/clock", json={"advance": {"days": 12}})).json()
    assert "late-upload" not in model.aliases  # due at day 12 + 3 h
    assert [e["kind"] for e in step["fired"]] == [
        "delete_item",
        "modify_item",
        "set_label",
        "disable_user",
        "add_user",
    ]
    later = (await client.post("/_simulator/clock/advance", json={"hours": 3})).json()
    assert [e["kind"] for e in later["fired"]] == ["add_recording"] and later["day"] == 12.125
    late = model.find_item("late-upload")
    assert late.created == dt.datetime(2025, 2, 8, 7, 45, tzinfo=dt.UTC)  # 35 days before day 12

    changes, _, _ = await follow_delta(client, link)
    mine = [c for c in changes if c["id"] == late.id]
    assert mine and mine[0]["createdDateTime"] == "2025-02-08T07:45:00Z"
    now = (await client.get("/_simulator/clock")).json()
    assert now["now"] == "2025-03-15T08:00:00+00:00" and now["pendingEvents"] == 0
    assert (await client.post("/_simulator/clock", json={"now": "2025-03-01T00:00:00Z"})).status_code == 400


def test_demo_tenant_has_the_cases_the_demo_needs() -> None:
    model = build_demo_tenant(EPOCH)
    users = list(model.users.values())
    assert len(users) >= 24
    key = {v: k for k, v in model.aliases.items()}
    assert model.users[model.resolve(NO_ONEDRIVE)].drive_id is None
    disabled = model.users[model.resolve(DISABLED)]
    assert disabled.account_enabled is False and disabled.mail
    assert model.users[model.resolve(NO_MAILBOX)].mail is None
    assert {u.preferred_language for u in users} >= {"sv-SE", "en-US", None}

    recordings = model.live_recordings()
    assert len(recordings) >= 110
    ages = [(EPOCH - r.created) / dt.timedelta(days=1) for r in recordings]
    assert min(ages) < 1 and max(ages) > 59
    assert len({r.created.hour for r in recordings}) >= 10
    stockholm = ZoneInfo("Europe/Stockholm")
    assert any(r.created.date() != r.created.astimezone(stockholm).date() for r in recordings)

    teams = [g for g in model.groups.values() if g.is_team]
    assert len(teams) >= 2
    channel_drives = {c.drive_id for t in teams for c in t.channels}
    assert len({r.drive_id for r in recordings if r.drive_id in channel_drives}) >= 3
    assert any(c.membership_type == "private" for t in teams for c in t.channels)

    labelled = [r for r in recordings if r.label]
    assert len(labelled) == 1 and labelled[0].label is not None and labelled[0].label.blocks_delete
    holiday = model.find_item("demo-holiday")
    assert holiday.name == "Holiday clip.mp4" and not holiday.teams_recording
    assert model.item_path(holiday).endswith("/Recordings")
    others = [
        i
        for d in model.drives.values()
        for i in d.items.values()
        if not i.is_folder and not (i.mime_type or "").startswith("video/")
    ]
    assert len(others) >= 3
    late = [e for e in model.events if e.kind == "add_recording" and e.params.get("key") == "demo-late"]
    assert late and (late[0].at - EPOCH).days == 12 and late[0].params["age_days"] == 35
    assert model.knobs.locked_items[model.resolve("demo-locked")].until == EPOCH + dt.timedelta(days=10)
    assert key[labelled[0].id] == "demo-labelled"


def test_demo_tenant_is_deterministic() -> None:
    one, two = build_demo_tenant(EPOCH), build_demo_tenant(EPOCH)
    assert [(r.id, r.name, r.created) for r in one.live_recordings()] == [
        (r.id, r.name, r.created) for r in two.live_recordings()
    ]


def test_the_demo_tenant_with_a_records_site_keeps_every_other_id() -> None:
    plain, with_site = build_demo_tenant(EPOCH), build_demo_tenant(EPOCH, records_site=True)
    assert [r.id for r in with_site.live_recordings()] == [r.id for r in plain.live_recordings()]
    assert set(plain.users) == set(with_site.users) and set(plain.drives) < set(with_site.drives)
    assert plain.records_site_id is None and with_site.records_site_id is not None
    assert with_site.sites[with_site.records_site_id].web_url == "https://contoso.sharepoint.com/sites/records"
    assert with_site.resolve("records") == with_site.records_site_id


async def test_bench_tenant_quiet_second_cycle_costs_one_request_per_drive() -> None:
    model = build_bench_tenant(40, 20, EPOCH)
    assert len(model.live_recordings()) == 800
    assert build_bench_tenant(40, 20, EPOCH).drives.keys() == model.drives.keys()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(model)), base_url=BASE) as c:
        links = []
        for drive_id in model.drives:
            _, _, link = await follow_delta(c, f"/v1.0/drives/{drive_id}/root/delta")
            links.append(link)
        await c.delete("/_simulator/requests")
        for link in links:
            assert (await c.get(link)).json()["value"] == []
        stats = (await c.get("/_simulator/requests?recent=0")).json()
    assert stats["requests"] == len(model.drives) == 40
    assert stats["resourceUnits"] == 40 and stats["recent"] == []


def test_demo_service_mailboxes_exist() -> None:
    model = build_demo_tenant(EPOCH)
    for address in (DEMO_SENDER, DEMO_FALLBACK, DEMO_DPO):
        user = model.find_user(address)
        assert user is not None and user.mail == address and user.account_enabled
