"""Shared constants and helpers of the simulator tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from teamsretention.simulator import TenantModel

EPOCH = dt.datetime(2025, 3, 3, 5, 0, tzinfo=dt.UTC)
BASE = "http://graph.test"


async def follow_delta(
    client: httpx.AsyncClient, url: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """All items of a delta feed, the raw pages, and the final deltaLink."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    while True:
        resp = await client.get(url)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages.append(page)
        items.extend(page["value"])
        if "@odata.deltaLink" in page:
            assert "@odata.nextLink" not in page
            return items, pages, page["@odata.deltaLink"]
        url = page["@odata.nextLink"]


def drive_of(model: TenantModel, key: str) -> str:
    return model.find_item(key).drive_id


def onedrive_of(model: TenantModel, user_key: str) -> str:
    drive_id = model.users[model.resolve(user_key)].drive_id
    assert drive_id is not None
    return drive_id
