"""Micro-benchmark: label reads (the re-read with ``$expand=retentionLabel``) one GET each versus Graph JSON
``$batch`` (20 per POST), through the real gateway (msgraph-sdk's middleware chain, our throttle gate, httpx and
httpcore) against a canned answering server on loopback in another process, so the CPU figures are the
client's own cost.

Reported: Graph HTTP requests per label read, resource units per label read (each inner request of a batch is
still billed on its own), CPU milliseconds per label read. Results go to bench/batch_results.md.

    python bench/batch_bench.py                 # 2,000 label reads each way
    python bench/batch_bench.py --reads 500 --out /tmp/x.md

The first row runs with ``sniffio`` made missing (searched for and not found on every import), as it was
before it became a dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.machinery
import json
import multiprocessing
import os
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
DRIVE = "b!bench"


def _item(item_id: str) -> dict[str, Any]:
    return {"id": item_id, "name": f"Sync-20240402_090000UTC-Meeting Recording {item_id}.mp4",
            "eTag": f"\"{{{item_id}}},1\"", "file": {"mimeType": "video/mp4"},
            "parentReference": {"driveId": DRIVE, "id": "01RECFOLDER", "path": f"/drives/{DRIVE}/root:/Recordings"},
            "retentionLabel": {"name": None}}


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A canned Graph: a driveItem for any GET, a responses array for POST /$batch; counts in a header-less
    ``/_count`` GET (requests, inner requests)."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/_count":
        answer: Any = _COUNTS
    elif scope["method"] == "POST" and path.endswith("/$batch"):
        _COUNTS["requests"] += 1
        inner = json.loads(body)["requests"]
        _COUNTS["inner"] += len(inner)
        answer = {"responses": [{"id": r["id"], "status": 200, "headers": {"Content-Type": "application/json"},
                                 "body": _item(r["url"].split("/items/")[1].split("?")[0])} for r in inner]}
    else:
        _COUNTS["requests"] += 1
        _COUNTS["inner"] += 1
        answer = _item(path.rsplit("/", 1)[1])
    data = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


_COUNTS = {"requests": 0, "inner": 0}


def _serve(port: int) -> None:
    import uvicorn
    uvicorn.run(_app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the canned server did not start on port {port}")


async def _measure(base: str, reads: int, batched: bool) -> dict[str, float]:
    from teamsretention.domain import RecordingRef
    from teamsretention.graph import build_gateway

    gateway = build_gateway(base, None, user_agent="NONISV|Bench|teamsretention", max_concurrency=8,
                            http_client=httpx.AsyncClient())
    refs = [RecordingRef(DRIVE, f"01ITEM{n:05d}") for n in range(reads)]
    # Warm up: the first request imports and builds kiota's machinery.
    await gateway.reread_item(DRIVE, "01WARMUP")
    async with httpx.AsyncClient() as plain:
        before = (await plain.get(base.rsplit("/", 1)[0] + "/_count")).json()
    start = time.process_time()
    if batched:
        for at in range(0, reads, 500):  # the evaluate step's batch
            answers = await gateway.get_items_with_labels(refs[at:at + 500])
            assert all(not isinstance(a, Exception) and a is not None for a in answers.values())
    else:
        for ref in refs:
            assert await gateway.reread_item(ref.drive_id, ref.item_id) is not None
    cpu = time.process_time() - start
    await gateway.aclose()
    async with httpx.AsyncClient() as plain:
        after = (await plain.get(base.rsplit("/", 1)[0] + "/_count")).json()
    return {"requests": (after["requests"] - before["requests"]) / reads,
            "units": (after["inner"] - before["inner"]) / reads, "cpu_ms": 1000 * cpu / reads}


class _NotInstalled:
    """A meta path finder that makes ``sniffio`` missing the way an uninstalled module is: every import searches
    sys.path for it (what it costs) and fails."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "sniffio":
            importlib.machinery.PathFinder.find_spec("sniffio_is_not_installed")
            raise ModuleNotFoundError("No module named 'sniffio'", name="sniffio")
        return None


def _child(base: str, reads: int, batched: bool, without_sniffio: bool, out: Any) -> None:
    if without_sniffio:
        sys.modules.pop("sniffio", None)
        sys.meta_path.insert(0, _NotInstalled())
    out.put(asyncio.run(_measure(base, reads, batched)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=HERE / "batch_results.md")
    args = parser.parse_args()
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    _wait_for(port)
    base = f"http://127.0.0.1:{port}/v1.0"
    rows = []
    spawn = multiprocessing.get_context("spawn")  # each measurement in a fresh process, warmed up the same way
    for name, batched, without_sniffio in (("one GET each, without sniffio (before)", False, True),
                                           ("one GET each, with sniffio", False, False),
                                           ("$batch of 20, with sniffio (after)", True, False)):
        queue = spawn.Queue()
        child = spawn.Process(target=_child, args=(base, args.reads, batched, without_sniffio, queue))
        child.start()
        figures = queue.get()
        child.join()
        rows.append(f"| {name} | {figures['requests']:.3f} | {figures['units']:.2f} | {figures['cpu_ms']:.3f} |")
        print(rows[-1], flush=True)
    server.terminate()
    server.join()
    text = "\n".join([
        "# Label reads: one GET each versus $batch",
        "",
        f"{args.reads} label reads (re-reads with `$expand=retentionLabel`) through the production gateway against a "
        "canned server on loopback in another process (the CPU is the client's only); "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. `python bench/batch_bench.py` rewrites this file.",
        "",
        "| path | HTTP requests per read | resource units per read | CPU ms per read |",
        "|---|---|---|---|",
        *rows,
        "",
        "Resource units are Graph's: each request inside a batch is billed (and throttled) on its own, so batching",
        "saves client CPU and connections, not throttling budget.",
        "",
    ])
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
