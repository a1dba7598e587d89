"""Evidence retention: after evidence.keep_years the personal data of old deletions leaves the store, the
record that each deletion happened stays, and the audit trail stays provably what it was."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from teamsretention.domain import RunMode
from teamsretention.reports.cycle import cycle_lines, plan_data, plan_lines
from teamsretention.store import audit, digests, recordings
from teamsretention.store.audit import AuditKind, PersonalPart

from ..cycle.test_cycle import DAY0, World, created

OLD_TITLE = "Acme Holding merger due diligence-20260210_100000-Meeting Recording.mp4"
OLD_URL = "https://contoso-my.sharepoint.com/personal/alice_contoso_example/Documents/Recordings/acme-merger.mp4"
NEW_TITLE = "Globex renewal kickoff-20321001_100000-Meeting Recording.mp4"
PRUNE_DAY = (dt.date(2033, 3, 13) - DAY0).days  # the first cycle 7 years after day 10 (2026-03-12)


def _text_of_store(tmp_path: Path) -> bytes:
    """Every byte SQLite keeps: the database file and its write-ahead log."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("state.db*")))


def _rows(w: World) -> str:
    """Every row of every table, as text."""
    with w.db.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
        return "\n".join(repr(tuple(row)) for t in tables for row in conn.execute(text(f'SELECT * FROM "{t}"')))


@pytest.fixture
def history(tmp_path):
    """Alice's recording deleted on day 10 (2026-03-12), Bob's in 2033, shortly before the pruning day."""
    w = World(tmp_path)
    w.gw.add_user("alice", lang="en-US")
    w.gw.add_user("bob", lang="en-US")
    w.gw.add_recording("alice", "r1", created(-20), name=OLD_TITLE, web_url=OLD_URL)
    w.days(0, 11)
    start = PRUNE_DAY - 15
    w.gw.add_recording("bob", "r2", created(start - 20), name=NEW_TITLE)
    w.days(start, start + 11)
    assert w.deleted_ids() == ["r1", "r2"]
    yield w
    w.db.dispose()


def test_pruning_removes_old_personal_data_and_keeps_the_record_of_the_deletion(history, tmp_path):
    w = history
    old_entries = w.audit(item="r1")
    backup = {e.id: audit.personal_part(w.db, e.id) for e in old_entries}  # e.g. a backup taken earlier
    assert OLD_TITLE.encode() in _text_of_store(tmp_path)

    w.cycle(PRUNE_DAY - 1, RunMode.DRY_RUN)  # 2033-03-12: alice's deletion is exactly 7 years old, kept
    assert w.recording("r1").name == OLD_TITLE
    report = w.cycle(PRUNE_DAY, RunMode.DRY_RUN)  # pruning is the tool's own data: dry-run cycles prune too

    assert any("personal data of 1 recordings removed" in line for line in cycle_lines(report))
    for needle in (OLD_TITLE, OLD_URL, "Acme Holding", "alice_contoso_example"):
        assert needle.encode() not in _text_of_store(tmp_path), needle
        assert needle not in _rows(w), needle
    old = next(r for r in recordings.list_all(w.db) if r.state == "deleted" and r.name == "")
    assert (old.deleted_on, old.rule, old.organizer_id, old.web_url) == (DAY0 + dt.timedelta(days=10), "base_due",
                                                                         None, None)
    # the trail still says a recording was warned twice and deleted on that day under that rule
    after = {e.id: e for e in audit.entries(w.db)}
    kept = [after[e.id] for e in old_entries]
    assert all(e.redacted and e.recording_name is None and e.reason == "" and e.detail == {} for e in kept)
    assert [(e.kind, e.cycle_date, e.rule) for e in kept if e.kind in (AuditKind.WARNED, AuditKind.DELETED)] == \
        [(AuditKind.WARNED, DAY0 + dt.timedelta(days=3), "base_due"),
         (AuditKind.WARNED, DAY0 + dt.timedelta(days=9), "base_due"),
         (AuditKind.DELETED, DAY0 + dt.timedelta(days=10), "base_due")]
    assert [e.personal_digest for e in kept] == [e.personal_digest for e in old_entries]
    # what was committed can still be proven: the backup copies match the digests the trail kept
    check = audit.verify_personal(w.db, copies=backup)
    assert check.ok and check.copies_matching == tuple(sorted(backup)) and set(backup) <= set(check.redacted)
    tampered = {i: PersonalPart(p.salt, {**p.content, "recording_name": "Something else.mp4"})
                for i, p in backup.items() if p is not None}
    assert audit.verify_personal(w.db, copies=tampered).copies_mismatched == tuple(sorted(tampered))
    # pruning is audited, with counts and the cutoff, and no personal data
    [pruned] = w.audit("evidence_pruned")
    assert pruned.detail["cutoff_date"] == "2026-03-13" and pruned.detail["recordings"] == 1
    assert pruned.detail["audit_entries"] == len(old_entries) and pruned.detail["digests"] == 2
    assert "alice" not in repr(pruned) and "Acme" not in repr(pruned)


