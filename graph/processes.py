"""Child processes of the local servers: start them tied to our lifetime, stop them cleanly, probe their ports."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class PrerequisiteMissing(RuntimeError):
    """A program the local servers need is not installed; the message says what to install."""


class ServerFailed(RuntimeError):
    """A local server could not be built, started or reached; the message says why and where the log is."""


def _die_with_parent(death_signal: int = signal.SIGTERM) -> Callable[[], None]:
    def tie() -> None:  # pragma: no cover - runs in the child between fork and exec
        # If the process that started us is killed (even with SIGKILL), the kernel signals us: no orphans.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
    return tie


def spawn(cmd: list[str], log_file: Path | None, environ: dict[str, str], cwd: Path | None = None,
          death_signal: int = signal.SIGTERM) -> subprocess.Popen:
    """Start `cmd` tied to our lifetime, in its own process group (so Ctrl-C reaches only the supervisor, which
    stops children in order). Output is appended to `log_file`, or shared with ours when it is None.

    `death_signal` is what the child gets if we die without stopping it: SIGTERM lets a server shut down cleanly;
    an RQ worker would first finish its job (which may wait 30 s on a Neo4j that died with us), so it gets SIGKILL
    (its jobs are safe to run again, and the sweeper finds what it left)."""
    log = open(log_file, "ab") if log_file is not None else None  # noqa: SIM115 - the child keeps its own copy
    try:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT if log is not None else None,
            env=environ,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent(death_signal) if sys.platform.startswith("linux") else None,
        )
    finally:
        if log is not None:
            log.close()


def terminate(process: subprocess.Popen, timeout: float) -> int:
    """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    """A port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
