"""The directory sync's OneDrive lookups: asked of the gateway a batch at a time (which sends them in JSON batches),
stored a batch at a time."""

from __future__ import annotations

import pytest

from teamsretention.domain import Person
from teamsretention.errors import TransientGraphError
from teamsretention.ports import DriveRef
from teamsretention.store import directory

from ..fakes import FakeGateway
from .test_cycle import World


class CountingDirectory(FakeGateway):
    """Records whom each OneDrive lookup was for; a user in ``failing`` gets Graph's 503 as the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.looked_up: list[str] = []
        self.failing: set[str] = set()

    async def get_user_drive(self, user: Person) -> DriveRef | None:
        self.looked_up.append(user.id)
        if user.id in self.failing:
            raise TransientGraphError(503, "serviceNotAvailable", "The service is temporarily unavailable.")
        return await super().get_user_drive(user)


@pytest.fixture
def tenant(tmp_path, monkeypatch: pytest.MonkeyPatch):
    w = World(tmp_path)
    w.gw = CountingDirectory()
    for n in range(120):
        w.gw.add_user(f"user{n:03d}", onedrive=n % 5 != 0)  # every fifth user has no OneDrive
    stores: list[int] = []
    real = directory.record_onedrives

    def counted(db, looked_up, checked_at):
        looked_up = list(looked_up)
        stores.append(len(looked_up))
        return real(db, looked_up, checked_at)

    monkeypatch.setattr(directory, "record_onedrives", counted)
    monkeypatch.setattr(directory, "record_onedrive", lambda *a, **k: pytest.fail("stored one user at a time"))
    w.stores = stores
    yield w
    w.db.dispose()


def test_onedrive_lookups_are_asked_and_stored_a_batch_at_a_time(tenant):
    report = tenant.cycle(0)

    assert sorted(tenant.gw.looked_up) == sorted(tenant.gw.users)
    assert tenant.gw.drive_batches == [100, 20]  # two asks of the gateway (five and one JSON batches), not 120
    assert tenant.stores == [100, 20]  # two transactions for 120 people, not 120
    assert report.inventory.users_without_onedrive == 24 and report.inventory.drives == 96
    assert report.inventory.directory_errors == []

    tenant.stores.clear()
    tenant.gw.looked_up.clear()
    tenant.cycle(1)  # known drives and a recent "no OneDrive" are not looked up again
    assert tenant.gw.looked_up == [] and tenant.stores == []
    assert tenant.reports[1].inventory.drives == 96


def test_one_users_failed_lookup_is_reported_and_everyone_else_is_governed(tenant):
    tenant.gw.failing.add("user001")
    report = tenant.cycle(0)

    assert report.inventory.drives == 95  # user001's OneDrive is not in scope on a failed lookup
    assert report.inventory.users_without_onedrive == 24  # and user001 is not counted as having none
    assert [e.split(":")[0] for e in report.inventory.directory_errors] == ["OneDrive of user001@contoso.example"]
    assert "503" in report.inventory.directory_errors[0]
    assert directory.person(tenant.db, "user001").drive_checked_at is None  # looked up again next cycle

    tenant.gw.failing.clear()
    assert tenant.cycle(1).inventory.drives == 96
