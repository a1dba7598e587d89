"""Digests go out side by side (up to graph.max_concurrency), after a first one Graph accepted: still one per
organizer per date, each recorded as intended before it is sent, and the report lists them in organizer order."""

from __future__ import annotations

import asyncio

from teamsretention.domain import DigestStatus
from teamsretention.errors import SenderRefused
from teamsretention.store import digests

from .test_cycle import DAY0, World, created


def _tenant(tmp_path, organizers: int, **config) -> World:
    w = World(tmp_path, **config)
    for n in range(organizers):
        w.gw.add_user(f"user{n:02d}")
        w.gw.add_recording(f"user{n:02d}", f"r{n}", created(-25))
    return w


class _Sends:
    """Wraps the fake gateway's send_mail: how many sends were in flight at once, and what the store held for
    a digest when its send began."""

    def __init__(self, w: World, *, refuse: bool = False) -> None:
        self.w, self.refuse = w, refuse
        self.in_flight = self.most = 0
        self.status_at_send: list[DigestStatus] = []
        self.original = w.gw.send_mail
        w.gw.send_mail = self.send  # type: ignore[method-assign]

    async def send(self, sender, mail) -> None:  # type: ignore[no-untyped-def]
        recorded = [d for d in digests.for_date(self.w.db, DAY0) if d.recipient and set(mail.to) & {d.recipient}]
        self.status_at_send += [d.status for d in recorded]
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            for _ in range(5):  # let the other tasks run (no clock involved)
                await asyncio.sleep(0)
            if self.refuse:
                raise SenderRefused(403, "ErrorAccessDenied", "Access to OData is disabled.")
            await self.original(sender, mail)
        finally:
            self.in_flight -= 1


def test_digests_are_sent_side_by_side_once_each_after_their_intent(tmp_path) -> None:
    w = _tenant(tmp_path, 12, max_concurrency=4)
    sends = _Sends(w)

    report = w.cycle(0)

    assert report.digests_sent == 12
    assert sorted(m.to[0] for _, m in w.gw.sent) == sorted(f"user{n:02d}@contoso.example" for n in range(12))
    assert sends.most == 4  # the first alone, then four at a time (graph.max_concurrency)
    assert set(sends.status_at_send) == {DigestStatus.INTENDED}  # recorded before it was sent, every one
    assert [d.organizer.id for d in report.digests] == [f"user{n:02d}" for n in range(12)]
    assert len(w.audit("warned")) == 12

    again = w.cycle(0)  # the same date again: nobody gets a second mail
    assert again.digests_sent == 0 and len(w.gw.sent) == 12


def test_a_refused_sender_is_refused_once_even_with_sends_side_by_side(tmp_path) -> None:
    w = _tenant(tmp_path, 12, max_concurrency=4)
    sends = _Sends(w, refuse=True)

    report = w.cycle(0)

    assert sends.most == 1 and len(sends.status_at_send) == 1  # one attempt, then none
    assert report.digests_sent == 0 and w.gw.sent == []
    assert any("11 more digests" in p for p in report.problems)
