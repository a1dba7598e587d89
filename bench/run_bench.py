"""Benchmark: a generated tenant (users x recordings each) served by the simulator on loopback, in its own
process; teamsretention runs a first cycle and an unchanged second cycle in another process.

Reported per scale: Graph requests and estimated SharePoint resource units (per drive, per recording),
wall time, CPU seconds and peak RSS of the teamsretention process. Results go to bench/results.md.

    python bench/run_bench.py                        # scales 250, 500, 1000, 2000 users x 20 recordings
    python bench/run_bench.py --scales 2000 --per-user 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SENDER = "retention@bench.example"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(users: int, per_user: int, port: int, epoch_iso: str) -> None:
    from teamsretention.simulator.knobs import Knobs
    from teamsretention.simulator.server import serve_forever
    from teamsretention.simulator.tenants import build_bench_tenant

    devnull = open(os.devnull, "w")  # noqa: SIM115 - uvicorn's access log would drown the report
    sys.stdout = sys.stderr = devnull
    model = build_bench_tenant(users, per_user, dt.datetime.fromisoformat(epoch_iso))
    model.add_user("Recording governance", SENDER, SENDER, has_onedrive=False)
    # Graph's real delta pages hold up to a few hundred items; the simulator's default of 20 is for tests.
    serve_forever(model, port=port, knobs=Knobs(page_size=200, directory_page_size=999))


def _wait_for(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"simulator did not start on port {port}")


def run_client(graph_url: str, state: str, at_iso: str) -> dict[str, object]:
    """Two cycles at the same moment; the second sees an unchanged tenant."""
    import asyncio

    import httpx

    from teamsretention.bootstrap import build_app, rehearsal_clock
    from teamsretention.domain import RunMode
    from teamsretention.logging import configure_logging
    from teamsretention.settings import Settings

    configure_logging(level="error")
    settings = Settings().with_overrides(
        graph={"graph_endpoint": graph_url, "auth": "none", "max_concurrency": 8,
               "ru_budget_per_minute": 0},  # the simulator here does not throttle: CPU, not pacing, is measured
        policy={"enforce": True, "max_deletions_per_cycle": 100_000, "max_deletion_share": 1.0},
        notifications={"sender": SENDER, "fallback_contact": SENDER},
        state={"directory": state})
    at = dt.datetime.fromisoformat(at_iso)
    control = httpx.Client(base_url=graph_url)
    results = []
    for n in (1, 2):
        control.delete("/_simulator/requests")
        app = build_app(settings)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        report = asyncio.run(_cycle(app, at, rehearsal_clock(at), RunMode.ENFORCE))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        counters = control.get("/_simulator/requests", params={"recent": 0}).json()
        results.append({
            "cycle": n, "wall_s": wall, "cpu_s": cpu,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "requests": counters["requests"], "resource_units": counters["resourceUnits"],
            "by_kind": {k: v["requests"] for k, v in counters["byKind"].items()}, "drives": report.inventory.drives, "tracked": report.tracked,
            "warned": report.warned, "digests": report.digests_sent, "exit_code": report.exit_code})
    return {"cycles": results}


async def _cycle(app, at, clock, mode):  # type: ignore[no-untyped-def]
    try:
        return await app.cycle(clock=clock).run(mode=mode, at=at)
    finally:
        await app.aclose()


def measure(users: int, per_user: int) -> dict[str, object]:
    from teamsretention.settings.schedule import scheduled_time_on

    at = scheduled_time_on(dt.date(2026, 3, 2), "0 6 * * *", "Europe/Stockholm")
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    server = ctx.Process(target=_serve, args=(users, per_user, port, at.isoformat()), daemon=True)
    server.start()
    try:
        _wait_for(port)
        with tempfile.TemporaryDirectory() as state:
            out = subprocess.run(
                [sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", state, at.isoformat()],
                check=True, capture_output=True, text=True)
        data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.join(10)
    data.update(users=users, per_user=per_user, recordings=users * per_user)
    return data


def write_results(rows: list[dict[str, object]], path: Path, command: str) -> str:
    lines = ["# Benchmark results", "",
             f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores. "
             f"Run on {dt.date.today().isoformat()}.", f"Command: `{command}`", "",
             "The simulator serves the generated tenant on loopback in its own process (delta pages of 200 "
             "items); teamsretention runs an enforcing first cycle (every recording discovered, digests sent) "
             "and then a second cycle at the same moment over the unchanged tenant.", "",
             "| users | recordings | drives | cycle | requests | req/drive | RU | RU/recording | wall s | CPU s "
             "| peak RSS MiB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for c in row["cycles"]:  # type: ignore[union-attr]
            drives = max(1, c["drives"])
            lines.append(
                f"| {row['users']} | {row['recordings']} | {c['drives']} | {c['cycle']} | {c['requests']} | "
                f"{c['requests'] / drives:.2f} | {c['resource_units']} | {c['resource_units'] / row['recordings']:.3f} | "
                f"{c['wall_s']:.1f} | {c['cpu_s']:.1f} | {c['peak_rss_mib']:.0f} |")
    lines += ["", "## Targets", ""]
    for row in rows:
        second = row["cycles"][1]  # type: ignore[index]
        extra = second["requests"] - second["drives"]
        lines.append(f"- {row['users']} users: unchanged second cycle = {second['requests']} requests for "
                     f"{second['drives']} drives, i.e. one per drive + {extra} tenant-level "
                     f"({second['by_kind']}). Target (≤ one per drive + a constant): "
                     f"{'met' if extra <= 4 else 'MISSED'}.")
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        rec_ratio = large["recordings"] / small["recordings"]  # type: ignore[operator]
        rss = [max(c["peak_rss_mib"] for c in r["cycles"]) for r in (small, large)]  # type: ignore[union-attr]
        ratio = rss[1] / rss[0]
        extra = large["recordings"] - small["recordings"]  # type: ignore[operator]
        per_recording_kib = (rss[1] - rss[0]) * 1024 / extra
        lines.append(f"- Peak RSS from {small['recordings']} to {large['recordings']} recordings "
                     f"(×{rec_ratio:.0f}): {rss[0]:.0f} → {rss[1]:.0f} MiB (×{ratio:.2f}), i.e. "
                     f"{per_recording_kib:.2f} KiB per added recording. Target (sub-linear; here: less than "
                     f"1 KiB per added recording, so the process stays near its fixed size): "
                     f"{'met' if per_recording_kib < 1 else 'MISSED'}.")
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return text


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        print(json.dumps(run_client(sys.argv[2], sys.argv[3], sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="250,500,1000,2000", help="comma-separated user counts")
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    rows = []
    for users in [int(x) for x in args.scales.split(",")]:
        print(f"measuring {users} users x {args.per_user} recordings ...", flush=True)
        rows.append(measure(users, args.per_user))
    command = "python bench/run_bench.py " + " ".join(sys.argv[1:])
    print(write_results(rows, args.out, command.strip()))


if __name__ == "__main__":
    main()
