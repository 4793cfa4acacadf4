"""Fake career sites for the scraper benchmarks, served from a child process on 127.0.0.x.

One server listens on several loopback addresses (one per "company") on the same port, so boards
on different addresses are different hosts to Hunter's per-host cap. It answers:
- `/careers/<board>?page=N`: a server-rendered list of jobs, after `delay_s`;
- `/app/<board>?page=N`: a JavaScript app that renders page N from `/api/jobs/<board>?page=N`,
  and the next page in place when its `button.next` is clicked (disabled on the last page);
- `/_stats` (GET: the most requests each Host had in flight at once; POST: reset them).
Pages 1..`pages` hold `per_page` jobs each; later pages are empty, which ends a scan.
It runs in its own process so serving pages does not compete with the scans for this one's GIL.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn

from benchmarks.harness import free_port

APP_PAGE = """<!doctype html>
<html><head><title>Careers</title></head>
<body><h1>Open roles</h1><ul id="jobs"></ul><button class="next">Next</button>
<script>
  const list = document.getElementById("jobs");
  const next = document.querySelector("button.next");
  let page = Number(new URLSearchParams(location.search).get("page") || "1");
  async function show() {
    const data = await (await fetch("/api/jobs/BOARD?page=" + page)).json();
    list.replaceChildren(...data.jobs.map((job) => {
      const item = document.createElement("li");
      item.className = "job";
      item.innerHTML = `<a href="${job.url}">${job.title}</a>`
        + `<span class="loc">${job.location}</span>`;
      return item;
    }));
    next.disabled = page >= data.pages;
  }
  next.addEventListener("click", () => { page += 1; show(); });
  show();
</script></body></html>"""

# The selectors a board uses to read either kind of page.
SELECTORS = {"job_card": "li.job", "title": "a", "link": "a", "location": ".loc"}


@dataclass(frozen=True)
class Site:
    """What the child process serves."""

    addresses: tuple[str, ...]
    port: int
    delay_s: float
    pages: int
    per_page: int


class _App:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        host = next((v.decode() for k, v in scope["headers"] if k == b"host"), "")
        query = dict(parse_qsl(scope["query_string"].decode()))
        if path == "/_stats":
            if scope["method"] == "POST":
                self.max_in_flight.clear()
                self.requests = 0
            stats = {"max_in_flight": dict(self.max_in_flight), "requests": self.requests}
            await _send(send, 200, json.dumps(stats), "application/json")
            return
        self.requests += 1
        self.in_flight[host] += 1
        self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            await asyncio.sleep(self.site.delay_s)
            status, body, kind = self._answer(host, path, query.get("page", "1"))
        finally:
            self.in_flight[host] -= 1
        await _send(send, status, body, kind)

    def _answer(self, host: str, path: str, page_param: str) -> tuple[int, str, str]:
        parts = path.strip("/").split("/")
        section, board = parts[0], parts[-1]  # /careers/<board>, /app/<board>, /api/jobs/<board>
        page = int(page_param) if page_param.isdigit() else 1
        jobs = self._jobs(host, board, page)
        if section == "careers":
            items = "".join(
                f'<li class="job"><a href="{j["url"]}">{j["title"]}</a>'
                f'<span class="loc">{j["location"]}</span></li>'
                for j in jobs
            )
            return 200, f"<html><body><ul>{items}</ul></body></html>", "text/html"
        if section == "app":
            return 200, APP_PAGE.replace("BOARD", board), "text/html"
        if section == "api":
            jobs_json = {"jobs": jobs, "pages": self.site.pages}
            return 200, json.dumps(jobs_json), "application/json"
        return 404, "not found", "text/plain"

    def _jobs(self, host: str, board: str, page: int) -> list[dict[str, str]]:
        if not 1 <= page <= self.site.pages:
            return []
        return [
            {
                "title": f"Backend Engineer {page}-{n} ({board})",
                "url": f"http://{host}/jobs/{board}/{page}-{n}",
                "location": "Berlin, Germany",
            }
            for n in range(1, self.site.per_page + 1)
        ]


async def _send(send: Any, status: int, body: str, kind: str) -> None:
    payload = body.encode()
    headers = [(b"content-type", kind.encode()), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _serve(site: Site) -> None:
    sockets = []
    for address in site.addresses:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, site.port))
        sockets.append(sock)
    config = uvicorn.Config(_App(site), log_level="warning", lifespan="off", backlog=512)
    uvicorn.Server(config).run(sockets=sockets)


@dataclass
class Served:
    """A running fake: its hosts (`127.0.0.x:port`), one per company, and its counters."""

    hosts: list[str]

    def reset(self) -> None:
        httpx.post(f"http://{self.hosts[0]}/_stats", timeout=5).raise_for_status()

    def max_in_flight(self) -> dict[str, int]:
        """The most requests each host had in flight at once since the last reset."""
        stats = httpx.get(f"http://{self.hosts[0]}/_stats", timeout=5).json()
        return {host: int(count) for host, count in stats["max_in_flight"].items()}


@contextmanager
def career_sites(
    companies: int, *, delay_s: float = 0.0, pages: int = 5, per_page: int = 10
) -> Iterator[Served]:
    """Serve `companies` career sites, one per loopback address, from a child process."""
    port = free_port()
    addresses = tuple(f"127.0.0.{n}" for n in range(1, companies + 1))
    site = Site(addresses, port, delay_s, pages, per_page)
    child = multiprocessing.get_context("spawn").Process(target=_serve, args=(site,), daemon=True)
    child.start()
    served = Served([f"{address}:{port}" for address in addresses])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                served.reset()
                break
            except httpx.HTTPError:
                if not child.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the benchmark's career sites did not start") from None
                time.sleep(0.1)
        yield served
    finally:
        child.terminate()
        child.join(10)
