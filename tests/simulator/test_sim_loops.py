"""Knob next_link_loops: a second page that links back to the first, so a blind follower loops."""

from __future__ import annotations

import httpx
import pytest

from teamsretention.simulator import TenantModel

from ._helpers import BASE, follow_links, onedrive_of

pytestmark = pytest.mark.anyio


async def _loops(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> tuple[list[str], bool]:
    return await follow_links(client, BASE + path, headers=headers)


async def test_users_groups_and_drive_scopes_loop_back_to_the_first_page(
    client: httpx.AsyncClient, model: TenantModel
) -> None:
    await client.post("/_simulator/knobs", json={"directory_page_size": 1, "page_size": 2})
    model.add_group("Extra")  # three groups: a loop needs a second page that is not the last
    drive = onedrive_of(model, "anna")
    urls = ["/v1.0/users/delta?$select=id", "/v1.0/groups/delta", f"/v1.0/drives/{drive}/root/delta"]
    for url in urls:  # without the knob every feed ends
        _, looped = await _loops(client, url)
        assert not looped, url

    # "anna": a user key stands for her OneDrive
    await client.post("/_simulator/knobs", json={"next_link_loops": ["users", "groups", "anna"]})
    for url in urls:
        seen, looped = await _loops(client, url)
        assert looped and len(seen) == 2 and seen[0] == BASE + url, url  # A -> B -> A: A is asked again
    other = onedrive_of(model, "bob")
    _, looped = await _loops(client, f"/v1.0/drives/{other}/root/delta")
    assert not looped  # a drive not in the list still ends


async def test_member_and_owner_lists_loop_when_named(client: httpx.AsyncClient, model: TenantModel) -> None:
    await client.post("/_simulator/knobs", json={"directory_page_size": 1, "next_link_loops": ["members:staff"]})
    staff = model.resolve("staff")
    cast = f"/v1.0/groups/{staff}/transitiveMembers/microsoft.graph.user?$count=true"
    seen, looped = await _loops(client, cast, headers={"ConsistencyLevel": "eventual"})
    assert looped and seen[0] == BASE + cast and len(seen) == 2
    _, looped = await _loops(client, f"/v1.0/groups/{staff}/transitiveMembers")
    assert looped
    _, looped = await _loops(client, f"/v1.0/groups/{model.resolve('sales')}/transitiveMembers")
    assert not looped
    knobs = (await client.get("/_simulator/knobs")).json()
    assert knobs["next_link_loops"] == ["members:staff"]
    assert (await client.post("/_simulator/knobs", json={"next_link_loops": [1]})).status_code == 400
