"""Benchmark: what one scrape of /metrics and one /readyz cost against a store of a large tenant's size
(recordings x cycles of history), over a real socket. Results go to bench/scrape_results.md.

    python bench/scrape_bench.py                                 # 20 000 and 100 000 recordings, 10 years of cycles
    python bench/scrape_bench.py --recordings 50000 --cycles 365
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from teamsretention.store import Database
from teamsretention.store.tables import RecordingRow, RunRow
from teamsretention.web import HealthServer

HERE = Path(__file__).resolve().parent
RULES = ["young", "base_due", "notice_floor", "promised", "assignment", "exemption", "label", "fail_closed:label"]
STATES = ["tracked", "tracked", "tracked", "deleted", "gone", "unsure"]
T0 = dt.datetime(2026, 1, 1, 5, tzinfo=dt.UTC)


def fill(db: Database, recordings: int, cycles: int) -> None:
    rows = [{"drive_id": f"b!drive{i % 2000}", "item_id": f"item{i}", "name": f"Meeting {i}.mp4", "created_at": T0,
             "recorded_on": T0.date(), "first_seen": T0, "last_seen": T0, "state": STATES[i % len(STATES)],
             "rule": RULES[i % len(RULES)]} for i in range(recordings)]
    stats = {"warned": 40, "digests_sent": 25, "send_failures": 0, "deleted": 30, "blocked": 1, "tracked": recordings,
             "rules": {r: recordings // len(RULES) for r in RULES}, "problems": []}
    runs = [{"mode": "enforce", "at": T0 + dt.timedelta(days=d), "cycle_date": (T0 + dt.timedelta(days=d)).date(),
             "started_at": T0 + dt.timedelta(days=d), "finished_at": T0 + dt.timedelta(days=d, minutes=20),
             "status": "ok", "exit_code": 0, "config": {}, "stats": stats} for d in range(cycles)]
    with db.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(RecordingRow), rows[start:start + 5000])
        conn.execute(insert(RunRow), runs)


def measure(recordings: int, cycles: int, scrapes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/state.db")
        fill(db, recordings, cycles)
        with HealthServer(db, host="127.0.0.1", port=0, clock=lambda: T0 + dt.timedelta(days=cycles)) as server, \
                httpx.Client(base_url=server.url) as client:
            times: dict[str, list[float]] = {"/metrics": [], "/readyz": []}
            size = 0
            for _ in range(scrapes):
                for path, spent in times.items():
                    begin = time.perf_counter()
                    response = client.get(path)
                    spent.append(time.perf_counter() - begin)
                    assert response.status_code == 200, response.text
                    size = len(response.content) if path == "/metrics" else size
        db.dispose()
    return {"metrics_ms": statistics.median(times["/metrics"]) * 1000,
            "metrics_max_ms": max(times["/metrics"]) * 1000,
            "readyz_ms": statistics.median(times["/readyz"]) * 1000, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--cycles", type=int, default=3650)
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    lines = ["# Health and metrics endpoint: cost of a scrape", "",
             f"{dt.datetime.now(dt.UTC):%Y-%m-%d}, {platform.python_implementation()} {platform.python_version()}, "
             f"{platform.machine()}, SQLite store; {args.cycles} finished cycles in the store, {args.scrapes} "
             "scrapes each over loopback; median (max) milliseconds.", "",
             "| recordings | /metrics ms | /metrics max ms | /readyz ms | /metrics bytes |", "|---|---|---|---|---|"]
    for n in args.recordings:
        r = measure(n, args.cycles, args.scrapes)
        lines.append(f"| {n} | {r['metrics_ms']:.1f} | {r['metrics_max_ms']:.1f} | {r['readyz_ms']:.1f} | "
                     f"{int(r['bytes'])} |")
        print(lines[-1], flush=True)
    (HERE / "scrape_results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
