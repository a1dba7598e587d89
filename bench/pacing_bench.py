"""Benchmark: resource-unit pacing against the simulator's throttling model.

The simulator serves a generated tenant on loopback in its own process with a per-minute budget of B RU
(knob ``ru_per_minute``); teamsretention runs an enforcing first cycle in another process, for a bounded wall
time, once with ``graph.ru_budget_per_minute = B`` (pacing on) and once with 0 (pacing off: only Retry-After).
The tenant is big enough that the first cycle is still running when the time is up.

Reported per run, from the simulator's own minutes (counted from the first request it served): the RU it
accepted in each full minute, the sustained accepted rate as a share of B over the steady-state minutes (every
full minute after the first), the share of requests it throttled (429 / all requests charged; a $batch counts
its inner requests, the envelope is free), the requests and the wall time. Results go to
bench/pacing_results.md and a section of bench/results.md.

    python bench/pacing_bench.py                       # B = 600 RU/min, 250 users x 20, 190 s per run
    python bench/pacing_bench.py --budget 300 --seconds 150
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
from typing import Any

import httpx
from run_bench import SENDER, _free_port, _wait_for

HERE = Path(__file__).resolve().parent
SECTION = "## Throttle-aware pacing"


def _serve(users: int, per_user: int, port: int, epoch_iso: str, budget: int) -> None:
    from teamsretention.simulator.knobs import Knobs
    from teamsretention.simulator.server import serve_forever
    from teamsretention.simulator.tenants import build_bench_tenant

    devnull = open(os.devnull, "w")  # noqa: SIM115 - uvicorn's access log would drown the report
    sys.stdout = sys.stderr = devnull
    model = build_bench_tenant(users, per_user, dt.datetime.fromisoformat(epoch_iso))
    model.add_user("Recording governance", SENDER, SENDER, has_onedrive=False)
    serve_forever(model, port=port, knobs=Knobs(page_size=200, directory_page_size=999, ru_per_minute=budget))


def run_client(graph_url: str, state: str, at_iso: str, budget: str) -> None:
    """One enforcing first cycle; the parent stops this process when the time is up."""
    import asyncio

    from teamsretention.bootstrap import build_app, rehearsal_clock
    from teamsretention.domain import RunMode
    from teamsretention.logging import configure_logging
    from teamsretention.settings import Settings

    configure_logging(level="error")
    settings = Settings().with_overrides(
        graph={"graph_endpoint": graph_url, "auth": "none", "max_concurrency": 8,
               "ru_budget_per_minute": int(budget)},
        policy={"enforce": True, "max_deletions_per_cycle": 100_000, "max_deletion_share": 1.0},
        notifications={"sender": SENDER, "fallback_contact": SENDER},
        state={"directory": state})
    at = dt.datetime.fromisoformat(at_iso)
    app = build_app(settings)

    async def cycle() -> None:
        try:
            await app.cycle(clock=rehearsal_clock(at)).run(mode=RunMode.ENFORCE, at=at)
        finally:
            await app.aclose()

    asyncio.run(cycle())
    print("cycle finished", flush=True)


def measure(users: int, per_user: int, budget: int, client_budget: int, seconds: float) -> dict[str, Any]:
    from teamsretention.settings.schedule import scheduled_time_on

    at = scheduled_time_on(dt.date(2026, 3, 2), "0 6 * * *", "Europe/Stockholm")
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(users, per_user, port, at.isoformat(), budget), daemon=True)
    server.start()
    try:
        _wait_for(port)
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as state:
            started = time.monotonic()
            client = subprocess.Popen([sys.executable, __file__, "--client", url, state, at.isoformat(),
                                       str(client_budget)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                client.wait(timeout=seconds)
                finished = True
            except subprocess.TimeoutExpired:
                finished = False
                client.terminate()
                client.wait(30)
            wall = time.monotonic() - started
            stats = httpx.get(f"{url}/_simulator/throttle", timeout=30).json()
    finally:
        server.terminate()
        server.join(10)
    full = [m for m in stats["minutes"] if m["minute"] < int(stats["elapsedSeconds"] // 60)]
    steady = [m for m in full if m["minute"] >= 1]
    accepted = sum(m["accepted"] for m in stats["minutes"])
    throttled = sum(m["throttled"] for m in stats["minutes"])
    return {"budget": budget, "client_budget": client_budget, "wall_s": wall, "finished": finished,
            "minutes": [m["acceptedRu"] for m in full],
            "steady_share": sum(m["acceptedRu"] for m in steady) / (budget * len(steady)) if steady else None,
            "requests": accepted + throttled, "throttled": throttled,
            "throttled_share": throttled / max(1, accepted + throttled)}


def table(rows: list[dict[str, Any]], users: int, per_user: int) -> list[str]:
    lines = [f"Tenant: {users} users × {per_user} recordings; simulator budget B = {rows[0]['budget']} RU/min; "
             "teamsretention `max_concurrency = 8`; an enforcing first cycle, stopped when the time is up.", "",
             "| run | `ru_budget_per_minute` | accepted RU per full minute | sustained (steady minutes) / B "
             "| throttled / requests | requests | wall s | cycle finished |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        share = f"{row['steady_share']:.1%}" if row["steady_share"] is not None else "n/a"
        name = "pacing on" if row["client_budget"] else "pacing off (Retry-After only)"
        lines.append(f"| {name} | {row['client_budget']} | {', '.join(str(m) for m in row['minutes'])} | {share} | "
                     f"{row['throttled']} / {row['requests']} = {row['throttled_share']:.2%} | {row['requests']} | "
                     f"{row['wall_s']:.0f} | {'yes' if row['finished'] else 'no'} |")
    on = rows[0]
    met = on["steady_share"] is not None and on["steady_share"] >= 0.9 and on["throttled_share"] < 0.01
    lines += ["", f"Target with pacing on (≥ 90% of the budget sustained, < 1% of requests throttled): "
              f"{'met' if met else 'MISSED'}."]
    return lines


def write(rows: list[dict[str, Any]], users: int, per_user: int, command: str, load: float) -> str:
    head = [f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores, shared "
            f"with other work (1-minute load average {load:.1f} at the start). Run on {dt.date.today().isoformat()}.",
            f"Command: `{command}`", ""]
    body = table(rows, users, per_user)
    reading = ["", "The simulator's minutes are fixed 60-second windows from the first request it served; a request "
               "that does not fit what is left answers 429 with Retry-After until the next minute (and is charged "
               "too, as SharePoint documents). Steady minutes: every full minute after the first.", "",
               "Pacing on, the client holds each request's cost from its send until 60 s after its answer, so it "
               "never overdraws a minute, and loses what the latency of each request adds to the 60 s. Pacing off, "
               "it runs at full speed until the simulator refuses, then every request waits for Retry-After; the "
               "simulator's Retry-After ends exactly at its next minute, so the budget is still used in full here, "
               "at the price of the throttled requests (inside a $batch, many at a time), which SharePoint counts "
               "against the budget and, for an app that keeps exceeding it, may block the app."]
    text = "\n".join(["# Pacing benchmark", "", *head, *body, *reading]) + "\n"
    (HERE / "pacing_results.md").write_text(text, encoding="utf-8")
    (HERE / "pacing_results.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    results = HERE / "results.md"
    existing = results.read_text(encoding="utf-8") if results.exists() else ""
    if SECTION in existing:  # a rerun replaces its own section, up to the next one
        pre, rest = existing.split(SECTION, 1)
        nxt = rest.find("\n## ")
        post = rest[nxt:] if nxt >= 0 else ""
    else:
        pre, post = existing, ""
    section = [SECTION, "", "`bench/pacing_bench.py`; details in `bench/pacing_results.md`.", "", *head, *body,
               *reading]
    merged = pre.rstrip("\n") + "\n\n" + "\n".join(section) + "\n" + post
    results.write_text(merged, encoding="utf-8")
    return text


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        run_client(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=600, help="RU per minute, simulator and client")
    parser.add_argument("--users", type=int, default=250)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=190.0, help="wall time of each run")
    args = parser.parse_args()
    rows, load = [], os.getloadavg()[0]
    for client_budget in (args.budget, 0):
        print(f"pacing {'on' if client_budget else 'off'}: {args.seconds:.0f} s ...", flush=True)
        rows.append(measure(args.users, args.per_user, args.budget, client_budget, args.seconds))
    command = ("python bench/pacing_bench.py " + " ".join(sys.argv[1:])).strip()
    print(write(rows, args.users, args.per_user, command, load))


if __name__ == "__main__":
    main()
