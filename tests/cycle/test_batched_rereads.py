"""On the simulator: the cycle's label reads before warnings go through Graph JSON $batch, and an answer inside
the batch is handled as the single request's would be."""

from __future__ import annotations

from teamsretention.simulator.knobs import FailRule

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


def test_label_reads_before_warning_go_out_in_one_batch_each_billed_on_its_own(make_world):
    w = make_world(SCENARIO)
    w.cycle(0)

    log = w.model.requests
    assert log.by_kind["batch"] == 1  # three re-reads, one HTTP request
    assert log.by_kind["item.get"] == 3  # ...and Graph still bills each of them
    assert log.ru_by_kind["batch"] == 0
    batched = [r for r in log.recent if r["kind"] in ("batch", "item.get")]
    assert [r["kind"] for r in batched] == ["item.get", "item.get", "item.get", "batch"]  # inside, then the POST
    assert sorted(w.day_of(w.audit("warned", k))[0] for k in ("weekly", "board", "vanished")) == [0, 0, 0]
    assert len(w.mails_to("anna@contoso.example")) == 1 and len(w.mails_to("bob@contoso.example")) == 1


def test_a_404_inside_the_batch_keeps_the_recording_as_a_single_reads_404_does(make_world):
    w = make_world(SCENARIO)
    vanished = w.model.find_item("vanished")
    # Gone by the time it is read again (the inventory still lists it): the inner GET answers 404.
    w.model.knobs.fail_paths.append(FailRule(pattern=f"/items/{vanished.id}$", status=404, count=1, method="GET"))
    w.cycle(0)

    assert w.model.requests.by_kind["batch"] == 1
    assert w.audit("warned", "weekly") and w.audit("warned", "board")
    assert not w.audit("warned", "vanished")  # never warned about on a read that said it is gone
    decision = w.audit("decision", "vanished")[-1]
    assert decision.rule == "fail_closed:inventory" and decision.detail["action"] == "keep"
    mail = str(w.mails_to("anna@contoso.example"))
    assert "Weekly sync" in mail and "Vendor call" not in mail

    w.cycle(1)  # the next look reads it again (it is there after all) and the notice starts then
    assert w.day_of(w.audit("warned", "vanished")) == [1]
