"""`python -m benchmarks [api] [scan] [events] [--backend sqlite|postgresql|both] [--jobs N] ...`"""

from __future__ import annotations

import argparse

from benchmarks import api, events, scan


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    suites = ["api", "scan", "events"]
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
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "api" in args.suite:
        api.run(backends, args.jobs, args.applications)
    if "scan" in args.suite:
        scan.run(backends, args.listings, args.jobs, args.naive)
    if "events" in args.suite:
        events.run(args.clients, args.new_jobs)


if __name__ == "__main__":
    main()
