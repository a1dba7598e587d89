"""A simulated tenant served on loopback with latency, and the CLI run against it as a real process: what the
progress, Ctrl-C and SIGTERM tests share. The latency is added in front of the simulator (an ASGI wrapper that
waits before answering matching requests), so a cycle takes long enough to be watched and interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from teamsretention.simulator.scenario import load_scenario
from teamsretention.simulator.server import RunningSimulator, start

SENDER = "retention@contoso.example"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def scenario(users: int, *, age_days: int = 40) -> str:
    """``users`` people, each with a OneDrive holding one recording ``age_days`` old, and the sender mailbox."""
    parts = ['[tenant]\ndomain = "contoso.example"\nseed = 3\n',
             '[[users]]\nkey = "retention"\ndisplay_name = "Recording governance"\nhas_onedrive = false\n']
    for n in range(users):
        parts.append(f'[[users]]\nkey = "u{n:02d}"\ndisplay_name = "User {n:02d}"\npreferred_language = "en-US"\n')
        parts.append(f'[[recordings]]\nkey = "r{n:02d}"\norganizer = "u{n:02d}"\nsubject = "Meeting {n:02d}"\n'
                     f"age_days = {age_days}\n")
    return "\n".join(parts)


class Latency:
    """ASGI middleware: requests whose path matches a pattern wait that many seconds before they are served."""

    def __init__(self, app: Any, delays: dict[str, float]) -> None:
        self.app, self.delays = app, [(re.compile(p), s) for p, s in delays.items()]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for pattern, seconds in self.delays:
                if pattern.search(scope["path"]):
                    await asyncio.sleep(seconds)  # latency of a real service, in the simulator's own thread
                    break
        await self.app(scope, receive, send)


@contextlib.contextmanager
def slow_tenant(users: int, delays: dict[str, float], *, age_days: int = 40) -> Iterator[RunningSimulator]:
    epoch = dt.datetime.now(dt.UTC).replace(microsecond=0)
    running = start(load_scenario(scenario(users, age_days=age_days), epoch=epoch))
    try:
        running.app.add_middleware(Latency, delays=delays)  # before the first request builds the stack
        yield running
    finally:
        running.stop()


def cli_env(sim: RunningSimulator, state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEAMSRETENTION_")}
    env.update({"TEAMSRETENTION_GRAPH__GRAPH_ENDPOINT": sim.base_url, "TEAMSRETENTION_GRAPH__AUTH": "none",
                "TEAMSRETENTION_STATE__DIRECTORY": str(state), "TEAMSRETENTION_NOTIFICATIONS__SENDER": SENDER,
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"),
                                               env.get("PYTHONPATH", "")]).rstrip(os.pathsep)})
    env.update(extra)
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "teamsretention", *args]


def plain(screen: bytes) -> str:
    """The text of terminal output without its control sequences."""
    return ANSI.sub(b"", screen).decode("utf-8", "replace")
