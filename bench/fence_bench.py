"""Benchmark: what the fence (every transaction of a cycle re-reads the cycle lock row before it commits)
costs a first cycle: the same generated tenant, a fresh store each time, fence on and fence off, alternated.

    python bench/fence_bench.py                       # 250 users x 20 recordings, SQLite, 2 rounds
    python bench/fence_bench.py --database-url postgresql+psycopg://...   # an empty PostgreSQL database per run

Results go to bench/fence_results.md (transactions committed by the cycle, wall and CPU seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_bench import SENDER, _free_port, _serve, _wait_for  # noqa: E402


def run_client(graph_url: str, state: str, at_iso: str, fence: bool, database_url: str) -> dict[str, object]:
    import asyncio

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from teamsretention.bootstrap import build_app, rehearsal_clock
    from teamsretention.domain import RunMode
    from teamsretention.logging import configure_logging
    from teamsretention.settings import Settings
    from teamsretention.store.database import Database

    if not fence:
        Database._check_fence = lambda self, session: None  # type: ignore[method-assign]
    commits = [0]
    event.listen(Session, "after_commit", lambda session: commits.__setitem__(0, commits[0] + 1))
    configure_logging(level="error")
    overrides: dict[str, object] = {
        "graph": {"graph_endpoint": graph_url, "auth": "none", "max_concurrency": 8},
        "policy": {"enforce": True, "max_deletions_per_cycle": 100_000, "max_deletion_share": 1.0},
        "notifications": {"sender": SENDER, "fallback_contact": SENDER}, "state": {"directory": state}}
    if database_url:
        overrides["database"] = {"url": database_url}
    settings = Settings().with_overrides(**overrides)
    at = dt.datetime.fromisoformat(at_iso)
    app = build_app(settings)
    wall0, cpu0 = time.perf_counter(), time.process_time()

    async def cycle():  # type: ignore[no-untyped-def]
        try:
            return await app.cycle(clock=rehearsal_clock(at)).run(mode=RunMode.ENFORCE, at=at)
        finally:
            await app.aclose()

    report = asyncio.run(cycle())
    return {"fence": "on" if fence else "off", "wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0,
            "commits": commits[0], "tracked": report.tracked, "exit_code": report.exit_code}


def _fresh_postgres(url: str, n: int) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"fence_bench_{os.getpid()}_{n}"
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        graph_url, state, at_iso, fence, database_url = sys.argv[2:7]
        print(json.dumps(run_client(graph_url, state, at_iso, fence == "on", database_url)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=250)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL ending in a database name")
    parser.add_argument("--out", type=Path, default=HERE / "fence_results.md")
    args = parser.parse_args()
    from teamsretention.settings.schedule import scheduled_time_on

    at = scheduled_time_on(dt.date(2026, 3, 2), "0 6 * * *", "Europe/Stockholm")
    rows = []
    for n in range(args.rounds * 2):
        fence = "on" if n % 2 == 0 else "off"
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(args.users, args.per_user, port, at.isoformat()), daemon=True)
        server.start()
        try:
            _wait_for(port)
            url = _fresh_postgres(args.database_url, n) if args.database_url else ""
            with tempfile.TemporaryDirectory() as state:
                out = subprocess.run([sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", state,
                                      at.isoformat(), fence, url], check=True, capture_output=True, text=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
        finally:
            server.terminate()
            server.join(10)
    store = "PostgreSQL" if args.database_url else "SQLite"
    lines = ["# Fence benchmark", "", f"Machine: {platform.platform()}, Python {platform.python_version()}, "
             f"{os.cpu_count()} cores. Run on {dt.date.today().isoformat()}. Store: {store}.",
             f"Command: `python bench/fence_bench.py {' '.join(sys.argv[1:])}`".replace("  ", " "), "",
             f"A first enforcing cycle over {args.users} users x {args.per_user} recordings (simulator on loopback, "
             "fresh store each run), with the fence on (every write transaction of the cycle reads the lock row before "
             "it commits; read-only ones are not checked) and off, alternated. The machine was shared with other "
             "work: differences of a few percent are within its noise.", "",
             "| fence | transactions | wall s | CPU s |", "|---|---|---|---|"]
    lines += [f"| {r['fence']} | {r['commits']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} |" for r in rows]
    for key in ("wall_s", "cpu_s"):
        on = sum(r[key] for r in rows if r["fence"] == "on") / args.rounds
        off = sum(r[key] for r in rows if r["fence"] == "off") / args.rounds
        lines.append(f"\nMean {key.replace('_s', '')} seconds: fence on {on:.2f}, off {off:.2f} "
                     f"({(on - off) / off * 100:+.1f}%).")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
