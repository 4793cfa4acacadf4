"""Real-time events benchmark (notifications issue): 200 WebSocket clients connected to one
`hunter serve` (embedded, scratch SQLite database); one scan of a fake Greenhouse board (a local
server) finds 500 new listings.

Reported: whether every client received every event (scan_started, 500 x new_job,
scan_completed); the delay from the commit to the last event reaching each client (the events'
`ts` is taken right after the commit; client and server share this machine's clock); the
server's memory growth (peak RSS while the clients are connected and the scan runs, minus its RSS
before they connected); and what publishing one batch costs the publisher, on the in-process bus
(to 200 subscribed sockets) and, when Redis answers at BENCH_REDIS_URL, on the Redis bus.

The clients run in separate processes so that their own work does not slow the server down more
than it must; on a small machine they still share its CPUs, which the delay includes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.queues import Queue
from typing import Any

import httpx
import psutil

from app.services.events import Batch, Event, InProcessBus, RedisBus
from benchmarks.harness import print_table, scratch_database_url, served_hunter, verdict

DELAY_TARGET_S = 2.0
MEMORY_TARGET_MB = 50.0
PUBLISH_TARGET_MS = 1.0
GREENHOUSE_BOARD = "bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def _greenhouse_listing(count: int) -> dict[str, Any]:
    jobs = [
        {
            "id": 90_000 + n,
            "title": f"Backend Engineer {n}",
            "updated_at": "2024-03-01T09:00:00Z",
            "location": {"name": "Remote" if n % 2 else "Berlin, Germany"},
            "absolute_url": f"https://boards.greenhouse.io/{GREENHOUSE_BOARD}/jobs/{90_000 + n}",
            "content": "&lt;p&gt;Build Python services on Kubernetes.&lt;/p&gt;" * 20,
            "departments": [{"id": 1, "name": "Engineering"}],
            "offices": [],
        }
        for n in range(count)
    ]
    return {"jobs": jobs, "meta": {"total": count}}


# --- the clients (child processes) -------------------------------------------------------------


@dataclass
class ClientResult:
    started: int
    new_jobs: int
    completed: int
    last_received: float  # wall clock, when scan_completed (the batch's last event) arrived
    committed: float  # the events' ts: right after the commit


@dataclass(frozen=True)
class ClientPlan:
    url: str
    count: int
    board_id: str
    compress: bool  # offer permessage-deflate, as browsers do


def _client_process(
    plan: ClientPlan, ready: Queue[int], results: Queue[list[ClientResult]]
) -> None:
    asyncio.run(_clients(plan, ready, results))


async def _clients(plan: ClientPlan, ready: Queue[int], results: Queue[list[ClientResult]]) -> None:
    from websockets.asyncio.client import connect

    compression = "deflate" if plan.compress else None
    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                connect(plan.url, max_size=None, compression=compression)
            )
            for _ in range(plan.count)
        ]
        ready.put(plan.count)
        outcomes = await asyncio.gather(*(_listen(socket_, plan.board_id) for socket_ in sockets))
    results.put(list(outcomes))


async def _listen(socket_: Any, board_id: str) -> ClientResult:
    started = new_jobs = 0
    async with asyncio.timeout(120):
        async for raw in socket_:
            # Parse only what must be parsed: the client's own work is not what is measured.
            if '"new_job"' in raw[:30]:
                new_jobs += 1
                continue
            message = json.loads(raw)
            if message["data"].get("board_id") != board_id:
                continue
            if message["type"] == "scan_started":
                started += 1
            elif message["type"] in ("scan_completed", "scan_error"):
                committed = datetime.fromisoformat(message["ts"]).timestamp()
                ok = message["type"] == "scan_completed"
                return ClientResult(started, new_jobs, int(ok), time.time(), committed)
    raise RuntimeError("the scan never ended")


# --- the server side ---------------------------------------------------------------------------


@contextlib.contextmanager
def peak_rss(pid: int) -> Iterator[dict[str, float]]:
    """Sample a process's RSS every 5 ms; `mb` is the peak seen."""
    process = psutil.Process(pid)
    peak = {"mb": process.memory_info().rss / 2**20}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            with contextlib.suppress(psutil.Error):
                peak["mb"] = max(peak["mb"], process.memory_info().rss / 2**20)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


