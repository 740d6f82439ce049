"""Benchmarks: they print figures; targets are in each module docstring."""
