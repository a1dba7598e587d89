"""Properties of the policy over random stories, each lived one cycle a day.

A story is a recording, the covers that come and go around it (dated facts: the policy reads them as of
each day), the days on which mail fails, and maybe a restore after the deletion. The safety checks below
are written from the design's words, not from the policy's code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    WarningSent,
    local_date,
)
from teamsretention.policy import evaluate

START = dt.date(2026, 1, 1)
HORIZON = 420
APPROVED = {ExemptionStatus.APPROVED, ExemptionStatus.EXPIRED, ExemptionStatus.REVOKED}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


@st.composite
def policies(draw: st.DrawFn) -> PolicyConfig:
    offsets = draw(st.lists(st.integers(1, 10), min_size=1, max_size=3, unique=True))
    return PolicyConfig(
        retention_days=draw(st.integers(1, 40)),
        warning_days=tuple(sorted(offsets, reverse=True)),
        minimum_notice_days=draw(st.integers(1, max(offsets))),
        assignment_max_days=draw(st.integers(1, 120)),
        pending_request_grace_days=draw(st.integers(0, 20)),
        timezone=draw(st.sampled_from(["Europe/Stockholm", "UTC", "America/New_York", "Pacific/Auckland"])),
    )


@st.composite
def tags(draw: st.DrawFn) -> AssignmentTag:
    tagged = draw(st.integers(0, 60))
    closed = draw(st.none() | st.integers(0, 200))
    untagged = draw(st.none() | st.integers(tagged, 200))
    return AssignmentTag(
        "A-1",
        "Acme",
        closed is None,
        day(tagged),
        None if closed is None else day(closed),
        None if untagged is None else day(untagged),
    )


@st.composite
def exemptions(draw: st.DrawFn) -> Exemption:
    requested = draw(st.integers(0, 60))
    status = draw(st.sampled_from(list(ExemptionStatus)))
    kind = draw(st.sampled_from(list(ExemptionKind)))
    decided = None if status is ExemptionStatus.PENDING else requested + draw(st.integers(0, 30))
    valid_until = None
    if kind is ExemptionKind.EXCEPTION and decided is not None:
        valid_until = draw(st.none() | st.integers(decided, decided + 100))
    if status is ExemptionStatus.EXPIRED and valid_until is None:
        status = ExemptionStatus.APPROVED
    revoked = (
        decided + draw(st.integers(0, 150))
        if status is ExemptionStatus.REVOKED and decided is not None
        else None
    )
    return Exemption(
        "EX-1",
        kind,
        status,
        day(requested),
        decided_on=None if decided is None else day(decided),
        valid_until=None if valid_until is None else day(valid_until),
        review_on=day(requested + 60),
        revoked_on=None if revoked is None else day(revoked),
    )


LABELS = st.sampled_from(
    [
        RetentionLabel(LabelStatus.NONE),
        RetentionLabel(LabelStatus.NONE),
        RetentionLabel(LabelStatus.NONE),
        RetentionLabel(LabelStatus.PRESENT, "Keep", is_delete_allowed=True, behavior="doNotRetain"),
        RetentionLabel(LabelStatus.PRESENT, "Hold", is_delete_allowed=False, behavior="retain"),
    ]
)


@dataclass(frozen=True)
class Story:
    policy: PolicyConfig
    recording: Recording
    facts: Facts
    found: int
    failed_sends: frozenset[int]
    restore_after: int | None


@st.composite
def stories(draw: st.DrawFn) -> Story:
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
    recording = Recording(RecordingRef("d", "i"), "r.mp4", created)
    found = draw(st.integers(0, 60))
    # Warnings from before we found it (another instance, an edited fact): any date they promised stands.
    earlier = draw(st.lists(st.tuples(st.integers(0, found), st.integers(1, 40)), max_size=2))
    facts = Facts(
        label=draw(LABELS),
        assignments=tuple(draw(st.lists(tags(), max_size=2))),
        exemptions=tuple(draw(st.lists(exemptions(), max_size=2))),
        warnings=tuple(WarningSent(day(n - 1), day(n - 1 + k)) for n, k in earlier if n > 0),
    )
    failed = frozenset(draw(st.lists(st.integers(0, HORIZON), max_size=6)))
    return Story(draw(policies()), recording, facts, found, failed, draw(st.none() | st.integers(1, 40)))


def live(story: Story) -> list[tuple[int, Facts, Decision]]:
    """Every cycle's day, the facts it saw and its decision; a restore reopens the story after a deletion."""
    facts, log, n, restored = story.facts, [], story.found, False
    while n <= HORIZON:
        decision = evaluate(story.recording, facts, story.policy, day(n))
        log.append((n, facts, decision))
        if decision.action is Action.WARN and n not in story.failed_sends:
            assert decision.due is not None
            facts = replace(facts, warnings=(*facts.warnings, WarningSent(day(n), decision.due)))
        if decision.action is Action.DELETE:
            if story.restore_after is None or restored:
                break
            restored, n = True, n + story.restore_after
            facts = replace(facts, restored_on=(day(n),))
            continue
        n += 1
    return log


