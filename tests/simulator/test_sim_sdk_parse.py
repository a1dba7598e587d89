"""msgraph-sdk's own models read what the simulator serves (the adapter parses with them)."""

from __future__ import annotations

import httpx
import pytest
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph.generated.drives.item.items.item.delta.delta_get_response import DeltaGetResponse
from msgraph.generated.models.directory_object_collection_response import DirectoryObjectCollectionResponse
from msgraph.generated.models.drive import Drive
from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.item_retention_label import ItemRetentionLabel
from msgraph.generated.models.mailbox_settings import MailboxSettings
from msgraph.generated.models.site import Site
from msgraph.generated.models.user import User

from teamsretention.simulator import TenantModel

from ._helpers import follow_delta

pytestmark = pytest.mark.anyio


def _parse(content: bytes, factory):  # type: ignore[no-untyped-def]
    node = JsonParseNodeFactory().get_root_parse_node("application/json", content)
    return node.get_object_value(factory)


async def test_sdk_parses_delta_items_drive_and_label(client: httpx.AsyncClient, model: TenantModel) -> None:
    drive_id = model.users[model.resolve("anna")].drive_id
    _, _, link = await follow_delta(client, f"/v1.0/drives/{drive_id}/root/delta")
    item = model.find_item("anna-weekly")
    await client.delete(f"/v1.0/drives/{drive_id}/items/{item.id}")
    # The beta-only facets are off by default in v1.0; the adapter reads them from additional_data when on.
    await client.post("/_simulator/knobs", json={"page_size": 50, "media_facets": True})
    first = await client.get(f"/v1.0/drives/{drive_id}/root/delta")
    page = _parse(first.content, DeltaGetResponse)
    assert page.odata_delta_link and page.value
    recordings = [i for i in page.value if i.additional_data.get("source") == {"application": "teams"}]
    assert recordings and recordings[0].file.mime_type == "video/mp4"
    assert recordings[0].additional_data["media"]["mediaSource"]["contentCategory"] == "meeting"
    assert recordings[0].created_date_time.tzinfo is not None

    changes = _parse((await client.get(link)).content, DeltaGetResponse)
    gone = next(i for i in changes.value if i.id == item.id)
    assert gone.deleted is not None and gone.name is None

    drive = _parse((await client.get(f"/v1.0/users/{model.resolve('anna')}/drive")).content, Drive)
    assert drive.id == drive_id and drive.owner.user.display_name == "Anna Berg"
    contract = model.find_item("anna-contract")
    got = _parse(
        (await client.get(f"/v1.0/drives/{drive_id}/items/{contract.id}?$expand=retentionLabel")).content,
        DriveItem,
    )
    assert got.retention_label.retention_settings.is_delete_allowed is False
    label = _parse(
        (await client.get(f"/v1.0/drives/{drive_id}/items/{contract.id}/retentionLabel")).content,
        ItemRetentionLabel,
    )
    assert label.name == "Legal - Contracts 10y" and label.label_applied_date_time is not None


async def test_sdk_parses_members_owners_sites_mailbox_settings_and_app_identities(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    staff = model.resolve("staff")
    members = _parse((await client.get(f"/v1.0/groups/{staff}/transitiveMembers")).content, DirectoryObjectCollectionResponse)
    kinds = {type(m).__name__ for m in members.value}
    assert kinds == {"User", "Group"}  # discriminated by @odata.type
    owners = _parse(
        (await client.get(f"/v1.0/groups/{model.resolve('sales')}/owners")).content, DirectoryObjectCollectionResponse
    )
    assert isinstance(owners.value[0], User) and owners.value[0].user_principal_name == "anna@contoso.example"
    settings = _parse(
        (await client.get(f"/v1.0/users/{model.resolve('anna')}/mailboxSettings")).content, MailboxSettings
    )
    assert settings.time_zone == "UTC" and settings.language.locale == "sv-SE"
    drive = model.drives[model.users[model.resolve("anna")].drive_id or ""]
    site = _parse((await client.get(f"/v1.0/sites/{drive.site_id}")).content, Site)
    assert site.id == drive.site_id and site.display_name == "Anna Berg" and site.created_date_time is not None
    assert not site.additional_data.keys() - {"@odata.context"}

    rec = model.find_item("sales-general")
    rec.created_by_app = ("00000000-0000-0000-0000-0000000000aa", "Skype Teams Services")
    item = _parse((await client.get(f"/v1.0/drives/{rec.drive_id}/items/{rec.id}")).content, DriveItem)
    assert item.created_by.application.display_name == "Skype Teams Services" and item.created_by.user is None
