"""Benchmarks: `make bench` (or `python -m benchmarks`) prints measured figures next to targets."""