@dataclass
class Delivery:
    clients: int
    complete: int  # clients that received every event
    delays_s: list[float]
    baseline_mb: float
    peak_mb: float
    server_cpu_s: float  # the server's CPU time from the scan request to the last delivery


def _greenhouse_thread(payload: dict[str, Any]) -> tuple[str, Any]:
    """The fake Greenhouse, served from a thread of this process (the clients are elsewhere)."""
    from tests.scrapers.local_server import LocalServer, Reply

    started = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        async def main() -> None:
            server = LocalServer()
            await server.start()
            server.route("GET", f"/v1/boards/{GREENHOUSE_BOARD}/jobs", Reply(json=payload))
            holder["url"], holder["stop"] = server.url, asyncio.Event()
            started.set()
            await holder["stop"].wait()
            await server.stop()

        holder["loop"] = loop = asyncio.new_event_loop()
        loop.run_until_complete(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(10)

    def stop() -> None:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)

    return holder["url"], stop


def measure_delivery(clients: int, listings: int, processes: int, compress: bool) -> Delivery:
    greenhouse_url, stop_greenhouse = _greenhouse_thread(_greenhouse_listing(listings))
    database_url = scratch_database_url("sqlite", f"bench_events_{int(compress)}")
    try:
        with served_hunter(database_url, GREENHOUSE_API_URL=greenhouse_url) as (base, pid):
            return _deliver(base, pid, clients, listings, processes, compress)
    finally:
        stop_greenhouse()


