"""The simulator on a real loopback socket."""

from __future__ import annotations

import httpx
import pytest

from teamsretention.simulator import Knobs, example_path, load_scenario, serve

from ._helpers import EPOCH


def test_serves_graph_on_loopback_with_links_built_from_the_real_port() -> None:
    model = load_scenario(example_path(), epoch=EPOCH)
    with serve(model, knobs=Knobs(page_size=2, directory_page_size=2)) as sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=sim.base_url) as client:
            page = client.get("/v1.0/users/delta?$select=id,mail").json()
            assert page["@odata.nextLink"].startswith(sim.base_url + "/v1.0/users/delta")
            drive = model.users[model.resolve("anna")].drive_id
            delta = client.get(f"/v1.0/drives/{drive}/root/delta").json()
            assert len(delta["value"]) == 2 and delta["@odata.nextLink"].startswith(sim.base_url)
            assert client.get("/_simulator/clock").json()["epoch"] == EPOCH.isoformat()
    with pytest.raises(httpx.ConnectError):
        httpx.get(sim.base_url + "/_simulator/clock", timeout=2)


def test_refuses_non_loopback_hosts() -> None:
    model = load_scenario(example_path(), epoch=EPOCH)
    with pytest.raises(ValueError, match="loopback"), serve(model, host="0.0.0.0"):
        pass
