"""The simulator's token stub: an unsigned, JWT-shaped token whose ``roles`` claim is the knob ``app_roles``
(every permission the product asks for unless a scenario removes one), read the way ``check`` reads a real one."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from teamsretention.graph import SimulatorToken, token_roles
from teamsretention.simulator import TenantModel, load_scenario
from teamsretention.simulator.knobs import FULL_APP_ROLES

pytestmark = pytest.mark.anyio


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


async def test_the_token_carries_every_permission_by_default_and_what_the_knob_says_after(
        client: httpx.AsyncClient, model: TenantModel) -> None:
    first = (await client.get("/_simulator/token")).json()
    assert first["token_type"] == "Bearer" and first["expires_in"] == 3600
    assert claims_of(first["access_token"])["roles"] == list(FULL_APP_ROLES)

    await client.post("/_simulator/knobs", json={"app_roles": ["User.Read.All"]})

    assert claims_of((await client.get("/_simulator/token")).json()["access_token"])["roles"] == ["User.Read.All"]
    assert model.requests.total_requests == 0  # a control, not Graph traffic


async def test_check_reads_the_roles_the_way_it_reads_a_real_token(client: httpx.AsyncClient) -> None:
    await client.post("/_simulator/knobs", json={"app_roles": ["Files.Read.All", "Mail.Send"]})

    roles = await token_roles(SimulatorToken(str(client.base_url), http_client=client), "https://graph.microsoft.com/.default")

    assert roles == frozenset({"Files.Read.All", "Mail.Send"})


def test_a_scenario_sets_the_roles_and_refuses_anything_but_a_list_of_names() -> None:
    scenario = '[tenant]\ndomain = "contoso.example"\n[knobs]\napp_roles = ["User.Read.All"]\n'
    assert load_scenario(scenario).knobs.app_roles == ["User.Read.All"]
    with pytest.raises(ValueError, match="app_roles takes a list of permission names"):
        load_scenario('[tenant]\ndomain = "contoso.example"\n[knobs]\napp_roles = "Mail.Send"\n')
