"""On the simulator: the cycle's label reads before warnings go through Graph JSON $batch, and an answer inside
the batch is handled as the single request's would be."""

from __future__ import annotations

from teamsretention.simulator.knobs import FailRule
from teamsretention.store import directory

SCENARIO = """
[[recordings]]
key = "weekly"
organizer = "anna"
subject = "Weekly sync"
age_days = 25

[[recordings]]
key = "board"
organizer = "bob"
subject = "Board prep"
age_days = 25

[[recordings]]
key = "vanished"
organizer = "anna"
subject = "Vendor call"
age_days = 25
"""


def batches(log) -> list[list[str]]:
    """The kinds of the requests inside each $batch POST, in order (the simulator logs them, then the POST)."""
    groups: list[list[str]] = []
    inside: list[str] = []
    for r in log.recent:
        if r["kind"] == "batch":
            groups.append(inside)
            inside = []
        else:
            inside.append(r["kind"])
    return [[k for k in g if k in INNER] for g in groups]


INNER = {"item.get", "user.drive", "user.mailboxSettings"}


def test_label_reads_before_warning_go_out_in_one_batch_each_billed_on_its_own(make_world):
    w = make_world(SCENARIO)
    w.cycle(0)

    log = w.model.requests
    assert log.by_kind["item.get"] == 3  # ...and Graph still bills each of them
    assert log.ru_by_kind["batch"] == 0
    # three re-reads, one HTTP request; the OneDrive lookups and the mailbox checks have theirs
    # every user's OneDrive lookup in one batch; the two organizers' mailbox checks in one
    assert batches(log) == [["user.drive"] * log.by_kind["user.drive"], ["item.get"] * 3,
                            ["user.mailboxSettings"] * 2]
    assert log.by_kind["batch"] == 3
    assert sorted(w.day_of(w.audit("warned", k))[0] for k in ("weekly", "board", "vanished")) == [0, 0, 0]
    assert len(w.mails_to("anna@contoso.example")) == 1 and len(w.mails_to("bob@contoso.example")) == 1


def test_a_404_inside_the_batch_keeps_the_recording_as_a_single_reads_404_does(make_world):
    w = make_world(SCENARIO)
    vanished = w.model.find_item("vanished")
    # Gone by the time it is read again (the inventory still lists it): the inner GET answers 404.
    w.model.knobs.fail_paths.append(FailRule(pattern=f"/items/{vanished.id}$", status=404, count=1, method="GET"))
    w.cycle(0)

    assert [b for b in batches(w.model.requests) if "item.get" in b] == [["item.get"] * 3]
    assert w.audit("warned", "weekly") and w.audit("warned", "board")
    assert not w.audit("warned", "vanished")  # never warned about on a read that said it is gone
    decision = w.audit("decision", "vanished")[-1]
    assert decision.rule == "fail_closed:inventory" and decision.detail["action"] == "keep"
    mail = str(w.mails_to("anna@contoso.example"))
    assert "Weekly sync" in mail and "Vendor call" not in mail

    w.cycle(1)  # the next look reads it again (it is there after all) and the notice starts then
    assert w.day_of(w.audit("warned", "vanished")) == [1]


CONSULTANT = """
[[users]]
key = "cons"
display_name = "Consultant"
mail = "cons@partner.example"
has_mailbox = false

[[recordings]]
key = "theirs"
organizer = "cons"
subject = "Partner review"
age_days = 25
"""


def test_the_organizers_mailboxes_are_checked_in_one_batch_and_again_only_after_a_week(make_world):
    """Three organizers get digests on day 0: their mailbox checks share one JSON batch (not a request each);
    the second warning a few days later asks nothing (a week has not passed); the receipts on day 8 ask again.
    A mail address without a mailbox still sends its organizer's digest to the fallback contact."""
    w = make_world(SCENARIO + CONSULTANT)
    asked: dict[int, list[list[str]]] = {}
    for day in range(10):
        w.model.requests.reset()
        w.cycle(day)
        asked[day] = [b for b in batches(w.model.requests) if "user.mailboxSettings" in b]

    assert {day for day, b in asked.items() if b} == {0, 8}
    assert asked[0] == asked[8] == [["user.mailboxSettings"] * 3]
    to = [m["to"] for m in w.model.mail_log]
    assert to.count(["anna@contoso.example"]) == to.count(["bob@contoso.example"]) == 3  # two warnings, a receipt
    assert to.count(["it-support@contoso.example"]) == 3 and ["cons@partner.example"] not in to


def test_a_failed_mailbox_check_warns_organizer_and_fallback_and_is_asked_again_at_the_next_digest(make_world):
    """A check that failed this time (500, not a missing permission) is not stored as "cannot be told" for a
    week: the digest goes to the organizer and the fallback contact, the report says so, and the next digest
    asks Graph again."""
    w = make_world(SCENARIO)
    w.model.knobs.fail_paths.append(FailRule(pattern="/mailboxSettings", status=500, count=2, method="GET"))
    report = w.cycle(0)

    assert ["anna@contoso.example", "it-support@contoso.example"] in [m["to"] for m in w.model.mail_log]
    failed = [p for p in report.problems if p.startswith("could not check whether")]
    assert len(failed) == 1 and "and 1 more person" in failed[0] and "checked again next cycle" in failed[0]
    assert not any("MailboxSettings.Read" in p for p in report.problems)  # not a permission problem
    anna = directory.person(w.db, w.key("anna"))
    assert anna is not None and anna.mailbox_checked_at is None
    asked = []
    for day in range(1, 8):
        w.model.requests.reset()
        w.cycle(day)
        asked += [day for b in batches(w.model.requests) if "user.mailboxSettings" in b]
    assert asked  # the second warning's digest asked again
    assert directory.person(w.db, w.key("anna")).mailbox is True  # type: ignore[union-attr]
