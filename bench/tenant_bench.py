"""Benchmark on a tenant that looks like one (issue: scale): OneDrives with other files (200 each by default,
a third in folders), recordings of every age up to 90 days, organizers who record a lot next to ones who
rarely do, new recordings arriving every day.

The simulator serves the tenant on loopback in its own process; teamsretention runs in another, enforcing:
a first cycle, an unchanged cycle at the same moment, then one cycle a day for a week (the clock of the
simulator moves a day, the day's recordings arrive). Per cycle: CPU seconds and peak RSS of the product
process, Graph requests and estimated resource units (simulator's cost model), RU per drive, warnings,
digests and deletions. Then, in-process, what one recording costs over its life (found, warned twice,
deleted) on its drive: the drive's resource units with the recording minus without it.

    python bench/tenant_bench.py                           # 10,000 recordings
    python bench/tenant_bench.py --sizes 10000,100000 --out bench/tenant_results.md
    python bench/tenant_bench.py --postgres --days 1 --no-life --out /tmp/pg.md   # the store on PostgreSQL

``--postgres`` starts a throwaway PostgreSQL cluster from the machine's binaries (``initdb``, ``pg_ctl``; fsync
on), a fresh database per size; the server's CPU (postmaster, backends, autovacuum) is reported next to the
product's, which with SQLite includes the store's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from run_bench import SENDER, _free_port, _wait_for

HERE = Path(__file__).resolve().parent
CRON, ZONE = "0 6 * * *", "Europe/Stockholm"
FIRST_DAY = dt.date(2026, 3, 2)


def _moment(day: int) -> dt.datetime:
    from teamsretention.settings.schedule import scheduled_time_on

    return scheduled_time_on(FIRST_DAY + dt.timedelta(days=day), CRON, ZONE)


def _serve(recordings: int, files: int, port: int) -> None:
    from teamsretention.simulator.knobs import Knobs
    from teamsretention.simulator.server import serve_forever
    from teamsretention.simulator.tenant_like import TenantShape, build_tenant_like

    devnull = open(os.devnull, "w")  # noqa: SIM115 - uvicorn's access log would drown the report
    sys.stdout = sys.stderr = devnull
    model = build_tenant_like(TenantShape(recordings, files_per_drive=files), _moment(0))
    model.add_user("Recording governance", SENDER, SENDER, has_onedrive=False)
    serve_forever(model, port=port, knobs=Knobs(page_size=200, directory_page_size=999))


def _settings(graph_url: str, state: str, poll_days: int | None = None, database_url: str | None = None) -> Any:
    from teamsretention.settings import Settings

    policy = {"max_poll_interval_days": poll_days} if poll_days else {}
    database = {"database": {"url": database_url}} if database_url else {}
    return Settings().with_overrides(
        graph={"graph_endpoint": graph_url, "auth": "none", "max_concurrency": 8,
               "ru_budget_per_minute": 0},  # the simulator here does not throttle: CPU, not pacing, is measured
        policy={"enforce": True, "max_deletions_per_cycle": 1_000_000, "max_deletion_share": 1.0, **policy},
        notifications={"sender": SENDER, "fallback_contact": SENDER},
        state={"directory": state}, **database)


def _server_cpu(pid: int | None) -> float | None:
    """CPU seconds of a PostgreSQL server so far: its postmaster, the children alive (backends, autovacuum,
    the writers) and those it has reaped (``/proc``, Linux). A child reaped during the scan would be missed (its
    own line gone, its time not yet in the postmaster's) or counted twice: the scan is repeated until the
    postmaster's reaped-children time is the same before and after it."""
    if pid is None:
        return None
    for _ in range(50):
        reaped = _stat(pid)[13:15]
        ticks = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != pid:
                fields = _stat(int(entry.name))
                if fields and int(fields[1]) == pid:
                    ticks += int(fields[11]) + int(fields[12])  # utime, stime
        own = _stat(pid)
        if own[13:15] == reaped:
            return (ticks + sum(int(x) for x in own[11:15])) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError("the PostgreSQL server's children kept changing while its CPU was read")


def _stat(pid: int) -> list[str]:
    """Fields 3 on of ``/proc/<pid>/stat`` (after the command's name), [] for a process gone meanwhile."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def run_client(graph_url: str, state: str, days: int, database_url: str | None = None,
               server_pid: int | None = None) -> dict[str, Any]:
    import httpx

    from teamsretention.bootstrap import build_app, rehearsal_clock
    from teamsretention.domain import RunMode
    from teamsretention.logging import configure_logging

    configure_logging(level="error")
    settings = _settings(graph_url, state, database_url=database_url)
    control = httpx.Client(base_url=graph_url, timeout=600)
    cycles = []
    for label, day in [("first", 0), ("unchanged", 0), *[(f"day {d}", d) for d in range(1, days + 1)]]:
        at = _moment(day)
        if day:
            control.post("/_simulator/clock", json={"now": at.isoformat()})
        control.delete("/_simulator/requests")
        app = build_app(settings)
        server0 = _server_cpu(server_pid)  # before the clocks start: the scan is not the product's work
        wall0, cpu0 = time.perf_counter(), time.process_time()
        report = asyncio.run(_cycle(app, at, rehearsal_clock(at), RunMode.ENFORCE))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        server1 = _server_cpu(server_pid)
        server = None if server0 is None or server1 is None else server1 - server0
        log = control.get("/_simulator/requests", params={"recent": 0}).json()
        inv = report.inventory
        cycles.append({
            "cycle": label, "day": day, "wall_s": wall, "cpu_s": cpu, "server_cpu_s": server,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "requests": log["requests"], "resource_units": log["resourceUnits"],
            "by_kind": {k: v["requests"] for k, v in log["byKind"].items()},
            "drives": inv.drives, "drives_read": getattr(inv, "drives_read", None),
            "drives_skipped": getattr(inv, "drives_idle", None),
            "tracked": report.tracked, "new": inv.recordings_new, "warned": report.warned,
            "digests": report.digests_sent, "deleted": report.deleted, "exit_code": report.exit_code})
    return {"cycles": cycles}


async def _cycle(app: Any, at: dt.datetime, clock: Any, mode: Any) -> Any:
    try:
        return await app.cycle(clock=clock).run(mode=mode, at=at)
    finally:
        await app.aclose()


def measure(recordings: int, files: int, days: int, cluster: Any = None) -> dict[str, Any]:
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    server = ctx.Process(target=_serve, args=(recordings, files, port), daemon=True)
    server.start()
    try:
        _wait_for(port, timeout=900)
        store = [cluster.database("bench"), str(cluster.postmaster_pid())] if cluster else []
        with tempfile.TemporaryDirectory() as state:
            out = subprocess.run([sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", state, str(days),
                                  *store], check=True, capture_output=True, text=True)
        data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.join(10)
    data.update(recordings=recordings, files_per_drive=files, store="PostgreSQL" if cluster else "SQLite")
    return data


# --- one recording's life, in-process ------------------------------------------------------------------
def recording_life(files: int, days: int = 40) -> dict[str, Any]:
    """Daily cycles over one OneDrive with ``files`` other files, with and without one recording made on day 0.

    ``ru_recording``: what the recording's own requests cost from found to deleted (the drive read every day in
    both worlds, as a drive with other recordings near their dates is: its label reads, its deletion).
    ``ru_drive``: the difference for a drive that holds only this recording, with idle drives read every
    ``max_poll_interval_days`` (the default 7): the recording also makes its drive busy, read daily near its dates."""
    own = [_life(files, days, with_recording=w, poll_days=1) for w in (True, False)]
    polled = [_life(files, days, with_recording=w, poll_days=None) for w in (True, False)]
    return {"ru_recording": own[0][0] - own[1][0], "events": own[0][1],
            "ru_drive": polled[0][0] - polled[1][0], "ru_drive_with": polled[0][0], "ru_drive_without": polled[1][0]}


def _life(files: int, days: int, *, with_recording: bool, poll_days: int | None) -> tuple[int, list[str]]:
    import httpx

    from teamsretention.bootstrap import build_app, rehearsal_clock
    from teamsretention.domain import RunMode
    from teamsretention.logging import configure_logging
    from teamsretention.simulator.app import create_app
    from teamsretention.simulator.events import MP4, recording_name
    from teamsretention.simulator.knobs import Knobs
    from teamsretention.simulator.tenant_like import TenantShape, build_tenant_like

    configure_logging(level="error")
    model = build_tenant_like(TenantShape(0, files_per_drive=files, per_user=1, arrivals_per_day=0), _moment(0))
    model.add_user("Recording governance", SENDER, SENDER, has_onedrive=False)
    user = model.users[model.aliases["user00000"]]
    assert user.drive_id is not None
    app = create_app(model, knobs=Knobs(page_size=200))
    events: list[str] = []
    ru = 0
    with tempfile.TemporaryDirectory() as state:
        settings = _settings("http://127.0.0.1/v1.0", state, poll_days)
        for day in range(days):
            at = _moment(day)
            model.advance_to(at)
            if with_recording and day == 0:
                made = at - dt.timedelta(hours=14)  # yesterday afternoon
                model.add_file(user.drive_id, ["Recordings"], recording_name("Client review", made), made,
                               mime_type=MP4, size=50_000_000, created_by=user.id, teams_recording=True)
            before = model.requests.ru_by_drive[user.drive_id]
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
            built = build_app(settings, http_client=http)
            report = asyncio.run(_cycle(built, at, rehearsal_clock(at), RunMode.ENFORCE))
            spent = model.requests.ru_by_drive[user.drive_id] - before
            ru += spent
            if report.warned or report.deleted or report.inventory.recordings_new:
                events.append(f"day {day}: new {report.inventory.recordings_new}, warned {report.warned}, "
                              f"deleted {report.deleted}, drive RU {spent}")
    return ru, events


# --- the report ------------------------------------------------------------------------------------------
def _cpu(cycle: dict[str, Any]) -> float:
    """The cycle's CPU with the store's: on SQLite the product process's alone (the store runs inside it)."""
    return float(cycle["cpu_s"] + (cycle.get("server_cpu_s") or 0))


