"""Stages 4–5, solve and verify: drawing parameters, the one engine of every run, chunks of draws, Dask batches,
the staged `Simulation`, verification of solutions and run-time estimates.
"""
