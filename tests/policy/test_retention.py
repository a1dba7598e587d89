"""Example timelines for the pure policy, told day by day.

Day 0 is the recording date (2026-10-01 in Stockholm). ``live`` runs one governance cycle per day the way
the service does: evaluate with the label unread, read the label when the policy asks, and record a
WarningSent only for a warning that "Graph accepted" (days in ``failed_sends`` lose theirs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

import pytest

from teamsretention.domain import (
    Action,
    AssignmentTag,
    Decision,
    Exemption,
    ExemptionKind,
    ExemptionStatus,
    Facts,
    LabelStatus,
    PolicyConfig,
    Recording,
    RecordingRef,
    RetentionLabel,
    TargetKind,
    WarningSent,
    local_date,
)
from teamsretention.policy import evaluate, validate_policy

DAY0 = dt.date(2026, 10, 1)
POLICY = PolicyConfig()
NO_LABEL = RetentionLabel(status=LabelStatus.NONE)
RECORDING = Recording(
    RecordingRef("drive-1", "item-1"),
    "Weekly-20261001_100000UTC-Meeting Recording.mp4",
    dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC),
)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def at(n: int, hour: int = 6) -> dt.datetime:
    """A moment on day ``n``, local time: the daily cycle runs at 06:00; admins record things before it."""
    return dt.datetime.combine(day(n), dt.time(hour), ZoneInfo("Europe/Stockholm"))


@dataclass
class Timeline:
    facts: Facts
    log: dict[int, Decision] = field(default_factory=dict)

    def actions(self, action: Action) -> list[int]:
        return [n for n, d in self.log.items() if d.action is action]

    @property
    def warned(self) -> list[int]:
        return self.actions(Action.WARN)

    @property
    def deleted(self) -> int | None:
        found = self.actions(Action.DELETE)
        return found[0] if found else None


def live(
    facts: Facts,
    first: int,
    last: int,
    *,
    policy: PolicyConfig = POLICY,
    label: RetentionLabel = NO_LABEL,
    failed_sends: tuple[int, ...] = (),
) -> Timeline:
    """One cycle a day from ``first`` to ``last`` (inclusive), stopping at the deletion."""
    timeline = Timeline(facts)
    for n in range(first, last + 1):
        unread = replace(timeline.facts, label=RetentionLabel())
        decision = evaluate(RECORDING, unread, policy, day(n))
        if decision.needs_label:
            decision = evaluate(RECORDING, replace(timeline.facts, label=label), policy, day(n))
        assert not decision.needs_label
        timeline.log[n] = decision
        if decision.action is Action.WARN and n not in failed_sends:
            assert decision.due is not None and decision.due > day(n)
            sent = WarningSent(sent_on=day(n), announced_due=decision.due, sent_at=at(n))
            timeline.facts = replace(timeline.facts, warnings=(*timeline.facts.warnings, sent))
        if decision.action is Action.DELETE:
            break
    return timeline


def exemption(
    kind: ExemptionKind = ExemptionKind.EXCEPTION,
    status: ExemptionStatus = ExemptionStatus.APPROVED,
    requested: int = 10,
    decided: int | None = 10,
    *,
    valid_until: int | None = None,
    review_on: int | None = None,
    revoked_on: int | None = None,
) -> Exemption:
    def on(n: int | None) -> dt.date | None:
        return None if n is None else day(n)

    return Exemption(
        id="EX-1",
        kind=kind,
        status=status,
        requested_on=day(requested),
        decided_on=on(decided),
        valid_until=on(valid_until),
        review_on=on(review_on),
        revoked_on=on(revoked_on),
        decided_at=None if decided is None else at(decided, 5),  # recorded before that day's cycle
        revoked_at=None if revoked_on is None else at(revoked_on, 5),
        decided_by="dpo@contoso.example",
    )


def tag(
    tagged: int, *, active: bool = True, closed: int | None = None, untagged: int | None = None
) -> AssignmentTag:
    return AssignmentTag(
        "A-7",
        "Acme audit",
        active,
        day(tagged),
        None if closed is None else day(closed),
        None if untagged is None else day(untagged),
        closed_at=None if closed is None else at(closed, 5),  # recorded before that day's cycle
        untagged_at=None if untagged is None else at(untagged, 5),
    )


# --- the plain path -------------------------------------------------------------------------------


def test_warned_at_seven_and_one_day_then_deleted_on_the_due_day() -> None:
    t = live(Facts(), 0, 60)
    assert t.warned == [23, 29]
    assert t.deleted == 30
    assert {t.log[n].rule for n in range(23)} == {"young"}
    assert t.log[23].due == day(30) and t.log[23].rule == "base_due"
    assert t.log[25].action is Action.KEEP and t.log[25].rule == "base_due"
    assert "next warning on 2026-10-30" in t.log[25].reason
    assert t.log[30].reason == (
        "Recorded 2026-10-01; 30-day retention ends 2026-10-31; "
        "organizer warned 2026-10-24 and 2026-10-30; deleted on the due date."
    )


def test_found_at_35_days_is_warned_and_deleted_only_after_minimum_notice() -> None:
    t = live(Facts(), 35, 60)
    assert t.warned == [35, 41]
    assert t.deleted == 42
    assert t.log[35].due == day(42) and t.log[35].rule == "notice_floor"
    assert t.log[38].action is Action.KEEP and t.log[38].rule == "notice_floor"
    assert t.log[42].rule == "notice_floor"


def test_young_recording_says_when_the_first_warning_comes() -> None:
    decision = evaluate(RECORDING, Facts(label=NO_LABEL), POLICY, day(3))
    assert (decision.action, decision.rule, decision.due) == (Action.KEEP, "young", day(30))
    assert "first warning on 2026-10-24" in decision.reason


def test_a_failed_send_starts_no_clock_and_delays_deletion() -> None:
    t = live(Facts(), 0, 60, failed_sends=(23,))
    assert t.warned == [23, 24, 30]
    assert t.log[24].due == day(31)
    assert t.deleted == 31


def test_a_failed_last_warning_is_retried_and_never_announces_today() -> None:
    t = live(Facts(), 0, 60, failed_sends=(29,))
    assert t.warned == [23, 29, 30]
    assert t.log[30].due == day(31)
    assert t.deleted == 31


def test_a_promised_date_is_never_brought_forward() -> None:
    promised = Facts(warnings=(WarningSent(day(23), announced_due=day(40)),))
    t = live(promised, 24, 80)
    assert t.warned == [33, 39]  # offsets count back from the promised date
    assert t.deleted == 40
    assert t.log[30].action is Action.KEEP and t.log[30].rule == "promised"
    assert "promised 2026-11-10" in t.log[40].reason


# --- label -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, words",
    [
        (
            RetentionLabel(LabelStatus.PRESENT, "Contracts 10y", is_delete_allowed=False),
            "does not allow deletion",
        ),
        (RetentionLabel(LabelStatus.PRESENT, "Board", is_record_locked=True), "locks it as a record"),
        (RetentionLabel(LabelStatus.PRESENT, "Keep 5y", behavior="retain"), "retains it"),
    ],
)
def test_a_retention_label_that_blocks_deletion_keeps_it_forever(label: RetentionLabel, words: str) -> None:
    t = live(Facts(), 0, 400, label=label)
    assert t.warned == [] and t.deleted is None
    assert t.log[300].rule == "label" and label.name is not None and label.name in t.log[300].reason
    assert words in t.log[300].reason


def test_an_unread_label_is_asked_for_before_any_warning_or_deletion() -> None:
    young = evaluate(RECORDING, Facts(), POLICY, day(5))
    warn = evaluate(RECORDING, Facts(), POLICY, day(23))
    assert not young.needs_label
    assert warn.action is Action.WARN and warn.needs_label
    deletable = Facts(warnings=(WarningSent(day(23), day(30)), WarningSent(day(29), day(30))))
    assert evaluate(RECORDING, deletable, POLICY, day(30)).needs_label
    assert not evaluate(RECORDING, replace(deletable, label=NO_LABEL), POLICY, day(30)).needs_label


# --- fail closed -----------------------------------------------------------------------------------


def test_unknown_facts_keep_and_name_the_first_fact() -> None:
    overdue = Facts(label=NO_LABEL, unknown=frozenset({"store", "inventory"}))
    decision = evaluate(RECORDING, overdue, POLICY, day(90))
    assert (decision.action, decision.rule, decision.due) == (Action.KEEP, "fail_closed:inventory", None)
    assert decision.recorded_on == DAY0 and decision.is_fail_closed


def test_a_failed_label_read_keeps() -> None:
    decision = evaluate(RECORDING, Facts(label=RetentionLabel(LabelStatus.FAILED)), POLICY, day(90))
    assert (decision.action, decision.rule) == (Action.KEEP, "fail_closed:label")


@pytest.mark.parametrize(
    "facts, rule",
    [
        (Facts(exemptions=(exemption(status=ExemptionStatus.REVOKED),)), "fail_closed:exemptions"),
        (
            Facts(exemptions=(exemption(status=ExemptionStatus.REJECTED, decided=None),)),
            "fail_closed:exemptions",
        ),
        (Facts(assignments=(tag(5, active=False),)), "fail_closed:assignments"),
    ],
)
def test_records_missing_the_date_a_cover_ended_keep(facts: Facts, rule: str) -> None:
    decision = evaluate(RECORDING, replace(facts, label=NO_LABEL), POLICY, day(90))
    assert (decision.action, decision.rule) == (Action.KEEP, rule)


# --- exemptions and holds --------------------------------------------------------------------------


def test_legal_hold_keeps_forever_and_its_revocation_starts_a_fresh_episode() -> None:
    hold = exemption(ExemptionKind.LEGAL_HOLD, requested=25, decided=26, review_on=100)
    t = live(Facts(exemptions=(hold,)), 0, 400)
    assert t.warned == [23] and t.deleted is None
    assert t.log[300].rule == "legal_hold" and t.log[300].due is None
    assert "review on 2027-01-09" in t.log[50].reason
    assert "review overdue since 2027-01-09" in t.log[300].reason

    revoked = replace(hold, status=ExemptionStatus.REVOKED, revoked_on=day(401), revoked_at=at(401, 5))
    after = live(replace(t.facts, exemptions=(revoked,)), 401, 500)
    assert after.warned == [401, 407]  # the warning of day 23 belongs to the old episode
    assert after.log[401].episode_start == day(401) and after.log[401].due == day(408)
    assert after.deleted == 408


def test_open_ended_exception_keeps_without_a_date() -> None:
    decision = evaluate(RECORDING, Facts(exemptions=(exemption(),)), POLICY, day(200))
    assert (decision.action, decision.rule, decision.due) == (Action.KEEP, "exemption", None)
    assert "EX-1" in decision.reason and "dpo@contoso.example" in decision.reason


def test_time_boxed_exception_warns_before_its_end_and_deletes_at_its_end() -> None:
    t = live(Facts(exemptions=(exemption(valid_until=60),)), 0, 100)
    assert t.warned == [53, 59]
    assert t.deleted == 60
    assert t.log[40].rule == "exemption" and t.log[40].due == day(60)
    assert t.log[53].rule == "exemption" and t.log[53].due == day(60)
    assert t.log[60].rule == "exemption"


def test_exception_revoked_before_its_end_starts_a_fresh_episode() -> None:
    revoked = exemption(status=ExemptionStatus.REVOKED, valid_until=90, revoked_on=50)
    t = live(Facts(exemptions=(revoked,)), 0, 100)
    assert t.warned == [50, 56]
    assert t.deleted == 57
    assert "revoked on 2026-11-20" in t.log[50].reason


def test_pending_request_keeps_for_the_grace_then_warns_afresh() -> None:
    pending = exemption(status=ExemptionStatus.PENDING, requested=28, decided=None)
    t = live(Facts(exemptions=(pending,)), 0, 100)
    assert t.warned == [23, 42, 48]
    assert {t.log[n].rule for n in range(28, 42)} == {"pending"}
    assert t.log[42].episode_start == day(42) and t.log[42].due == day(49)
    assert "not decided within 14 days" in t.log[42].reason
    assert t.deleted == 49


def test_rejected_request_warns_afresh_from_the_rejection() -> None:
    rejected = exemption(status=ExemptionStatus.REJECTED, requested=28, decided=31)
    t = live(Facts(exemptions=(rejected,)), 0, 100)
    assert t.warned == [23, 31, 37]
    assert t.log[29].rule == "pending"
    assert t.deleted == 38


def test_asking_again_after_a_refusal_keeps_only_what_is_left_of_the_first_requests_grace() -> None:
    first = exemption(status=ExemptionStatus.REJECTED, requested=28, decided=31)
    again = replace(exemption(status=ExemptionStatus.PENDING, requested=33, decided=None), id="EX-2")
    t = live(Facts(exemptions=(first, again)), 0, 100)
    assert {t.log[n].rule for n in range(33, 42)} == {"pending"}  # until day 42 (28 + 14), not 47 (33 + 14)
    assert "14 days from the first request for it" in t.log[33].reason
    assert t.log[42].episode_start == day(42) and t.deleted == 49


def test_asking_again_once_the_grace_is_over_neither_keeps_nor_restarts_the_notice() -> None:
    first = exemption(status=ExemptionStatus.PENDING, requested=28, decided=None)
    alone = live(Facts(exemptions=(first,)), 0, 100)
    # asked again every few days after the grace ran out (day 42), by anyone: nothing changes
    again = tuple(replace(exemption(status=ExemptionStatus.PENDING, requested=n, decided=None), id=f"EX-{n}")
                  for n in (43, 45, 47))
    t = live(Facts(exemptions=(first, *again)), 0, 100)
    assert t.warned == alone.warned == [23, 42, 48] and t.deleted == alone.deleted == 49
    assert all(t.log[n].rule != "pending" for n in range(42, 49))


def test_a_request_after_an_approval_gets_its_own_grace() -> None:
    ended = exemption(status=ExemptionStatus.EXPIRED, requested=20, decided=21, valid_until=40)
    renewal = replace(exemption(status=ExemptionStatus.PENDING, requested=39, decided=None), id="EX-2")
    t = live(Facts(exemptions=(ended, renewal)), 0, 100)
    assert {t.log[n].rule for n in range(40, 53)} == {"pending"}  # 39 + 14: the first request since the approval


def test_a_legal_hold_asked_for_after_refused_exceptions_has_its_own_grace() -> None:
    first = exemption(status=ExemptionStatus.REJECTED, requested=28, decided=31)
    hold = replace(exemption(ExemptionKind.LEGAL_HOLD, ExemptionStatus.PENDING, requested=33, decided=None,
                             review_on=90), id="EX-2")
    t = live(Facts(exemptions=(first, hold)), 0, 100)
    assert {t.log[n].rule for n in range(33, 47)} == {"pending"}


def test_someone_elses_request_after_a_lapsed_one_has_its_own_grace() -> None:
    lapsed = replace(exemption(ExemptionKind.LEGAL_HOLD, ExemptionStatus.PENDING, requested=2, decided=None,
                               review_on=90), requested_by="Anna anna")
    dpo = replace(exemption(ExemptionKind.LEGAL_HOLD, ExemptionStatus.PENDING, requested=25, decided=None,
                            review_on=90), id="EX-2", requested_by="Dana dpo")
    t = live(Facts(exemptions=(lapsed, dpo)), 0, 100)
    assert {t.log[n].rule for n in range(25, 39)} == {"pending"}  # waits for an IT admin, kept meanwhile


def test_the_same_person_renamed_asking_again_adds_no_days() -> None:
    """The requester is one person by Entra object id: a new display name is no new person with a new grace."""
    first = replace(exemption(status=ExemptionStatus.REJECTED, requested=28, decided=31),
                    requested_by="Anna Berg 0a1b", requested_by_id="0a1b")
    again = replace(exemption(status=ExemptionStatus.PENDING, requested=33, decided=None), id="EX-2",
                    requested_by="Anna Lind 0a1b", requested_by_id="0A1B")
    t = live(Facts(exemptions=(first, again)), 0, 100)
    assert {t.log[n].rule for n in range(33, 42)} == {"pending"} and t.log[42].rule != "pending"
    assert t.deleted == 49  # as if she had not been renamed


def test_a_refusal_from_before_the_recording_was_made_does_not_take_its_grace() -> None:
    # an organizer-wide request refused long before this recording existed: today's request has a grace
    old = replace(exemption(status=ExemptionStatus.REJECTED, requested=-400, decided=-398),
                  target_kind=TargetKind.ORGANIZER, target_id="anna")
    again = replace(exemption(status=ExemptionStatus.PENDING, requested=25, decided=None), id="EX-2",
                    target_kind=TargetKind.ORGANIZER, target_id="anna")
    t = live(Facts(exemptions=(old, again)), 0, 100)
    assert {t.log[n].rule for n in range(25, 39)} == {"pending"}


def test_a_request_for_another_target_has_its_own_grace() -> None:
    first = exemption(status=ExemptionStatus.REJECTED, requested=28, decided=31)
    site = replace(exemption(status=ExemptionStatus.PENDING, requested=33, decided=None), id="EX-2",
                   target_kind=TargetKind.SITE, target_id="team-1")
    t = live(Facts(exemptions=(first, site)), 0, 100)
    assert {t.log[n].rule for n in range(33, 47)} == {"pending"}


# --- assignments -----------------------------------------------------------------------------------


def test_active_assignment_keeps_until_the_cap_then_warns_and_deletes_at_the_cap() -> None:
    policy = PolicyConfig(assignment_max_days=90)
    t = live(Facts(assignments=(tag(5),)), 0, 200, policy=policy)
    assert t.warned == [83, 89]
    assert t.deleted == 90
    assert t.log[30].rule == "assignment" and t.log[30].due == day(90)
    assert t.log[83].rule == "assignment"


def test_closed_assignment_warns_afresh_and_deletes_after_full_notice() -> None:
    t = live(Facts(assignments=(tag(25, active=False, closed=50),)), 0, 100)
    assert t.warned == [23, 50, 56]
    assert t.log[50].episode_start == day(50) and "closed on 2026-11-20" in t.log[50].reason
    assert t.deleted == 57  # first warning of the new episode + 7 days


def test_a_tag_added_after_the_assignment_closed_covers_nothing() -> None:
    t = live(Facts(assignments=(tag(12, active=False, closed=10),)), 0, 100)
    assert t.warned == [23, 29] and t.deleted == 30


def test_removed_tag_ends_the_cover() -> None:
    t = live(Facts(assignments=(tag(5, untagged=40),)), 0, 100)
    assert t.warned == [40, 46] and t.deleted == 47


def test_precedence_when_several_covers_hold() -> None:
    hold = exemption(ExemptionKind.LEGAL_HOLD, requested=20, decided=20)
    pending = replace(exemption(status=ExemptionStatus.PENDING, requested=40, decided=None), id="EX-2")
    both = Facts(assignments=(tag(5),), exemptions=(pending,))
    assert (
        evaluate(RECORDING, replace(both, exemptions=(hold, pending)), POLICY, day(45)).rule == "legal_hold"
    )
    kept = evaluate(RECORDING, both, POLICY, day(45))
    assert (kept.action, kept.rule, kept.due) == (Action.KEEP, "assignment", None)
    assert evaluate(RECORDING, Facts(exemptions=(pending,)), POLICY, day(45)).rule == "pending"


# --- restore, time zone, validation ----------------------------------------------------------------


def test_restored_after_deletion_starts_a_new_episode() -> None:
    t = live(Facts(), 0, 60)
    assert t.deleted == 30
    back = live(replace(t.facts, restored_on=(day(40),), restored_at=(at(40, 5),)), 40, 100)
    assert back.warned == [40, 46]
    assert back.log[40].episode_start == day(40) and "restored" in back.log[40].reason
    assert back.deleted == 47


def test_recorded_date_is_the_local_date_in_the_policy_time_zone() -> None:
    late = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)
    assert local_date(late, "Europe/Stockholm") == dt.date(2026, 3, 29)
    assert local_date(late, "UTC") == dt.date(2026, 3, 28)
    with pytest.raises(ValueError, match="timezone-aware"):  # one date function for the whole product
        local_date(late.replace(tzinfo=None), "Europe/Stockholm")
    decision = evaluate(replace(RECORDING, created_at=late), Facts(), POLICY, dt.date(2026, 4, 1))
    assert decision.recorded_on == dt.date(2026, 3, 29) and decision.due == dt.date(2026, 4, 28)


def test_validate_policy_accepts_the_defaults() -> None:
    assert validate_policy(PolicyConfig()) == []
    assert validate_policy(PolicyConfig(assignment_max_days=10, pending_request_grace_days=0)) == []


@pytest.mark.parametrize(
    "policy, words",
    [
        (PolicyConfig(warning_days=(7, 7)), "warning_days = [7, 7]: must be distinct positive numbers of days"),
        (PolicyConfig(warning_days=(7, 0)), "warning_days = [7, 0]: must be distinct positive numbers of days"),
        (PolicyConfig(warning_days=()), "warning_days = []: must name at least one day: no deletion without notice"),
        (PolicyConfig(minimum_notice_days=8), "minimum_notice_days = 8: must be at most max(policy.warning_days) = 7"),
        (PolicyConfig(minimum_notice_days=0), "minimum_notice_days = 0: must be at least 1"),
        (PolicyConfig(retention_days=0), "retention_days = 0: must be at least 1"),
        (PolicyConfig(assignment_max_days=0), "assignment_max_days = 0: must be at least 1"),
        (PolicyConfig(pending_request_grace_days=-1), "pending_request_grace_days = -1: must be at least 0"),
        (PolicyConfig(timezone="Mars/Olympus"), "timezone = 'Mars/Olympus': unknown time zone 'Mars/Olympus'"),
    ],
)
def test_validate_policy_names_each_problem(policy: PolicyConfig, words: str) -> None:
    problems = validate_policy(policy)
    assert len(problems) == 1 and words in problems[0]


# --- labels that say nothing, dry-run periods, endings within a day (real-tenant review) ----------------


@pytest.mark.parametrize("label", [
    RetentionLabel(LabelStatus.PRESENT, "Unclear"),  # retentionSettings: {}
    RetentionLabel(LabelStatus.PRESENT, "Future", is_delete_allowed=True, behavior="unknownFutureValue"),
    RetentionLabel(LabelStatus.PRESENT, "No behaviour", is_delete_allowed=True, is_record_locked=False),
    RetentionLabel(LabelStatus.PRESENT, "Keep, deletable", is_delete_allowed=True, behavior="retain"),
])
def test_a_label_that_does_not_clearly_allow_deletion_blocks_it(label: RetentionLabel) -> None:
    t = live(Facts(), 0, 400, label=label)
    assert t.warned == [] and t.deleted is None and t.log[300].rule == "label"
    assert f"'{label.name}'" in t.log[300].reason


def test_only_a_label_that_clearly_allows_deletion_lets_the_policy_run() -> None:
    allowing = RetentionLabel(LabelStatus.PRESENT, "Short-lived", is_delete_allowed=True, is_record_locked=False,
                              behavior="doNotRetain")
    t = live(Facts(), 0, 40, label=allowing)
    assert t.warned == [23, 29] and t.deleted == 30


def test_a_dry_run_period_ends_the_episode_so_enforcement_starts_again_with_warnings() -> None:
    # Warned on days 23 and 29 by an enforcing cycle, then enforce = false from day 29 to day 60.
    warned = (WarningSent(day(23), day(30), at(23)), WarningSent(day(29), day(30), at(29)))
    back_on = at(60)  # the first enforcing cycle after the dry run starts at 06:00
    facts = Facts(warnings=warned, enforced_since=back_on)
    first = evaluate(RECORDING, replace(facts, label=NO_LABEL), POLICY, day(60))
    assert first.action is Action.WARN and first.episode_start == day(60)
    assert "enforcement was switched back on on 2026-11-30 after a dry run" in first.reason
    t = live(facts, 60, 100)
    assert t.warned == [60, 66] and t.deleted == 67  # a full new notice period, never a deletion first


def test_a_recording_never_warned_before_a_dry_run_carries_no_extra_episode() -> None:
    decision = evaluate(RECORDING, Facts(label=NO_LABEL, enforced_since=at(0, 9)), POLICY, day(23))
    assert decision.action is Action.WARN and decision.episode_start is None


def test_a_warning_sent_earlier_the_same_day_as_an_ending_does_not_count_for_the_new_episode() -> None:
    # Warned at 06:00 on day 23 while tagged; the assignment is closed at 14:00 the same day.
    closed = tag(0, active=False, closed=23)
    closed = replace(closed, closed_at=at(23, 14))
    morning = WarningSent(day(23), day(30), at(23))
    decision = evaluate(RECORDING, Facts(label=NO_LABEL, assignments=(closed,), warnings=(morning,)), POLICY,
                        day(23))
    assert decision.action is Action.WARN and decision.episode_start == day(23)  # warned again, afresh
    after = replace(morning, sent_at=at(23, 15))  # a warning after the closing was known counts
    decision = evaluate(RECORDING, Facts(label=NO_LABEL, assignments=(closed,), warnings=(after,)), POLICY,
                        day(24))
    assert decision.action is Action.KEEP and decision.due == day(30)


def test_an_ending_whose_time_is_unknown_lets_no_warning_of_that_day_count() -> None:
    revoked = replace(exemption(ExemptionKind.LEGAL_HOLD, requested=25, decided=26, review_on=100),
                      status=ExemptionStatus.REVOKED, revoked_on=day(50), revoked_at=None)
    same_day = WarningSent(day(50), day(57), at(50, 23))
    decision = evaluate(RECORDING, Facts(label=NO_LABEL, exemptions=(revoked,), warnings=(same_day,)), POLICY,
                        day(51))
    assert decision.action is Action.WARN  # the cautious reading: warn again rather than count it


def test_a_request_recorded_after_its_grace_ran_out_counts_no_warning_sent_before_it_was_known() -> None:
    # Recorded on day 29 at 10:00 but dated day 0: its 14-day grace "ended" on day 14, before anyone knew.
    late = Exemption(id="EX-7", kind=ExemptionKind.EXCEPTION, status=ExemptionStatus.PENDING, requested_on=day(0),
                     recorded_at=at(29, 10))
    earlier = (WarningSent(day(23), day(30), at(23)), WarningSent(day(29), day(30), at(29)))
    decision = evaluate(RECORDING, Facts(label=NO_LABEL, exemptions=(late,), warnings=earlier), POLICY, day(30))
    assert decision.action is Action.WARN  # warned afresh: both warnings came before the request was known
    assert decision.due is not None and decision.due >= day(37)
    unknown = replace(late, recorded_at=None)  # a request recorded with no moment: the date is all we know
    assert evaluate(RECORDING, Facts(label=NO_LABEL, exemptions=(unknown,), warnings=earlier), POLICY,
                    day(30)).action is Action.DELETE
