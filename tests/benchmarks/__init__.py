"""Benchmarks: one `bench_<area>.py` per area, run by `python -m tests.benchmarks.run`."""
