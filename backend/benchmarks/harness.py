"""Shared benchmark plumbing: scratch databases, seeding, a served Hunter, timing and reports."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from app.models import Job, JobScore

BACKEND_DIR = Path(__file__).resolve().parent.parent
WORK_DIR = BACKEND_DIR / ".bench"
PG_SERVER_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Timing:
    median_ms: float
    p95_ms: float

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered) * 1000, p95 * 1000)


def scratch_database_url(backend: str, name: str) -> str:
    """A fresh, empty database for one benchmark run."""
    if backend == "sqlite":
        WORK_DIR.mkdir(exist_ok=True)
        path = WORK_DIR / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    import asyncpg

    async def recreate() -> None:
        connection = await asyncpg.connect(PG_SERVER_URL.replace("+asyncpg", ""))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(recreate())
    return f"{PG_SERVER_URL.rpartition('/')[0]}/{name}"


async def insert_rows(
    connection: Any, model: type[Any], rows: Iterable[dict[str, Any]], batch: int = 1000
) -> int:
    count = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            await connection.execute(insert(model), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        await connection.execute(insert(model), chunk)
        count += len(chunk)
    return count


JOBS = Job.metadata.tables["jobs"]
SCORES = JobScore.metadata.tables["job_scores"]
SCORE_FIELDS = ("match_score", "match_details")


async def insert_jobs(connection: Any, rows: Iterable[dict[str, Any]], batch: int = 1000) -> int:
    """Insert generated jobs (data.jobs rows, scores included) into jobs and job_scores."""

    def split(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for row in rows:
            job = {name: value for name, value in row.items() if name not in SCORE_FIELDS}
            visible = not row.get("is_hidden") and row.get("closed_at") is None
            score = {"job_id": row["id"], "visible": visible}
            score.update((name, row[name]) for name in SCORE_FIELDS)
            yield job, score

    count = 0
    pairs = list[tuple[dict[str, Any], dict[str, Any]]]()
    for pair in split(rows):
        pairs.append(pair)
        if len(pairs) == batch:
            count += await _insert_pairs(connection, pairs)
            pairs = []
    if pairs:
        count += await _insert_pairs(connection, pairs)
    return count


async def _insert_pairs(connection: Any, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> int:
    await connection.execute(insert(JOBS), [job_row for job_row, _ in pairs])
    await connection.execute(insert(SCORES), [score_row for _, score_row in pairs])
    return len(pairs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_hunter(database_url: str, **env: str) -> Iterator[tuple[str, int]]:
    """Run `hunter serve` in a child process; yield its base URL and pid."""
    port = free_port()
    child_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HUNTER_ENV_FILE": "",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(WORK_DIR / "data"),
    }
    child_env.pop("REDIS_URL", None)  # embedded, unless `env` asks for Redis
    child_env.update(env)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=BACKEND_DIR,
        env=child_env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hunter serve did not start")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def time_requests(client: httpx.Client, path: str, runs: int = 200, warmup: int = 20) -> Timing:
    """Sequential requests after a warm-up; every answer must be a 200."""
    for _ in range(warmup):
        client.get(path).raise_for_status()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return Timing.of(samples)


async def time_async(call: Callable[[], Awaitable[Any]], runs: int = 50, warmup: int = 5) -> Timing:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return Timing.of(samples)


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def print_table(title: str, rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
