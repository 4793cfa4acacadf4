"""`python -m benchmarks [api] [scan] [events] [round] [browser] [--backend sqlite|postgresql|both]
[--jobs N] ...`"""

from __future__ import annotations

import argparse

from benchmarks import api, browser, events, scan, scan_round


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    suites = ["api", "scan", "events", "round", "browser"]
    parser.add_argument("suite", nargs="*", default=suites, choices=suites)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=2_000)
    parser.add_argument("--listings", type=int, default=20_000, help="listings per scan (scan)")
    parser.add_argument("--naive", type=int, default=2_000, help="listings, naive insert (scan)")
    parser.add_argument("--clients", type=int, default=200, help="WebSocket clients (events)")
    parser.add_argument(
        "--new-jobs", type=int, default=500, help="new listings in the scan (events)"
    )
    parser.add_argument(
        "--scan-concurrency",
        type=int,
        default=None,
        help="scans run at once (round; default: the SCAN_CONCURRENCY setting)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds, median (round)")
    parser.add_argument(
        "--scans", type=int, default=5, help="scans measured after a warm-up one (browser)"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "api" in args.suite:
        api.run(backends, args.jobs, args.applications)
    if "scan" in args.suite:
        scan.run(backends, args.listings, args.jobs, args.naive)
    if "events" in args.suite:
        events.run(args.clients, args.new_jobs)
    if "round" in args.suite:
        scan_round.run(backends, args.scan_concurrency, args.repeats)
    if "browser" in args.suite:
        browser.run(args.scans)


if __name__ == "__main__":
    main()
