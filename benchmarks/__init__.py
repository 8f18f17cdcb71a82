"""Benchmarks that measure and report; run them as modules, e.g. `python -m benchmarks.train_speed`."""
