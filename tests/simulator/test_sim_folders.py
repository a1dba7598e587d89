"""Folders with keys, renames and moves (delta reports the item, not its descendants), app-created items."""

from __future__ import annotations

import pytest

from teamsretention.simulator import TenantModel, load_scenario

from ._helpers import EPOCH, client_for, follow_delta, onedrive_of

pytestmark = pytest.mark.anyio

SCENARIO = """
[[users]]
key = "anna"

[[teams]]
key = "sales"
members = ["anna"]
channels = [{ name = "General" }]

[[folders]]
key = "anna-recordings"
owner = "anna"
path = ["Recordings"]

[[folders]]
key = "general-recordings"
channel = "sales/General"
path = ["Recordings"]

[[recordings]]
key = "r1"
organizer = "anna"
age_days = 10

[[recordings]]
key = "r2"
organizer = "anna"
age_days = 5

[[recordings]]
key = "channel-rec"
channel = "sales/General"
subject = "Pipeline"
created_by_app = "Skype Teams Services"

[[events]]
day = 1
kind = "modify_item"
item = "anna-recordings"
name = "Old recordings"

[[events]]
day = 2
kind = "move_item"
item = "anna-recordings"
to = ["Archive", "2025"]

[[events]]
day = 3
kind = "add_recording"
key = "r3"
organizer = "anna"
"""


def _model() -> TenantModel:
    return load_scenario(SCENARIO, epoch=EPOCH)


def test_folders_table_names_the_folders_recordings_land_in() -> None:
    model = _model()
    folder = model.find_item("anna-recordings")
    assert folder.is_folder and folder.name == "Recordings"
    assert model.find_item("r1").parent_id == folder.id and model.find_item("r2").parent_id == folder.id
    channel_folder = model.find_item("general-recordings")
    assert model.item_path(channel_folder) == "/drive/root:/General"
    assert model.find_item("channel-rec").parent_id == channel_folder.id


async def test_renaming_a_folder_reports_only_the_folder_in_delta() -> None:
    model = _model()
    drive = onedrive_of(model, "anna")
    folder = model.find_item("anna-recordings")
    async with client_for(model) as client:
        _, _, link = await follow_delta(client, f"/v1.0/drives/{drive}/root/delta")
        model.advance(days=1)
        changes, _, _ = await follow_delta(client, link)
        # The delta Remarks: "renaming a folder doesn't result in any descendants of the folder being
        # returned from delta".
        assert [c["id"] for c in changes] == [folder.id]
        assert changes[0]["name"] == "Old recordings"
        child = (await client.get(f"/v1.0/drives/{drive}/items/{model.find_item('r1').id}")).json()
        assert child["parentReference"]["path"].endswith("/root:/Old recordings")  # a plain GET sees it


async def test_moving_a_folder_reports_it_and_its_parents_but_not_its_descendants() -> None:
    model = _model()
    drive_id = onedrive_of(model, "anna")
    drive = model.drives[drive_id]
    folder = model.find_item("anna-recordings")
    async with client_for(model) as client:
        model.advance(days=1)
        _, _, link = await follow_delta(client, f"/v1.0/drives/{drive_id}/root/delta")
        fired = model.advance(days=1)
        changes, _, _ = await follow_delta(client, link)
        by_id = {c["id"]: c for c in changes}
        archive = model.find_item(fired[0]["parentId"])
        assert archive.name == "2025" and by_id[folder.id]["parentReference"]["id"] == archive.id
        descendants = {model.find_item("r1").id, model.find_item("r2").id}
        assert not descendants & set(by_id)
        # Besides the moved folder: the new folders it went into, and the parents whose childCount changed.
        assert set(by_id) - {folder.id} == {drive.root_id, archive.id, archive.parent_id}
        child = (await client.get(f"/v1.0/drives/{drive_id}/items/{model.find_item('r2').id}")).json()
        assert child["parentReference"]["path"].endswith("/root:/Archive/2025/Old recordings")
        assert child["webUrl"].endswith("/Archive/2025/Old%20recordings/" + child["name"].replace(" ", "%20"))

        model.advance(days=1)  # Teams creates a fresh Recordings folder for the next recording
        r3 = model.find_item("r3")
        assert model.item_path(r3) == "/drive/root:/Recordings" and r3.parent_id != folder.id


def test_moving_a_folder_into_itself_is_refused() -> None:
    model = _model()
    folder = model.find_item("anna-recordings")
    with pytest.raises(ValueError):
        model.move_item(folder, ["Recordings", "Inner"])


async def test_recording_uploaded_by_an_app_has_an_application_identity() -> None:
    model = _model()
    rec = model.find_item("channel-rec")
    async with client_for(model) as client:
        got = (await client.get(f"/v1.0/drives/{rec.drive_id}/items/{rec.id}")).json()
    assert set(got["createdBy"]) == {"application"} and set(got["lastModifiedBy"]) == {"application"}
    app = got["createdBy"]["application"]
    assert app["displayName"] == "Skype Teams Services" and len(app["id"]) == 36
