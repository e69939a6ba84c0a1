"""Polling with a deadline, for tests that wait on another process: never a fixed sleep."""

from __future__ import annotations

import time


def wait_until(predicate, timeout: float, what: str, every: float = 0.2):
    """The first truthy value of `predicate()`; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
