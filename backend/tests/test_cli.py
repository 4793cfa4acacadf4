"""The `hunter` data commands, run as a person runs them: a real process on a real database."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support import TMP


def hunter(*args: str, database: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HUNTER_ENV_FILE": "",
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def database() -> Path:
    path = TMP / f"cli-{uuid.uuid4().hex[:8]}.db"
    hunter("migrate", database=path)
    return path


def _document() -> dict[str, object]:
    board_id, job_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = "2026-11-01T12:00:00+00:00"
    return {
        "format": "hunter-export",
        "version": 1,
        "exported_at": stamp,
        "profile": None,
        "boards": [
            {
                "id": board_id,
                "name": "Acme careers",
                "url": "https://boards.greenhouse.io/acme",
                "enabled": True,
                "scan_interval_minutes": 60,
                "keyword_filters": [],
                "scraper_config": {"scraper_type": "greenhouse"},
                "last_scanned_at": None,
                "last_scan_status": "never",
                "last_scan_error": None,
                "jobs_found_last_scan": 0,
                "consecutive_failures": 0,
                "created_at": stamp,
                "updated_at": stamp,
            }
        ],
        "jobs": [
            {
                "id": job_id,
                "board_id": board_id,
                "title": "Staff Rust Engineer",
                "company": "Acme",
                "location": "Remote",
                "url": "https://boards.greenhouse.io/acme/jobs/1",
                "description": "Rust and distributed systems.",
                "dedup_hash": "a" * 64,
                "match_score": 88.0,
                "created_at": stamp,
                "updated_at": stamp,
                "first_seen_at": stamp,
                "last_seen_at": stamp,
            }
        ],
        "applications": [],
    }


def test_import_then_list_and_export(database: Path) -> None:
    source = TMP / f"import-{uuid.uuid4().hex[:8]}.json"
    document = _document()
    source.write_text(json.dumps(document))
    imported = hunter("import", str(source), database=database)
    assert "boards: 1" in imported.stdout

    boards = hunter("boards", database=database)
    assert "Acme careers" in boards.stdout
    assert "greenhouse" in boards.stdout

    jobs = hunter("jobs", "--search", "rust", database=database)
    assert "Staff Rust Engineer" in jobs.stdout
    assert "1 matching listings" in jobs.stdout

    exported = json.loads(hunter("export", database=database).stdout)
    assert [b["name"] for b in exported["boards"]] == ["Acme careers"]
    assert [j["title"] for j in exported["jobs"]] == ["Staff Rust Engineer"]


def test_import_of_a_broken_file_writes_nothing(database: Path) -> None:
    source = TMP / f"broken-{uuid.uuid4().hex[:8]}.json"
    source.write_text('{"format": "something else"}')
    result = hunter("import", str(source), database=database, check=False)
    assert result.returncode == 1
    assert "Nothing was imported" in result.stderr
    assert "Acme" not in hunter("boards", database=database).stdout


ARENA_COUNT = """
import ctypes, sys, threading
from app.cli import limit_malloc_arenas
if sys.argv[1] == "serve":
    limit_malloc_arenas()
together = threading.Barrier(6)
def allocate():
    held = [bytearray(4096) for _ in range(100)]  # malloc'd, in this thread's arena
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas_after_six_threads(mode: str, **env: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", ARENA_COUNT, mode],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HUNTER_ENV_FILE": "", **env},
        check=True,
    )
    return sum(line.startswith("Arena ") for line in result.stderr.splitlines())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_the_server_keeps_two_malloc_arenas_however_many_threads_allocate() -> None:
    assert _arenas_after_six_threads("plain") > 2
    assert _arenas_after_six_threads("serve") == 2
    # A person who set glibc's own variable gets what they asked for.
    assert _arenas_after_six_threads("serve", MALLOC_ARENA_MAX="4") == 4
