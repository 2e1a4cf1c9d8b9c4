"""Benchmarks of lewie (not timed tests): run them as scripts, e.g. `python benchmarks/solve_throughput.py`."""
