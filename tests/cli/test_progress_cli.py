"""Progress of a real ``teamsretention plan`` process against a simulated tenant with latency: live on a
terminal (a pseudo-terminal), cleared before the plan prints; as ``cycle.progress`` JSON log lines on a pipe."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import termios
import time

from .live_tenant import cli, cli_env, plain, slow_tenant

USERS = 30
# every Graph request waits a little, a drive's delta feed longer: the inventory takes a few seconds
LATENCY = {r"/drives/[^/]+/root/delta": 0.3, r"^/v1\.0/": 0.03}
DEADLINE = 120  # seconds: bounded waits on the real processes


def read_pty(master: int, proc: subprocess.Popen[bytes]) -> bytes:
    """Everything the process writes to its terminal, until it closes it (or the deadline)."""
    screen, deadline = b"", time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed its end of the terminal
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    return screen


def on_terminal(tmp_path, *args: str) -> bytes:
    """Run ``teamsretention ARGS`` against a slow tenant with stdout and stderr on a pseudo-terminal: the screen."""
    with slow_tenant(USERS, LATENCY) as sim:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 180, 0, 0))
        env = cli_env(sim, tmp_path, TERM="xterm-256color")
        env.pop("NO_COLOR", None)
        proc = subprocess.Popen(cli(*args), stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        try:
            screen = read_pty(master, proc)
            assert proc.wait(timeout=DEADLINE) == 0, plain(screen)
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
    return screen


def test_plan_on_a_terminal_shows_live_progress_then_prints_the_plan_cleanly(tmp_path):
    screen = on_terminal(tmp_path, "plan")
    text = plain(screen)
    done = [int(n) for n in re.findall(rf"drives (\d+)/{USERS} · ", text)]
    assert done and done == sorted(done) and done[-1] == USERS  # drives done of total, counting up
    assert any(0 < n < USERS for n in done), text  # seen while the inventory was under way
    assert f"recordings {USERS} found, " in text and re.search(r"Graph [1-9]\d* requests, ~[1-9]\d* RU", text)
    assert "estimating the time left" in text
    # the display is cleared (cursor up, erase line) before the plan prints, and it is not drawn again after
    header = screen.index(b"Plan for today's cycle")
    assert screen[:header].endswith(b"\x1b[1A\x1b[2K")
    after = plain(screen[header:])
    assert "drives " not in after and "throttled" not in after
    assert f"{USERS} recordings tracked: warn {USERS}." in after.splitlines()
    assert sum(line.startswith("would warn ") for line in after.splitlines()) == USERS


def test_plan_on_a_pipe_logs_progress_lines_at_the_configured_interval(tmp_path):
    slower = {**LATENCY, r"/drives/[^/]+/root/delta": 0.8}  # an inventory of 3 s or more: several lines
    with slow_tenant(USERS, slower) as sim:
        env = cli_env(sim, tmp_path, TEAMSRETENTION_LOGGING__PROGRESS_INTERVAL_SECONDS="1")
        proc = subprocess.run(cli("plan"), stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=DEADLINE, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = [json.loads(line) for line in proc.stderr.decode().splitlines() if line.startswith("{")]
    progress = [e for e in lines if e["event"] == "cycle.progress"]
    assert len(progress) >= 2, proc.stderr.decode()
    done = [e["drives_done"] for e in progress]
    assert done == sorted(done) and all(0 <= n <= USERS for n in done)
    assert all(e["drives_total"] == USERS for e in progress if e["phase"] != "directory")
    assert [e["elapsed_seconds"] for e in progress] == sorted(e["elapsed_seconds"] for e in progress)
    assert all(e["level"] == "info" for e in progress) and progress[-1]["graph_requests"] > 0
    for key in ("recordings_found", "recordings_evaluated", "recordings_tracked", "digests_sent",
                "recordings_warned", "deletions", "resource_units", "throttle_wait_seconds", "eta_seconds"):
        assert key in progress[0]
    assert b"\x1b[" not in proc.stderr  # no live display off a terminal
    assert f"{USERS} recordings tracked: warn {USERS}.".encode() in proc.stdout


def test_quiet_shows_no_live_progress_on_a_terminal(tmp_path):
    screen = on_terminal(tmp_path, "--quiet", "plan")
    text = plain(screen)
    assert "drives " not in text and "throttled" not in text and b"\x1b[" not in screen
    assert text.startswith("Plan for today's cycle") and f"{USERS} recordings tracked: warn {USERS}." in text
