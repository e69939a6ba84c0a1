"""The baseline job for RQ's own cost per job: it does nothing (importable by name from a worker)."""


def noop() -> None:
    return None
