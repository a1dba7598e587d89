"""``check``'s workflow with an in-memory gateway: a sign-in that fails is one line and stops the reads, and the
roles of a real credential's token (not the simulator's) are what the permissions are compared with."""

from __future__ import annotations

import datetime as dt

import pytest

from teamsretention.domain import Person
from teamsretention.errors import SignInError
from teamsretention.settings import Settings
from teamsretention.workflows.check_graph import run_check
from tests.fakes import FakeGateway

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def settings(tmp_path, **policy: object) -> Settings:
    return Settings().with_overrides(state={"directory": str(tmp_path / "state")}, policy=policy,
                                     scope={"channel_sites": False})


class RefusedSignIn(FakeGateway):
    async def users_delta(self, delta_link):  # type: ignore[no-untyped-def, override]
        raise SignInError("sign-in failed for tenant t at login.microsoftonline.com (AADSTS7000215): the client "
                          "secret is not valid")
        yield  # pragma: no cover


async def test_a_failed_sign_in_is_one_line_naming_the_fix_and_no_other_read_is_tried(tmp_path) -> None:
    gateway = RefusedSignIn()

    async def no_roles() -> frozenset[str] | None:
        return None

    report = await run_check(settings(tmp_path), gateway, no_roles, now=NOW)

    graph = [f for f in report.findings if f.area == "graph"]
    assert [(f.status, f.what.split(":")[0]) for f in graph] == [
        ("fail", "sign-in failed, so nothing was read from https")]
    assert "AADSTS7000215" in graph[0].what
    assert not report.ok


async def test_the_token_roles_of_the_credential_decide_and_a_higher_permission_names_the_least(tmp_path) -> None:
    gateway = FakeGateway()
    gateway.users["u1"] = Person("u1", "Anna", "anna@contoso.example", "anna@contoso.example")
    gateway.onedrive["u1"] = "d1"
    gateway.items["d1"] = {}

    async def roles() -> frozenset[str] | None:
        return frozenset({"User.Read.All", "Sites.ReadWrite.All"})

    report = await run_check(settings(tmp_path), gateway, roles, now=NOW)

    permissions = [f for f in report.findings if f.area == "permissions"]
    assert [f.status for f in permissions] == ["ok", "ok"]
    assert "Sites.ReadWrite.All: inventory: read drives" in permissions[1].what
    assert "(least privilege would be Files.Read.All)" in permissions[1].what
    assert report.ok
    assert gateway.deleted == [] and gateway.sent == []