def _deliver(
    base: str, pid: int, clients: int, listings: int, processes: int, compress: bool
) -> Delivery:
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post(
            "/api/boards",
            json={
                "name": "Bench",
                "url": f"https://boards.greenhouse.io/{GREENHOUSE_BOARD}",
                "enabled": False,
                "scraper_config": {"scraper_type": "greenhouse", "board_token": GREENHOUSE_BOARD},
            },
        )
        response.raise_for_status()
        board_id = response.json()["id"]
        baseline_mb = psutil.Process(pid).memory_info().rss / 2**20

        context = multiprocessing.get_context("spawn")
        ready: Queue[int] = context.Queue()
        results: Queue[list[ClientResult]] = context.Queue()
        shares = [clients // processes + (i < clients % processes) for i in range(processes)]
        url = base.replace("http://", "ws://") + "/ws"
        children = [
            context.Process(
                target=_client_process,
                args=(ClientPlan(url, n, board_id, compress), ready, results),
            )
            for n in shares
            if n
        ]
        server = psutil.Process(pid)
        with peak_rss(pid) as peak:
            for child in children:
                child.start()
            connected = sum(ready.get(timeout=120) for _ in children)
            assert connected == clients, f"only {connected} of {clients} clients connected"
            cpu_before = sum(server.cpu_times()[:2])
            http.post(f"/api/boards/{board_id}/scan").raise_for_status()
            outcomes = [result for _ in children for result in results.get(timeout=180)]
            server_cpu_s = sum(server.cpu_times()[:2]) - cpu_before
        for child in children:
            child.join(30)

    complete = sum(1 for r in outcomes if (r.started, r.new_jobs, r.completed) == (1, listings, 1))
    delays = [r.last_received - r.committed for r in outcomes]
    return Delivery(clients, complete, delays, baseline_mb, peak["mb"], server_cpu_s)


# --- the publisher's cost ----------------------------------------------------------------------


def _scan_batch(listings: int) -> list[Event]:
    board = {"board_id": str(uuid.uuid4()), "board_name": "Bench", "scan_id": str(uuid.uuid4())}
    jobs = [
        Event(
            type="new_job",
            data={
                "id": str(uuid.uuid4()),
                **board,
                "title": f"Backend Engineer {n}",
                "company": "Bench",
                "location": "Remote",
                "url": f"https://boards.greenhouse.io/bench/jobs/{n}",
                "match_score": 64.5,
            },
        )
        for n in range(listings)
    ]
    counts = {"found": listings, "new": listings, "updated": 0, "closed": 0, "duration_ms": 9}
    return [*jobs, Event(type="scan_completed", data={**board, **counts})]


async def _time_publish(bus: Any, batch: list[Event], runs: int, drain: Any) -> float:
    for _ in range(5):
        await bus.publish(batch)
        drain()
    total = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        await bus.publish(batch)
        total += time.perf_counter() - started
        drain()
    return total / runs * 1000


async def measure_publishing(subscribers: int, listings: int) -> list[tuple[str, float]]:
    """Milliseconds per batch: a one-event batch and a scan's batch of `listings` new jobs."""
    small, large = _scan_batch(0), _scan_batch(listings)
    local = InProcessBus()
    queues: list[asyncio.Queue[Batch]] = [asyncio.Queue(256) for _ in range(subscribers)]
    for queue in queues:
        local.subscribe(queue.put_nowait)

    def drain() -> None:
        for queue in queues:
            while not queue.empty():
                queue.get_nowait()

    rows = [
        (
            f"in-process, 1 event, {subscribers} sockets",
            await _time_publish(local, small, 500, drain),
        ),
        (
            f"in-process, {len(large)} events, {subscribers} sockets",
            await _time_publish(local, large, 200, drain),
        ),
    ]
    if not await _redis_answers():
        print(f"(the Redis bus is not measured: no Redis at {REDIS_URL})")
        return rows
    remote = RedisBus(REDIS_URL, channel=f"hunter:bench:{uuid.uuid4().hex}")
    try:
        rows += [
            ("Redis, 1 event", await _time_publish(remote, small, 500, lambda: None)),
            (
                f"Redis, {len(large)} events (encoding included)",
                await _time_publish(remote, large, 100, lambda: None),
            ),
        ]
    finally:
        await remote.stop()
    return rows


async def _redis_answers() -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


# --- report ------------------------------------------------------------------------------------


def _delivery_rows(label: str, delivery: Delivery) -> list[tuple[str, ...]]:
    ordered = sorted(delivery.delays_s)
    last = ordered[-1] if ordered else float("nan")
    growth = delivery.peak_mb - delivery.baseline_mb
    return [
        (
            f"{label}: clients that received every event",
            f"{delivery.complete}/{delivery.clients}",
            f"{delivery.clients}/{delivery.clients}",
            verdict(delivery.clients - delivery.complete, 0),
        ),
        (
            f"{label}: commit -> last event, median client",
            f"{statistics.median(ordered):.3f} s" if ordered else "-",
            "",
            "",
        ),
        (
            f"{label}: commit -> last event, slowest client",
            f"{last:.3f} s",
            f"<= {DELAY_TARGET_S} s",
            verdict(last, DELAY_TARGET_S),
        ),
        (
            f"{label}: server memory growth (peak - before)",
            f"{growth:.1f} MB ({delivery.baseline_mb:.0f} -> {delivery.peak_mb:.0f})",
            f"<= {MEMORY_TARGET_MB:.0f} MB",
            verdict(growth, MEMORY_TARGET_MB),
        ),
        (f"{label}: server CPU, scan + delivery", f"{delivery.server_cpu_s:.2f} s", "", ""),
    ]


def run(clients: int, listings: int, processes: int | None = None) -> None:
    processes = processes or max(1, min(8, (os.cpu_count() or 2)))
    print(
        f"\nEvents: {clients} WebSocket clients on one `hunter serve` (embedded, SQLite), "
        f"a scan finding {listings} new listings; clients in {processes} processes "
        f"on {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"
    )
    rows: list[tuple[str, ...]] = []
    for label, compress in (("deflate (browsers)", True), ("no compression", False)):
        rows += _delivery_rows(label, measure_delivery(clients, listings, processes, compress))
    publishing = asyncio.run(measure_publishing(clients, listings))
    rows += [
        (
            f"publish one batch: {label}",
            f"{ms:.3f} ms",
            f"<= {PUBLISH_TARGET_MS} ms",
            verdict(ms, PUBLISH_TARGET_MS),
        )
        for label, ms in publishing
    ]
    print_table("Real-time events", rows, ("measure", "value", "target", ""))
