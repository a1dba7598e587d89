"""A sender mailbox Graph refuses (notifications.sender) is one problem naming it, not one per organizer: the cycle
stops sending after the first refusal, the other digests stay unsent for the next cycle, no warning counts and no
deletion that needed a warning happens. Graph's answers are the simulator's: 404 ErrorInvalidUser (no such user),
404 MailboxNotEnabledForRESTAPI (no Exchange Online mailbox), 403 ErrorAccessDenied (an application access
policy that leaves the mailbox out)."""

from __future__ import annotations

import dataclasses

import pytest

from .simworld import SENDER

ORGANIZERS = """
[[users]]
key = "cecilia"
display_name = "Cecilia Lund"

[[users]]
key = "noreply"
display_name = "No reply (unlicensed)"
has_onedrive = false
has_mailbox = false

[[recordings]]
key = "a"
organizer = "anna"
subject = "Anna's review"
age_days = 25

[[recordings]]
key = "b"
organizer = "bob"
subject = "Bob's demo"
age_days = 25

[[recordings]]
key = "c"
organizer = "cecilia"
subject = "Cecilia's planning"
age_days = 25
"""


@pytest.mark.parametrize(("sender", "knobs", "answer", "fix"), [
    ("nobody@contoso.example", "", "404 ErrorInvalidUser", "no mailbox has this address in the tenant"),
    ("noreply@contoso.example", "", "404 MailboxNotEnabledForRESTAPI", "has no Exchange Online mailbox"),
    (SENDER, f'[knobs]\ndenied_mail_senders = ["{SENDER}"]\n', "403 ErrorAccessDenied",
     "grant the Mail.Send application permission"),
], ids=["no-such-user", "no-mailbox", "access-policy"])
def test_a_refused_sender_is_one_problem_naming_it_and_stops_the_sending(make_world, sender, knobs, answer, fix):
    w = make_world(knobs + ORGANIZERS, sender=sender)

    report = w.cycle(0)

    assert w.model.requests.by_kind["mail.send"] == 1  # one refusal, then no more attempts
    assert w.model.mail_log == []
    sender_problems = [p for p in report.problems if "notifications.sender" in p]
    assert len(sender_problems) == 1
    problem = sender_problems[0]
    assert problem.startswith(f"notifications.sender = {sender}: Graph refused to send from this mailbox ({answer}")
    assert fix in problem
    assert "2 more digests (2 recordings) were not attempted and go out with the next cycle" in problem
    assert not [p for p in report.problems if p.startswith("digest to")]  # never blamed on a recipient
    assert report.warned == 0 and report.digests_sent == 0 and report.exit_code == 1
    # Only the one digest tried is on record (failed, so sent again later); the others were never intended.
    assert len(w.audit("warn_failed")) == 1 and len(w.audit("warn_intended")) == 1 and not w.audit("warned")


def test_the_next_cycle_sends_every_digest_once_the_sender_is_fixed(make_world):
    w = make_world(ORGANIZERS, sender="nobody@contoso.example")
    w.cycle(0)

    w.config = dataclasses.replace(w.config, sender=SENDER)
    report = w.cycle(0)  # the same day, run again after the fix

    assert report.digests_sent == 3 and report.warned == 3 and report.exit_code == 0
    assert sorted(m["to"][0] for m in w.model.mail_log) == [
        "anna@contoso.example", "bob@contoso.example", "cecilia@contoso.example"]
    assert {a.recording_name.split("-")[0] for a in w.audit("warned")} == {
        "Anna's review", "Bob's demo", "Cecilia's planning"}


def test_no_deletion_that_needed_a_refused_warning_happens(make_world):
    w = make_world("""
[[recordings]]
key = "r"
organizer = "anna"
subject = "Weekly"
age_days = 22
""")
    w.days(0, 6)  # the 7-day warning went out on day 1; deletion is due on day 8 after the 1-day warning
    assert w.day_of(w.audit("warned", "r")) == [1]
    working = w.config
    w.config = dataclasses.replace(working, sender="nobody@contoso.example")
    w.days(7, 9)  # the 1-day warning is refused on day 7: no deletion on day 8 or after
    assert not w.in_recycle_bin("r") and not w.audit("deleted", "r")
    assert all(any("notifications.sender" in p for p in w.reports[d].problems) for d in (7, 8, 9))

    w.config = working
    w.days(10, 20)
    warned_again = [d for d in w.day_of(w.audit("warned", "r")) if d >= 10]
    deleted = w.day_of(w.audit("deleted", "r"))
    assert warned_again and deleted and deleted[0] > warned_again[0]  # warned first, deleted only after notice