# --- what the design says, read as of a day --------------------------------------------------------


def approved_on(e: Exemption, today: dt.date) -> dt.date | None:
    when = e.decided_on or e.requested_on
    return when if e.status in APPROVED and when <= today else None


def exemption_in_force(e: Exemption, today: dt.date) -> bool:
    if approved_on(e, today) is None or (e.revoked_on is not None and e.revoked_on <= today):
        return False
    return e.kind is ExemptionKind.LEGAL_HOLD or e.valid_until is None or today < e.valid_until


def grace_from(e: Exemption, facts: Facts, grace: int, today: dt.date, recorded: dt.date) -> dt.date:
    """A request's grace counts from the first request by the same person, of its kind, for its target, since one
    was last approved, among those whose grace reached past the recording's date."""
    same = [r for r in facts.exemptions if r.requested_on <= today and (
        r.kind, r.target_kind, r.target_id, r.requester) == (e.kind, e.target_kind, e.target_id, e.requester)
        and (r.requested_on, len(r.id), r.id) <= (e.requested_on, len(e.id), e.id)
        and (r is e or r.requested_on + dt.timedelta(days=grace) > recorded)]
    approved = [a for r in same if r is not e and (a := approved_on(r, today)) is not None and a <= e.requested_on]
    return min(r.requested_on for r in same if not approved or r.requested_on >= max(approved))


def grace_of(e: Exemption, facts: Facts, grace: int, today: dt.date, recorded: dt.date) -> dt.date | None:
    """The end of a request's grace; None when it was made once the grace was over (it keeps nothing)."""
    start = grace_from(e, facts, grace, today, recorded)
    end = start + dt.timedelta(days=grace)
    return None if start < e.requested_on and end <= e.requested_on else end


def pending_in_grace(e: Exemption, facts: Facts, grace: int, today: dt.date, recorded: dt.date) -> bool:
    undecided = e.status is ExemptionStatus.PENDING or (e.decided_on is not None and e.decided_on > today)
    end = grace_of(e, facts, grace, today, recorded) if e.requested_on <= today else None
    return undecided and end is not None and e.requested_on <= today < end


def tag_stop(t: AssignmentTag, today: dt.date) -> dt.date | None:
    return min((d for d in (t.closed_on, t.untagged_on) if d is not None and d <= today), default=None)


def assignment_in_force(t: AssignmentTag, cap: dt.date, today: dt.date) -> bool:
    return t.tagged_on <= today < cap and tag_stop(t, today) is None


def ends_without_known_end(
    facts: Facts, policy: PolicyConfig, recorded: dt.date, today: dt.date
) -> list[dt.date]:
    """Days on which a cover that really was in force stopped with no date announced beforehand."""
    cap = recorded + dt.timedelta(days=policy.assignment_max_days)
    ends = [r for r in facts.restored_on if r <= today]
    for t in facts.assignments:
        stop = tag_stop(t, today)
        if stop is not None and t.tagged_on <= stop < cap:
            ends.append(stop)
        elif stop is not None and stop < t.tagged_on <= today and t.tagged_on < cap:
            ends.append(t.tagged_on)  # a stop dated before the tag, not known to be recorded before it
    for e in facts.exemptions:
        if e.requested_on > today:
            continue
        approved = approved_on(e, today)
        revoked = e.revoked_on if e.revoked_on is not None and e.revoked_on <= today else None
        open_end = e.kind is ExemptionKind.LEGAL_HOLD or e.valid_until is None
        if (
            approved
            and revoked
            and approved <= revoked
            and (open_end or (e.valid_until and revoked < e.valid_until))
        ):
            ends.append(revoked)
        decided = e.decided_on if e.decided_on is not None and e.decided_on <= today else None
        decided = decided or (e.requested_on if approved else None)
        grace_end = grace_of(e, facts, policy.pending_request_grace_days, today, recorded)
        if grace_end is None:
            continue  # asked again once the grace was over: it keeps nothing and ends nothing
        if grace_end <= today and (decided is None or decided >= grace_end):
            ends.append(grace_end)
        elif e.status is ExemptionStatus.REJECTED and decided is not None and decided < grace_end:
            ends.append(decided)
    return ends


