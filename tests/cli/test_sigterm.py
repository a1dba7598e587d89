"""SIGTERM during a real ``run --once`` that is sending digests (issue 8's acceptance): the cycle stops at the
next checkpoint, the run record says interrupted, the store's digests and audit trail match the mail the tenant
accepted one for one, and the next run sends the remaining digests without a second mail to anyone."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

from teamsretention.cli.progress import STOPPING
from teamsretention.domain import DigestStatus, RunStatus
from teamsretention.store import Database, audit, digests, runs
from teamsretention.store.audit import AuditKind

from .live_tenant import cli, cli_env, slow_tenant

ORGANIZERS = 8
DEADLINE = 120  # seconds: bounded waits on the real processes


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)  # polling a real event in another process


def recipients(sim) -> Counter[str]:
    return Counter(address for mail in list(sim.model.mail_log) for address in mail["to"])


def store_state(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/teamsretention.db")
    try:
        return runs.list_all(db), digests.list_all(db), audit.entries(db)
    finally:
        db.dispose()


def test_sigterm_while_warning_stops_at_a_checkpoint_and_the_next_run_sends_each_digest_once(tmp_path):
    # a second for every sendMail: the warn step takes several seconds
    with slow_tenant(ORGANIZERS, {r"/sendMail$": 1.0, r"^/v1\.0/": 0.01}) as sim:
        env = cli_env(sim, tmp_path, TEAMSRETENTION_POLICY__ENFORCE="true")
        proc = subprocess.Popen(cli("run", "--once"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        try:
            wait_for(lambda: len(sim.model.mail_log) >= 1 or proc.poll() is not None, "the first digest")
            assert proc.poll() is None, "the cycle ended before it could be interrupted"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=DEADLINE)
        finally:
            if proc.poll() is None:
                proc.kill()
        first = recipients(sim)

        assert proc.returncode == 1, err.decode()  # interrupted: the cycle did not fully succeed
        assert STOPPING in err.decode() and "Traceback" not in err.decode()
        assert "interrupted, exit 1" in out.decode()
        assert "run `teamsretention run --once` again" in err.decode()
        run_records, stored, trail = store_state(tmp_path)
        assert [r.status for r in run_records] == [RunStatus.INTERRUPTED]
        assert "stopped at a checkpoint by a shutdown request" in (run_records[0].message or "")
        # stopped between digests: some were sent, not all, and every one sent is on record exactly once
        assert 1 <= sum(first.values()) < ORGANIZERS and set(first.values()) == {1}
        sent = [d for d in stored if d.status is DigestStatus.SENT]
        assert len(sent) == len(stored)  # no digest left "intended" (sent or not, nobody knows)
        assert Counter(d.recipient for d in sent) == first
        warned = [e for e in trail if e.kind == AuditKind.WARNED]
        intended = [e for e in trail if e.kind == AuditKind.WARN_INTENDED]
        assert Counter(e.organizer_id for e in warned) == Counter(d.organizer_id for d in sent)
        assert len(intended) == len(warned)
        finished = [e for e in trail if e.kind == AuditKind.RUN_FINISHED]
        assert len(finished) == 1 and "interrupted" in finished[0].reason

        again = subprocess.run(cli("run", "--once"), stdin=subprocess.DEVNULL, capture_output=True, env=env,
                               timeout=DEADLINE, check=False)
        assert again.returncode == 0, again.stderr.decode()
        everyone = recipients(sim)

    assert len(everyone) == ORGANIZERS and set(everyone.values()) == {1}  # each organizer warned, once
    run_records, stored, trail = store_state(tmp_path)
    assert [r.status for r in run_records] == [RunStatus.INTERRUPTED, RunStatus.OK]
    assert len(stored) == ORGANIZERS and {d.status for d in stored} == {DigestStatus.SENT}
    assert Counter(d.recipient for d in stored) == everyone
    warned = [e for e in trail if e.kind == AuditKind.WARNED]
    assert len(warned) == ORGANIZERS and len({e.recording_key for e in warned}) == ORGANIZERS
    rest = ORGANIZERS - sum(first.values())
    assert f"{rest} digest{'s' if rest != 1 else ''} sent" in again.stdout.decode()


def test_ctrl_c_during_plan_stops_at_a_checkpoint_and_says_the_plan_is_partial(tmp_path):
    with slow_tenant(ORGANIZERS * 3, {r"/drives/[^/]+/root/delta": 1.0, r"^/v1\.0/": 0.01}) as sim:
        env = cli_env(sim, tmp_path, TEAMSRETENTION_LOGGING__PROGRESS_INTERVAL_SECONDS="1")
        proc = subprocess.Popen(cli("plan"), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        try:
            assert proc.stderr is not None
            deadline, line = time.monotonic() + DEADLINE, b""
            while b'"cycle.progress"' not in line:  # the inventory is under way
                assert time.monotonic() < deadline and proc.poll() is None, "no progress line came"
                line = proc.stderr.readline()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=DEADLINE)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1
    assert STOPPING in err.decode() and "Traceback" not in err.decode()
    assert out.decode().startswith("INTERRUPTED: plan stopped before it had read and evaluated everything")
    assert "stopped at a checkpoint by a shutdown request" in err.decode()
    assert sim.model.mail_log == []
    [run] = store_state(tmp_path)[0]
    assert run.status is RunStatus.INTERRUPTED
