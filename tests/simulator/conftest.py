from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from teamsretention.simulator import TenantModel, create_app, example_path, load_scenario

from ._helpers import BASE, EPOCH


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def model() -> TenantModel:
    return load_scenario(example_path(), epoch=EPOCH)


@pytest.fixture
async def client(model: TenantModel) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(model)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c