def check_deletion(story: Story, today: int, facts: Facts, decision: Decision) -> None:
    policy, d = story.policy, day(today)
    recorded = local_date(story.recording.created_at, policy.timezone)
    cap = recorded + dt.timedelta(days=policy.assignment_max_days)
    assert not facts.label.blocks_deletion
    assert not any(exemption_in_force(e, d) for e in facts.exemptions)
    assert not any(assignment_in_force(t, cap, d) for t in facts.assignments)
    assert not any(pending_in_grace(e, facts, policy.pending_request_grace_days, d, recorded)
                   for e in facts.exemptions)
    ends = ends_without_known_end(facts, policy, recorded, d)
    start = max(ends, default=None)
    assert decision.episode_start == start
    episode = [w for w in facts.warnings if start is None or w.sent_on >= start]
    assert episode, "a deletion needs a warning sent after the last cover ended"
    assert d >= min(w.sent_on for w in episode) + dt.timedelta(days=policy.minimum_notice_days)
    assert d >= max(w.announced_due for w in episode)
    assert decision.due is not None and d >= decision.due
    for k in policy.warning_days:
        assert any(w.sent_on >= decision.due - dt.timedelta(days=k) for w in episode), (
            f"offset {k} unsatisfied"
        )


@SETTINGS
@given(stories())
def test_deletions_happen_only_when_the_design_allows_them(story: Story) -> None:
    for today, facts, decision in live(story):
        if decision.action is Action.WARN:
            assert decision.due is not None and decision.due > day(today)
            promised = [
                w.announced_due
                for w in facts.warnings
                if decision.episode_start is None or w.sent_on >= decision.episode_start
            ]
            assert decision.due >= max(promised, default=decision.due), "a promised date was brought forward"
        if decision.action is Action.DELETE:
            check_deletion(story, today, facts, decision)


@SETTINGS
@given(
    stories(),
    st.integers(0, HORIZON),
    st.lists(st.tuples(st.integers(0, HORIZON), st.integers(1, 30)), max_size=4),
)
def test_same_facts_and_day_give_the_same_decision(
    story: Story, today: int, sent: list[tuple[int, int]]
) -> None:
    warnings = tuple(WarningSent(day(n), day(n + k)) for n, k in sent if n <= today)
    facts = replace(story.facts, warnings=warnings)
    first = evaluate(story.recording, facts, story.policy, day(today))
    assert evaluate(story.recording, facts, story.policy, day(today)) == first
    unread = evaluate(story.recording, replace(facts, label=RetentionLabel()), story.policy, day(today))
    if facts.label.status is LabelStatus.NONE:
        # An unread label changes nothing but the request to read it before acting.
        assert replace(unread, needs_label=False) == first
        assert unread.needs_label == (first.action is not Action.KEEP)


@SETTINGS
@given(policies(), st.integers(0, 80), st.integers(0, 24 * 60 - 1))
def test_an_uncovered_recording_is_deleted_on_time(policy: PolicyConfig, found: int, minute: int) -> None:
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
    story = Story(
        policy,
        Recording(RecordingRef("d", "i"), "r.mp4", created),
        Facts(label=RetentionLabel(LabelStatus.NONE)),
        found,
        frozenset(),
        None,
    )
    log = live(story)
    base = local_date(created, policy.timezone) + dt.timedelta(days=policy.retention_days)
    first_warning = max(day(found), base - dt.timedelta(days=max(policy.warning_days)))
    last_day, _, decision = log[-1]
    assert decision.action is Action.DELETE
    assert day(last_day) == max(base, first_warning + dt.timedelta(days=policy.minimum_notice_days))
    warned = [n for n, _, d in log if d.action is Action.WARN]
    assert len(warned) <= len(policy.warning_days)


@SETTINGS
@given(stories(), st.lists(st.tuples(st.integers(1, 60), st.integers(1, 10)), min_size=1, max_size=3))
def test_earlier_warnings_never_shorten_the_notice(story: Story, earlier: list[tuple[int, int]]) -> None:
    """Warnings already on record (sent, and the date they promised) with few or no covers around."""
    warnings = tuple(WarningSent(day(n), day(n + k)) for n, k in earlier)
    found = max(n for n, _ in earlier) + 1
    story = replace(story, facts=replace(story.facts, warnings=warnings, assignments=()), found=found)
    for today, facts, decision in live(story):
        if decision.action is Action.DELETE:
            check_deletion(story, today, facts, decision)