def test_recent_deletions_keep_their_evidence(history):
    w = history
    w.cycle(PRUNE_DAY, RunMode.DRY_RUN)
    bob = w.recording("r2")
    assert (bob.name, bob.organizer_id) == (NEW_TITLE, "bob")
    entries = w.audit(item="r2")
    assert entries and not any(e.redacted for e in entries)
    assert all(e.recording_name == NEW_TITLE for e in entries)
    assert "bob@contoso.example" in [d.recipient for d in digests.list_all(w.db)]
    check = audit.verify_personal(w.db)
    assert check.ok and check.checked == sum(not e.redacted for e in audit.entries(w.db))


def test_plan_reports_what_would_be_pruned_and_changes_nothing(history, tmp_path):
    w = history
    report = w.cycle(PRUNE_DAY, RunMode.PLAN)
    assert report.evidence is not None and report.evidence.recordings == 1
    assert any("personal data of 1 recordings would be removed by the next cycle" in line
               for line in plan_lines(report))
    data = plan_data(report)  # plan --json
    assert data["evidence_would_be_pruned"]["recordings"] == 1 and data["summary"]["evidence_pruned"] == 0
    assert w.recording("r1").name == OLD_TITLE and not w.audit("evidence_pruned")
    assert not any(e.redacted for e in audit.entries(w.db))


def test_the_trail_refuses_any_other_change_after_pruning(history):
    w = history
    w.cycle(PRUNE_DAY, RunMode.DRY_RUN)
    for statement in ("UPDATE audit SET actor = 'rewritten'", "DELETE FROM audit",
                      "UPDATE audit_personal SET content = '{}'"):
        with pytest.raises(DBAPIError, match="append-only"), w.db.session() as s:
            s.execute(text(statement))
    assert audit.verify_personal(w.db).ok
    # a personal part removed by hand, outside any pruning, is reported
    victim = next(e for e in w.audit(item="r2"))
    with w.db.session() as s:
        s.execute(text("DELETE FROM audit_personal WHERE audit_id = :id"), {"id": victim.id})
    check = audit.verify_personal(w.db)
    assert not check.ok and check.unexplained == (victim.id,)


def test_keep_years_is_configurable(tmp_path):
    w = World(tmp_path, keep_years=1)
    w.gw.add_user("alice", lang="en-US")
    w.gw.add_recording("alice", "r1", created(-20), name=OLD_TITLE)
    w.days(0, 11)
    w.cycle(376, RunMode.DRY_RUN)  # 2027-03-13
    [old] = recordings.list_all(w.db)
    assert old.name == "" and w.audit("evidence_pruned")[0].detail["cutoff_date"] == "2026-03-13"
    w.db.dispose()


def test_mail_text_is_kept_only_when_asked(tmp_path):
    for keep, expected in ((False, {("", None)}), (True, None)):
        path = tmp_path / str(keep)
        path.mkdir()
        w = World(path, keep_mail_bodies=keep)
        w.gw.add_user("alice", lang="en-US")
        w.gw.add_recording("alice", "r1", created(-20), name=OLD_TITLE)
        w.days(0, 4)
        with w.db.engine.connect() as conn:
            stored = {tuple(r) for r in conn.execute(text("SELECT subject, body FROM digests"))}
            proof = list(conn.execute(text("SELECT d.recipient, d.sent_at, w.cycle_date, w.announced_due "
                                           "FROM digests d JOIN warnings w ON w.digest_id = d.id")))
        # what proves notice is always there: to whom, when, which recording, the date announced
        assert [(r[0], str(r[2]), str(r[3])) for r in proof] == [("alice@contoso.example", "2026-03-05", "2026-03-12")]
        assert proof[0][1] is not None
        if expected is not None:
            assert stored == expected
        else:
            [(subject, body)] = stored
            assert subject and OLD_TITLE in body
        w.db.dispose()


def test_events_written_together_each_get_their_own_salt_and_verify(tmp_path):
    """A cycle writes its events in one statement: each still gets its own salt, so identical events (the same
    warning reason for two recordings of one name) have different digests, and each proves its own content."""
    w = World(tmp_path)
    w.gw.add_user("alice", lang="en-US")
    w.gw.add_recording("alice", "r1", created(-20), name=OLD_TITLE)
    w.gw.add_recording("alice", "r2", created(-20), name=OLD_TITLE)
    w.cycle(0)
    written = audit.entries(w.db)
    parts = {e.id: audit.personal_part(w.db, e.id) for e in written}
    salts = [p.salt for p in parts.values() if p is not None]
    assert len(salts) == len(written) >= 4 and len(set(salts)) == len(salts)
    assert all(len(s) == 32 and int(s, 16) >= 0 for s in salts)
    assert len({e.personal_digest for e in written}) == len(written)
    check = audit.verify_personal(w.db, copies=parts)
    assert check.ok and check.copies_matching == tuple(sorted(parts))
    assert_parts_are_their_digested_text(w.db)
    w.db.dispose()


def assert_parts_are_their_digested_text(db) -> None:
    """Every personal part is stored as the very text its digest was computed over (the canonical JSON), so
    the digest can be checked from the stored bytes, and the whole trail verifies."""
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT p.salt, CAST(p.content AS TEXT), a.personal_digest FROM audit_personal p "
                                   "JOIN audit a ON a.id = p.audit_id")).all()
    assert stored
    for salt, content, digest in stored:
        assert content == json.dumps(json.loads(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert digest == "sha256:" + hashlib.sha256(bytes.fromhex(salt) + content.encode()).hexdigest()
    assert audit.verify_personal(db).ok
