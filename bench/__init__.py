"""Reproducible benchmarks (docs/BENCHMARKS.md); `say` is their progress line."""

import time

_STARTED = time.monotonic()


def say(message: str) -> None:
    """Print a progress line stamped with the minutes:seconds since the benchmark began, so a long run (or a CI
    smoke run that timed out) shows where its time went."""
    minutes, seconds = divmod(int(time.monotonic() - _STARTED), 60)
    print(f"[{minutes:3d}:{seconds:02d}] {message}", flush=True)
