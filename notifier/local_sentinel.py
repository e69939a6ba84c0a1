"""Local Redis Sentinels (Debian's `redis-sentinel`) watching a local master: one process per sentinel, its config
file generated in a given directory, ports chosen by the caller. The test topology and the cluster command compose
them with `notifier.local.LocalRedis` (a master, its replicas)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from graph.processes import PrerequisiteMissing, ServerFailed, port_is_open, spawn, terminate
from notifier.local import LocalRedis, TlsFiles, await_ping


def find_redis_sentinel(path: str) -> str:
    found = shutil.which("redis-sentinel", path=path)
    if found:
        return found
    raise PrerequisiteMissing(
        "Redis Sentinel is not installed: on Debian, apt-get install redis-sentinel (it provides `redis-sentinel`)."
    )


@dataclass
class LocalSentinel:
    """One sentinel on 127.0.0.1:`port` monitoring `master_name` at 127.0.0.1:`master_port`.

    It calls the master down after `down_after_ms` without an answer and agrees with `quorum` peers; `auth_pass` is
    the data nodes' password, `password` the one this sentinel asks of its clients and peers (REDIS_SENTINEL_PASSWORD).
    Sentinel rewrites its config file as it learns the topology, so it lives in `directory`, one per sentinel."""

    directory: Path
    port: int
    master_port: int
    master_name: str = "lifecycle"
    quorum: int = 2
    down_after_ms: int = 1000
    failover_timeout_ms: int = 3000
    auth_pass: str = ""
    password: str = ""
    tls: TlsFiles | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def config_file(self) -> Path:
        return self.directory / "sentinel.conf"

    @property
    def log_file(self) -> Path:
        return self.directory / "sentinel.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def config(self) -> str:
        m = self.master_name
        lines = ["bind 127.0.0.1", "protected-mode no", "daemonize no", f"dir {self.directory}",
                 f"sentinel monitor {m} 127.0.0.1 {self.master_port} {self.quorum}",
                 f"sentinel down-after-milliseconds {m} {self.down_after_ms}",
                 f"sentinel failover-timeout {m} {self.failover_timeout_ms}",
                 f"sentinel parallel-syncs {m} 1"]
        lines += ["port 0", f"tls-port {self.port}"] if self.tls else [f"port {self.port}"]
        if self.tls:
            args = self.tls.server_args()
            lines += [f"{name.removeprefix('--')} {value}" for name, value in zip(args[::2], args[1::2], strict=True)]
        if self.auth_pass:
            lines.append(f"sentinel auth-pass {m} {self.auth_pass}")
        if self.password:
            # Sentinels authenticate to each other with the password they ask of clients.
            lines += [f"requirepass {self.password}", f"sentinel sentinel-pass {self.password}"]
        return "\n".join(lines) + "\n"

    def client(self, **kwargs) -> redis.Redis:
        tls = self.tls.client_kwargs() if self.tls else {}
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password or None, **tls, **kwargs)

    def start(self, timeout: float = 15.0) -> None:
        if self.alive:
            return
        binary = find_redis_sentinel(self.environ.get("PATH", ""))
        if port_is_open("127.0.0.1", self.port):
            raise ServerFailed(f"Port {self.port} is already in use, so a sentinel cannot listen there.")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.config())
        self.process = spawn([binary, str(self.config_file)], self.log_file, self.environ)
        try:
            await_ping(self.process, self.client(socket_connect_timeout=0.5, socket_timeout=0.5), timeout,
                       "A sentinel", self.log_file)
        except ServerFailed:
            self.stop()
            raise

    def master_state(self) -> dict:
        """What this sentinel knows of the master: address, flags, how many replicas and other sentinels."""
        with self.client(socket_timeout=1.0) as c:
            return c.sentinel_master(self.master_name)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None:
            terminate(self.process, timeout)
            self.process = None


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            pass  # not up yet, or mid-failover
        if time.monotonic() > deadline:
            raise ServerFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def wait_replicating(replica: LocalRedis, timeout: float = 30.0) -> None:
    """Until the replica has its first full copy and follows the master's stream."""
    def linked() -> bool:
        with replica.client(socket_timeout=1.0) as c:
            return c.info("replication").get("master_link_status") == "up"
    wait_until(linked, timeout, f"the replica on port {replica.port} to sync")


