"""msgraph-sdk's own models read what the simulator serves (the adapter parses with them)."""

from __future__ import annotations

import httpx
import pytest
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph.generated.drives.item.items.item.delta.delta_get_response import DeltaGetResponse
from msgraph.generated.models.drive import Drive
from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.item_retention_label import ItemRetentionLabel

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
    await client.post("/_simulator/knobs", json={"page_size": 50})
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
