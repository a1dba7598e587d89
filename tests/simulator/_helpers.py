"""Shared constants and helpers of the simulator tests."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx

from teamsretention.simulator import TenantModel, create_app

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


@contextlib.asynccontextmanager
async def client_for(model: TenantModel) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for a model other than the example fixture's."""
    transport = httpx.ASGITransport(app=create_app(model))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def follow_links(
    client: httpx.AsyncClient, url: str, *, headers: dict[str, str] | None = None, limit: int = 20
) -> tuple[list[str], bool]:
    """The URLs a client following ``@odata.nextLink`` would request, and whether it saw one twice (a loop)
    before the feed ended or ``limit`` requests were made."""
    seen: list[str] = []
    while len(seen) < limit:
        if url in seen:
            return seen, True
        seen.append(url)
        resp = await client.get(url, headers=headers)
        assert resp.status_code == 200, resp.text
        url = resp.json().get("@odata.nextLink", "")
        if not url:
            return seen, False
    return seen, False
