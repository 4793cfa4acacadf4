"""Real-time events benchmark (notifications issue): 200 WebSocket clients connected to one
`hunter serve` (scratch SQLite database); scans one after the other (3 by default), each finding
500 new listings, so each round delivers 502 events to every client.

Delivery is measured twice: embedded (each scan, of its own fake Greenhouse board served on
127.0.0.1, runs inside the server and hands its batch to the sockets) and, when Redis answers
at BENCH_REDIS_URL, distributed (the server relays from Redis the batches a worker would
publish; they are published from this process). Reported, as medians over the rounds: whether
every client received every event (scan_started, 500 x new_job, scan_completed); the delay from
the commit to the last event reaching each client (the events' `ts` is taken right after the
commit; client and server share this machine's clock); the server's memory growth (peak RSS
while the clients are connected and the scans run, minus its RSS before they connected); its CPU
time per scan. Then what publishing one batch costs the publisher, in wall-clock and CPU time,
on the in-process bus (to 200 subscribed sockets) and on the Redis bus.

The clients (`event_clients.py`) run in separate processes and read frames off the wire
themselves, as a browser does in native code, so that their own work steals as little as
possible of the CPUs they share with the server on a small machine; the delay still includes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import Any

import httpx
import psutil

from app.models.base import utcnow
from app.services.event_bus_redis import RedisBus, channel_for
from app.services.events import Batch, Event, InProcessBus
from benchmarks.event_clients import ClientPlan, ClientResult, client_process
from benchmarks.harness import (
    BACKEND_DIR,
    print_table,
    scratch_database_url,
    served_hunter,
    verdict,
)

DELAY_TARGET_S = 2.0
MEMORY_TARGET_MB = 50.0
PUBLISH_TARGET_MS = 1.0
GREENHOUSE_BOARD = "bench"
# Not the tests' database 15: its channel carries the events their scans announce.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _greenhouse_listing(token: str, count: int) -> dict[str, Any]:
    jobs = [
        {
            "id": 90_000 + n,
            "title": f"Backend Engineer {n}",
            "updated_at": "2024-03-01T09:00:00Z",
            "location": {"name": "Remote" if n % 2 else "Berlin, Germany"},
            "absolute_url": f"https://boards.greenhouse.io/{token}/jobs/{90_000 + n}",
            "content": "&lt;p&gt;Build Python services on Kubernetes.&lt;/p&gt;" * 20,
            "departments": [{"id": 1, "name": "Engineering"}],
            "offices": [],
        }
        for n in range(count)
    ]
    return {"jobs": jobs, "meta": {"total": count}}


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
class Round:
    complete: int  # clients that received every event
    delays_s: list[float]  # commit -> last event, per client
    server_cpu_s: float  # the server's CPU time from the announcement to the last delivery
    compressed: int  # clients whose offer of permessage-deflate the server accepted


@dataclass
class Delivery:
    clients: int
    rounds: list[Round]
    baseline_mb: float
    peak_mb: float


def _greenhouse_thread(payloads: dict[str, dict[str, Any]]) -> tuple[str, Any]:
    """The fake Greenhouse (one board per token), served from a thread of this process."""
    from tests.scrapers.local_server import LocalServer, Reply

    started = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        async def main() -> None:
            server = LocalServer()
            await server.start()
            for token, payload in payloads.items():
                server.route("GET", f"/v1/boards/{token}/jobs", Reply(json=payload))
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


def measure_delivery(clients: int, listings: int, processes: int, rounds: int) -> Delivery:
    """Embedded: each round a scan runs inside `hunter serve` (a board of its own, so that all
    its listings are new) and hands its batch straight to the sockets."""
    tokens = [f"{GREENHOUSE_BOARD}{n}" for n in range(rounds)]
    payloads = {token: _greenhouse_listing(token, listings) for token in tokens}
    greenhouse_url, stop_greenhouse = _greenhouse_thread(payloads)
    database_url = scratch_database_url("sqlite", "bench_events")
    try:
        with (
            served_hunter(database_url, GREENHOUSE_API_URL=greenhouse_url) as (base, pid),
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            board_ids = [_add_board(http, token) for token in tokens]

            def scan(round_: int) -> None:
                http.post(f"/api/boards/{board_ids[round_]}/scan").raise_for_status()

            return _deliver(base, pid, clients, listings, processes, board_ids, scan)
    finally:
        stop_greenhouse()


def _add_board(http: httpx.Client, token: str) -> str:
    response = http.post(
        "/api/boards",
        json={
            "name": f"Bench {token}",
            "url": f"https://boards.greenhouse.io/{token}",
            "enabled": False,
            "scraper_config": {"scraper_type": "greenhouse", "board_token": token},
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def measure_relayed_delivery(clients: int, listings: int, processes: int, rounds: int) -> Delivery:
    """Distributed: `hunter serve` with REDIS_URL relays what a worker publishes. The batches a
    scan would publish are published from here, on the server's channel (a worker's own cost is
    the publish measurement below)."""
    database_url = scratch_database_url("sqlite", "bench_events_relay")
    env = {**os.environ, "DATABASE_URL": database_url, "HUNTER_ENV_FILE": ""}
    # A distributed `hunter serve` leaves migrating to `hunter migrate`.
    subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=BACKEND_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    board_ids = [str(uuid.uuid4()) for _ in range(rounds)]
    channel = channel_for(REDIS_URL)

    async def publish(board_id: str) -> None:
        bus = RedisBus(REDIS_URL, channel=channel)
        started = Event(type="scan_started", data={"board_id": board_id, "board_name": "Bench"})
        try:
            await bus.publish([started])
            await bus.publish(_scan_batch(listings, board_id))
        finally:
            await bus.stop()

    def announce(round_: int) -> None:
        asyncio.run(publish(board_ids[round_]))

    with served_hunter(database_url, REDIS_URL=REDIS_URL) as (base, pid):
        _await_relay(channel)
        return _deliver(base, pid, clients, listings, processes, board_ids, announce)


def _await_relay(channel: str) -> None:
    """Wait until the server's relay listens on `channel`: a batch published earlier is lost."""
    from redis import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        deadline = time.monotonic() + 30
        while not dict(client.pubsub_numsub(channel)).get(channel.encode()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no relay subscribed to {channel}")
            time.sleep(0.1)
    finally:
        client.close()


def _deliver(
    base: str,
    pid: int,
    clients: int,
    listings: int,
    processes: int,
    board_ids: list[str],
    announce: Callable[[int], None],
) -> Delivery:
    """Connect the clients; each round, `announce` a scan and collect what each client got."""
    baseline_mb = psutil.Process(pid).memory_info().rss / 2**20
    context = multiprocessing.get_context("spawn")
    ready: Queue[int] = context.Queue()
    results: Queue[list[ClientResult]] = context.Queue()
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    host, _, port = base.removeprefix("http://").partition(":")
    plans = [ClientPlan(host, int(port), n, tuple(board_ids)) for n in shares if n]
    children = [
        context.Process(target=client_process, args=(plan, ready, results)) for plan in plans
    ]
    server = psutil.Process(pid)
    rounds: list[Round] = []
    with peak_rss(pid) as peak:
        for child in children:
            child.start()
        connected = sum(ready.get(timeout=120) for _ in children)
        assert connected == clients, f"only {connected} of {clients} clients connected"
        for round_ in range(len(board_ids)):
            cpu_before = sum(server.cpu_times()[:2])
            announce(round_)
            outcomes = [result for _ in children for result in results.get(timeout=180)]
            server_cpu_s = sum(server.cpu_times()[:2]) - cpu_before
            complete = sum(
                (r.started, r.new_jobs, r.completed) == (1, listings, 1) for r in outcomes
            )
            delays = [r.last_received - r.committed for r in outcomes]
            compressed = sum(r.compressed for r in outcomes)
            rounds.append(Round(complete, delays, server_cpu_s, compressed))
    for child in children:
        child.join(30)
    return Delivery(clients, rounds, baseline_mb, peak["mb"])


# --- the publisher's cost ----------------------------------------------------------------------


def _scan_batch(listings: int, board_id: str | None = None) -> list[Event]:
    """What a scan publishes: one `new_job` per listing, then `scan_completed`, all stamped with
    the time of the commit (as `publish_scan_outcome` stamps them)."""
    board_id = board_id or str(uuid.uuid4())
    board = {"board_id": board_id, "board_name": "Bench", "scan_id": str(uuid.uuid4())}
    committed_at = utcnow()
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
            ts=committed_at,
        )
        for n in range(listings)
    ]
    counts = {"found": listings, "new": listings, "updated": 0, "closed": 0, "duration_ms": 9}
    return [*jobs, Event(type="scan_completed", data={**board, **counts}, ts=committed_at)]