def wait_monitoring(sentinels: list[LocalSentinel], replicas: int, timeout: float = 30.0) -> None:
    """Until every sentinel sees the master up, its `replicas` and all the other sentinels: before that a failover
    could not be agreed on (sentinels find replicas through the master's INFO, and each other through its hello
    channel, every 2 s)."""
    def known() -> bool:
        states = [s.master_state() for s in sentinels]
        return all(int(st["num-slaves"]) >= replicas and int(st["num-other-sentinels"]) >= len(sentinels) - 1
                   and st["is_master"] and not st["is_sdown"] for st in states)
    wait_until(known, timeout, f"{len(sentinels)} sentinels to see each other and {replicas} replica(s)")


def wait_failover(sentinels: list[LocalSentinel], old_port: int, timeout: float = 60.0) -> int:
    """Until every live sentinel names a master other than the one on `old_port`; returns the new master's port."""
    def moved() -> bool:
        ports = {int(s.master_state()["port"]) for s in sentinels if s.alive}
        return len(ports) == 1 and old_port not in ports
    wait_until(moved, timeout, f"the sentinels to elect a master other than port {old_port}")
    return int(next(s for s in sentinels if s.alive).master_state()["port"])


@dataclass
class SentinelGroup:
    """A master, its replicas and the sentinels watching them, all on loopback with files under `directory`:
    `ports` gives the data nodes' ports (the first is the master) and `sentinel_ports` the sentinels'."""

    directory: Path
    ports: list[int]
    sentinel_ports: list[int]
    master_name: str = "lifecycle"
    password: str = ""
    sentinel_password: str = ""
    tls: TlsFiles | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    nodes: list[LocalRedis] = field(default_factory=list, init=False)
    sentinels: list[LocalSentinel] = field(default_factory=list, init=False)

    def start(self) -> None:
        master, *replicas = self.ports
        self.nodes = [LocalRedis(self.directory / f"redis-{port}", port, persistent=False, environ=self.environ,
                                 replica_of=None if port == master else master, password=self.password,
                                 tls=self.tls) for port in self.ports]
        self.sentinels = [LocalSentinel(self.directory / f"sentinel-{port}", port, master, self.master_name,
                                        quorum=len(self.sentinel_ports) // 2 + 1, auth_pass=self.password,
                                        password=self.sentinel_password, tls=self.tls, environ=self.environ)
                          for port in self.sentinel_ports]
        try:
            for node in self.nodes:
                node.start()
            for replica in self.nodes[1:]:
                wait_replicating(replica)
            for sentinel in self.sentinels:
                sentinel.start()
            wait_monitoring(self.sentinels, len(replicas))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in (*self.sentinels, *self.nodes):
            process.stop()

    def node(self, port: int) -> LocalRedis:
        return next(n for n in self.nodes if n.port == port)

    def master_port(self) -> int:
        """The master's port as the live sentinels name it."""
        return int(next(s for s in self.sentinels if s.alive).master_state()["port"])

    def settings_environ(self) -> dict[str, str]:
        """The variables that point the app, the workers and the scheduler at this group."""
        environ = {"REDIS_SENTINELS": ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports),
                   "REDIS_SENTINEL_MASTER": self.master_name, "REDIS_PASSWORD": self.password,
                   "REDIS_SENTINEL_PASSWORD": self.sentinel_password}
        if self.tls:
            environ.update(REDIS_TLS="true", REDIS_TLS_CA_FILE=str(self.tls.ca))
        return environ
