"""`python -m benchmarks [api] [--backend sqlite|postgresql|both] [--jobs N]`"""

from __future__ import annotations

import argparse

from benchmarks import api


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", nargs="*", default=["api"], choices=["api"])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=2_000)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "api" in args.suite:
        api.run(backends, args.jobs, args.applications)


if __name__ == "__main__":
    main()
