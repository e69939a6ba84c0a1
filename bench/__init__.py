"""Reproducible benchmarks (docs/BENCHMARKS.md)."""