def write_results(rows: list[dict[str, Any]], life: dict[str, Any], path: Path, command: str) -> str:
    lines = ["# Tenant-like benchmark", "",
             f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores. "
             f"Run on {dt.date.today().isoformat()}.", f"Command: `{command}`", "",
             "| store | recordings | files/drive | drives | cycle | new | warned | deleted | requests | RU | RU/drive "
             "| drives read / skipped | wall s | CPU s | rec per CPU-s (with server) "
             "| peak RSS MiB | server CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for c in row["cycles"]:
            drives = max(1, c["drives"])
            read = "—" if c["drives_read"] is None else f"{c['drives_read']} / {c['drives_skipped']}"
            rate = f"{row['recordings'] / _cpu(c):.0f}" if c["cycle"] == "first" else ""
            server = "—" if c.get("server_cpu_s") is None else f"{c['server_cpu_s']:.1f}"
            lines.append(
                f"| {row.get('store', 'SQLite')} | {row['recordings']} | {row['files_per_drive']} | {c['drives']} | "
                f"{c['cycle']} | {c['new']} | "
                f"{c['warned']} | {c['deleted']} | {c['requests']} | {c['resource_units']} | "
                f"{c['resource_units'] / drives:.2f} | {read} | {c['wall_s']:.1f} | {c['cpu_s']:.1f} | {rate} | "
                f"{c['peak_rss_mib']:.0f} | {server} |")
    lines += ["", "## Figures against the targets", ""]
    for row in rows:
        week = [c for c in row["cycles"] if c["day"] > 0]
        first = row["cycles"][0]
        if week:
            per_drive_day = sum(c["resource_units"] for c in week) / len(week) / max(1, first["drives"])
            lines.append(f"- {row['recordings']} recordings: a week of daily cycles costs {per_drive_day:.2f} RU per "
                         f"drive per day (all drives, new recordings and deletions included).")
        both = "" if first.get("server_cpu_s") is None else f" (product {first['cpu_s']:.1f} + server " \
            f"{first['server_cpu_s']:.1f})"
        lines.append(f"- {row['recordings']} recordings on {row.get('store', 'SQLite')}: first cycle "
                     f"{_cpu(first):.1f} CPU s{both} = {1000 * _cpu(first) / row['recordings']:.2f} ms per recording "
                     f"({row['recordings'] / _cpu(first):.0f} recordings per CPU-second; target ≥ 2,000), "
                     f"peak RSS {max(c['peak_rss_mib'] for c in row['cycles']):.0f} MiB (target ≤ 150 at 100k).")
    if life:
        lines.append(f"- One recording's life (found, warned twice, deleted; in process, on SQLite): its own "
                     f"requests cost {life['ru_recording']} RU (target ≤ 4): " + "; ".join(life["events"]) +
                     ". In a drive that "
                     f"holds only it, with idle drives read every 7 days, its drive costs {life['ru_drive']} RU more "
                     f"over 40 days ({life['ru_drive_with']} with it, {life['ru_drive_without']} without): the drive "
                     "is read daily while the recording is near its dates.")
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps({"rows": rows, "life": life}, indent=1), encoding="utf-8")
    return text


