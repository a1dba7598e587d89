"""Benchmark: what a cycle costs when little changed, at two tenant sizes with the same number of changes.

The simulator serves a tenant in its own process: users x recordings, all aged 0 to ``--max-age`` days
(default 14: nothing warned or due within the next week). teamsretention runs, in another process, a
first cycle (day 0), an unchanged cycle (day 1), and a cycle after ``--changes`` recordings were modified
(day 2: a new eTag each, in as many drives). Reported: CPU seconds of the product process, recordings
evaluated, drives read and skipped as idle, Graph requests. Results go to bench/change_results.md.

    python bench/change_bench.py                       # 250 and 1000 users x 20 recordings, 50 changes
    python bench/change_bench.py --scales 250x20,250x80 --changes 50 --max-age 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_bench import SENDER, _free_port, _wait_for

HERE = Path(__file__).resolve().parent


def _tenant(users: int, per_user: int, epoch: dt.datetime, max_age: float):  # type: ignore[no-untyped-def]
    from teamsretention.simulator.events import MP4, recording_name
    from teamsretention.simulator.model import TenantModel

    model = TenantModel(epoch, seed=7, domain="bench.example")
    rng = random.Random(7)
    for u in range(users):
        upn = f"user{u:05d}@bench.example"
        user = model.add_user(f"Bench User {u:05d}", upn, upn)
        assert user.drive_id is not None
        for r in range(per_user):
            created = epoch - dt.timedelta(days=rng.random() * max_age)
            model.add_file(user.drive_id, ["Recordings"], recording_name(f"Meeting {r}", created), created,
                           mime_type=MP4, size=50_000_000 + r, created_by=user.id, teams_recording=True)
    model.add_user("Recording governance", SENDER, SENDER, has_onedrive=False)
    return model


def _serve(users: int, per_user: int, port: int, epoch_iso: str, max_age: float) -> None:
    from teamsretention.simulator.knobs import Knobs
    from teamsretention.simulator.server import serve_forever

    devnull = open(os.devnull, "w")  # noqa: SIM115 - uvicorn's access log would drown the report
    sys.stdout = sys.stderr = devnull
    serve_forever(_tenant(users, per_user, dt.datetime.fromisoformat(epoch_iso), max_age), port=port,
                  knobs=Knobs(page_size=200, directory_page_size=999))


def run_client(graph_url: str, state: str, at_iso: str, changes: int) -> dict[str, object]:
    import asyncio

    import httpx

    from teamsretention.bootstrap import build_app, open_store, rehearsal_clock
    from teamsretention.logging import configure_logging
    from teamsretention.settings import Settings
    from teamsretention.store import recordings

    configure_logging(level="error")
    settings = Settings().with_overrides(
        graph={"graph_endpoint": graph_url, "auth": "none", "max_concurrency": 8},
        policy={"enforce": True}, notifications={"sender": SENDER, "fallback_contact": SENDER},
        state={"directory": state})
    control = httpx.Client(base_url=graph_url)
    results = []
    for day in (0, 1, 2):
        at = dt.datetime.fromisoformat(at_iso) + dt.timedelta(days=day)
        if day:
            control.post("/_simulator/clock/advance", json={"days": 1})
        if day == 2:  # a new eTag on `changes` recordings, one per drive
            db = open_store(settings)
            by_drive = {r.drive_id: r for r in recordings.list_all(db)}
            db.dispose()
            for rec in list(by_drive.values())[:changes]:
                control.post(f"/_simulator/items/{rec.drive_id}/{rec.item_id}/modify")
        control.delete("/_simulator/requests")
        app = build_app(settings)
        cpu0 = time.process_time()
        report = asyncio.run(_cycle(app, at, rehearsal_clock(at)))
        cpu = time.process_time() - cpu0
        counters = control.get("/_simulator/requests", params={"recent": 0}).json()
        inventory = report.inventory  # (getattr: the same client also measures a version before these counts)
        results.append({"day": day, "cpu_s": cpu, "requests": counters["requests"], "tracked": report.tracked,
                        "evaluated": getattr(report, "reevaluated", report.tracked),
                        "drives_read": getattr(inventory, "drives_read", inventory.drives),
                        "drives_idle": getattr(inventory, "drives_idle", 0), "exit_code": report.exit_code})
    return {"cycles": results}


async def _cycle(app, at, clock):  # type: ignore[no-untyped-def]
    from teamsretention.domain import RunMode

    try:
        return await app.cycle(clock=clock).run(mode=RunMode.ENFORCE, at=at)
    finally:
        await app.aclose()


def measure(users: int, per_user: int, changes: int, max_age: float) -> dict[str, object]:
    from teamsretention.settings.schedule import scheduled_time_on

    at = scheduled_time_on(dt.date(2026, 3, 2), "0 6 * * *", "Europe/Stockholm")
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(users, per_user, port, at.isoformat(), max_age), daemon=True)
    server.start()
    try:
        _wait_for(port)
        with tempfile.TemporaryDirectory() as state:
            out = subprocess.run([sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", state,
                                  at.isoformat(), str(changes)], check=True, capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.join(10)
    data.update(users=users, per_user=per_user, recordings=users * per_user, changes=changes, max_age=max_age)
    return data


def write_results(rows: list[dict[str, object]], path: Path, command: str) -> str:
    names = {0: "first", 1: "unchanged", 2: "changes"}
    lines = ["# A cycle when little changed", "",
             f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores "
             f"(1-minute load average {os.getloadavg()[0]:.1f} at the end). Run on {dt.date.today().isoformat()}.",
             f"Command: `{command}`", "",
             f"Recordings aged 0-{rows[0]['max_age']:g} days (none warned or due within a week); day 1 is an unchanged cycle, day 2 "
             "follows a new eTag on one recording in each of `changes` drives. CPU is the product process only "
             "(the simulator runs in its own).", "",
             "| recordings | drives | cycle | CPU s | evaluated | drives read | skipped idle | requests |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for c in row["cycles"]:  # type: ignore[union-attr]
            lines.append(f"| {row['recordings']} | {row['users']} | {names[c['day']]} | {c['cpu_s']:.2f} | "
                         f"{c['evaluated']} | {c['drives_read']} | {c['drives_idle']} | {c['requests']} |")
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        print(json.dumps(run_client(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="250,1000", help="comma-separated user counts")
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--max-age", type=float, default=14, help="recordings are aged 0 to this many days")
    parser.add_argument("--out", type=Path, default=HERE / "change_results.md")
    args = parser.parse_args()
    rows = []
    for scale in args.scales.split(","):  # "250" or "250x80" (users x recordings each)
        users, _, per_user = scale.partition("x")
        rows.append(measure(int(users), int(per_user or args.per_user), args.changes, args.max_age))
    command = "python bench/change_bench.py " + " ".join(sys.argv[1:])
    print(write_results(rows, args.out, command.strip()))


if __name__ == "__main__":
    main()
