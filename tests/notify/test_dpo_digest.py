"""The weekly DPO digest as the DPO reads it, in Swedish and English, text and HTML."""

from __future__ import annotations

import datetime as dt

import pytest

from teamsretention.notify.dpo_digest import DpoDigest, DpoEntry, IgnoredDecision, render_dpo_digest

DAY = dt.date(2026, 3, 9)


def digest() -> DpoDigest:
    pending = DpoEntry("EX-1", "exception", "recording d/r1", "Alice <b>alice</b>", DAY - dt.timedelta(days=5),
                       "Dispute", "Contract §4", "list", DAY + dt.timedelta(days=9))
    hold = DpoEntry("EX-2", "legal_hold", "organizer alice", "it@contoso.example", DAY - dt.timedelta(days=90),
                    "Litigation", "Case 17", "cli", DAY - dt.timedelta(days=2))
    ignored = IgnoredDecision(dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC), "Bob bob",
                              "Bob bob set EX-1 to Approved in the list (item 1): ignored, not an approver")
    return DpoDigest(DAY, [pending], [hold], [ignored], [], "https://contoso.sharepoint.com/sites/r/Lists/R")


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["REQUESTS AWAITING A DECISION (1)", "(5 days ago, via list)", "review overdue since 2026-03-07",
            "Bob bob set EX-1 to Approved", "Kept while undecided until 2026-03-18"]),
    ("sv", ["BEGÄRANDEN SOM VÄNTAR PÅ BESLUT (1)", "(för 5 dagar sedan, via list)", "försenad sedan 2026-03-07",
            "BESLUT SOM IGNORERADES (1)"]),
])
def test_the_digest_lists_pending_requests_holds_to_review_and_ignored_decisions(lang, words):
    mail = render_dpo_digest(digest(), to=["dpo@contoso.example"], language=lang)
    assert mail.to == ["dpo@contoso.example"] and mail.language == lang
    for w in words:
        assert w in mail.text, w
    assert "week 11" in mail.subject or "vecka 11" in mail.subject
    assert "Alice &lt;b&gt;alice&lt;/b&gt;" in mail.html and "<b>alice</b>" not in mail.html
    assert 'href="https://contoso.sharepoint.com/sites/r/Lists/R"' in mail.html