@dataclass
class Publishing:
    label: str
    ms: float  # median wall-clock time the publisher waits
    cpu_ms: float  # median CPU time it spends (what other work on a shared machine cannot inflate)


async def _time_publish(
    label: str, bus: Any, batch: list[Event], runs: int, drain: Callable[[], None]
) -> Publishing:
    """The median of `runs` publishes (the median: other work on a shared machine lands on a
    few runs, not on the publisher)."""
    for _ in range(5):
        await bus.publish(batch)
        drain()
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.thread_time()
        await bus.publish(batch)
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - cpu_started)
        drain()
    return Publishing(label, statistics.median(wall) * 1000, statistics.median(cpu) * 1000)


async def measure_publishing(subscribers: int, listings: int) -> list[Publishing]:
    """What one batch costs the publisher: a one-event batch and a scan's batch of `listings`
    new jobs. In process, a batch is encoded later, once, by the first socket it goes to."""
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
        await _time_publish(
            f"in-process, 1 event, {subscribers} sockets", local, small, 500, drain
        ),
        await _time_publish(
            f"in-process, {len(large)} events, {subscribers} sockets", local, large, 200, drain
        ),
    ]
    if not await _redis_answers():
        print(f"(the Redis bus is not measured: no Redis at {REDIS_URL})")
        return rows
    remote = RedisBus(REDIS_URL, channel=f"hunter:bench:{uuid.uuid4().hex}")
    try:
        rows += [
            await _time_publish("Redis, 1 event", remote, small, 500, lambda: None),
            await _time_publish(
                f"Redis, {len(large)} events (encoding included)", remote, large, 200, lambda: None
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
    """Each figure is the median over the rounds; the slowest client's delay lists every round."""
    rounds, clients = delivery.rounds, delivery.clients
    incomplete = max(clients - r.complete for r in rounds)
    slowest = [max(r.delays_s) for r in rounds]
    median_client = statistics.median(statistics.median(r.delays_s) for r in rounds)
    growth = delivery.peak_mb - delivery.baseline_mb
    each = ", ".join(f"{delay:.2f}" for delay in slowest)
    return [
        (
            f"{label}: clients that received every event (worst round)",
            f"{clients - incomplete}/{clients}",
            f"{clients}/{clients}",
            verdict(incomplete, 0),
        ),
        (f"{label}: commit -> last event, median client", f"{median_client:.3f} s", "", ""),
        (
            f"{label}: commit -> last event, slowest client",
            f"{statistics.median(slowest):.3f} s ({each})",
            f"<= {DELAY_TARGET_S} s",
            verdict(statistics.median(slowest), DELAY_TARGET_S),
        ),
        (
            f"{label}: server memory growth (peak - before)",
            f"{growth:.1f} MB ({delivery.baseline_mb:.0f} -> {delivery.peak_mb:.0f})",
            f"<= {MEMORY_TARGET_MB:.0f} MB",
            verdict(growth, MEMORY_TARGET_MB),
        ),
        (
            f"{label}: server CPU per scan, announcement + delivery",
            f"{statistics.median(r.server_cpu_s for r in rounds):.2f} s",
            "",
            "",
        ),
        (
            f"{label}: clients offered deflate, server accepted",
            f"{max(r.compressed for r in rounds)}/{clients}",
            "",
            "",
        ),
    ]


def run(clients: int, listings: int, processes: int | None = None, rounds: int = 3) -> None:
    processes = processes or max(1, min(8, (os.cpu_count() or 2)))
    print(
        f"\nEvents: {clients} WebSocket clients on one `hunter serve` (SQLite), {rounds} scans "
        f"one after the other, each finding {listings} new listings; clients in {processes} "
        f"processes on {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"
    )
    rows = _delivery_rows("embedded", measure_delivery(clients, listings, processes, rounds))
    if asyncio.run(_redis_answers()):
        relayed = measure_relayed_delivery(clients, listings, processes, rounds)
        rows += _delivery_rows("via Redis", relayed)
    else:
        print(f"(delivery through Redis is not measured: no Redis at {REDIS_URL})")
    publishing = asyncio.run(measure_publishing(clients, listings))
    rows += [
        (
            f"publish one batch: {cost.label}",
            f"{cost.ms:.3f} ms (CPU {cost.cpu_ms:.3f} ms)",
            f"<= {PUBLISH_TARGET_MS} ms",
            verdict(cost.ms, PUBLISH_TARGET_MS),
        )
        for cost in publishing
    ]
    print_table("Real-time events", rows, ("measure", "value", "target", ""))
