"""Digests go out side by side (up to graph.max_concurrency), after a first one Graph accepted: still one per
organizer per date, each recorded as intended before it is sent, and the report lists them in organizer order."""

from __future__ import annotations

import asyncio

import pytest

from teamsretention.domain import DigestStatus
from teamsretention.errors import SenderRefused, SignInError
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

    def __init__(self, w: World, *, refuse: bool = False, sign_in_fails_for: str | None = None) -> None:
        self.w, self.refuse, self.sign_in_fails_for = w, refuse, sign_in_fails_for
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
            if self.sign_in_fails_for in mail.to:
                raise SignInError("sign-in to login.microsoftonline.com failed: the client secret expired")
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


def test_a_failure_mid_batch_lets_the_sends_under_way_finish_and_starts_no_other(tmp_path) -> None:
    """A sign-in failure on one digest stops the sending, but the digests already recorded as intended and
    under way are sent (or fail) for real: none is left "intended", which would leave it unsent all day."""
    w = _tenant(tmp_path, 12, max_concurrency=4)
    _Sends(w, sign_in_fails_for="user03@contoso.example")

    with pytest.raises(SignInError):
        w.cycle(0)

    stored = digests.for_date(w.db, DAY0)
    assert DigestStatus.INTENDED not in {d.status for d in stored}
    sent = {d.recipient for d in stored if d.status is DigestStatus.SENT}
    assert sent == {m.to[0] for _, m in w.gw.sent}  # every digest stored as sent was sent, and only those
    assert len(sent) >= 4  # the first alone, then those side by side with the failing one finished
    assert len(stored) < 12  # none started after the failure