def _cluster() -> Any:
    sys.path.insert(0, str(HERE.parent))
    from tests.pgcluster import Cluster, ClusterUnavailable

    try:
        return Cluster("teamsretention-bench-pg-", fsync=True)
    except ClusterUnavailable as exc:
        raise SystemExit(f"--postgres: {exc}; install PostgreSQL's server binaries, or run without --postgres"
                         ) from None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        store = sys.argv[5:7]
        print(json.dumps(run_client(sys.argv[2], sys.argv[3], int(sys.argv[4]), store[0] if store else None,
                                    int(store[1]) if store else None)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated recording counts")
    parser.add_argument("--files-per-drive", type=int, default=200)
    parser.add_argument("--days", type=int, default=7, help="daily cycles after the first")
    parser.add_argument("--no-life", action="store_true", help="skip the one-recording life measurement")
    parser.add_argument("--postgres", action="store_true",
                        help="the store on a throwaway PostgreSQL cluster (initdb and pg_ctl on this machine)")
    parser.add_argument("--out", type=Path, default=HERE / "tenant_results.md")
    args = parser.parse_args()
    cluster = _cluster() if args.postgres else None
    rows = []
    try:
        for size in [int(x) for x in args.sizes.split(",")]:
            print(f"measuring {size} recordings, {args.files_per_drive} other files per drive ...", flush=True)
            rows.append(measure(size, args.files_per_drive, args.days, cluster))
    finally:
        if cluster is not None:
            cluster.destroy()
    life = {} if args.no_life else recording_life(args.files_per_drive)
    command = "python bench/tenant_bench.py " + " ".join(sys.argv[1:])
    print(write_results(rows, life, args.out, command.strip()))


if __name__ == "__main__":
    main()
