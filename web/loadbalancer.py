"""A local haproxy in front of N web instances: writes its configuration, runs Debian's haproxy, stops it, reads its
view of the backends. Process management only (no Flask); the caller chooses every port.

What the configuration promises the app (PROXY_HOPS=1 behind it): X-Forwarded-For gets the client's address appended
(`option forwardfor`), and X-Forwarded-Proto, -Host and -Port are overwritten, never passed on from the client, so
ProxyFix believes only what this proxy wrote. A dead instance is taken out by the health check within about 1.5 s;
until then a refused connection is retried on the other instance (`retries`, `option redispatch 1`), and so is a GET
whose instance died before answering. Other methods are not retried once sent: the instance may have acted on them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graph.processes import PrerequisiteMissing, ServerFailed, port_is_open, spawn, terminate

# Debian installs haproxy in /usr/sbin, which an unprivileged user's PATH often lacks.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")

CONFIG = """\
# Written by web/loadbalancer.py; rewritten at every start.
global
    # No `log` line: request lines carry query values (ID numbers), and gunicorn's access log already masks them.
    # In the foreground haproxy still writes its warnings (a server going down or up) to stderr, the log file.
    maxconn {maxconn}
    stats socket {socket} mode 600 level user

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 10s
    timeout check 2s

frontend web
    bind {host}:{port}
    option forwardfor
    http-request set-header X-Forwarded-Proto https if {{ ssl_fc }}
    http-request set-header X-Forwarded-Proto http unless {{ ssl_fc }}
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Port %[dst_port]
    http-request del-header X-Forwarded-Prefix
    default_backend web

backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost hdr User-Agent lifecycle-lb-check
    http-check expect status 200
    retries {retries}
    option redispatch 1
    retry-on conn-failure empty-response
    http-request disable-l7-retry unless METH_GET
    default-server inter {inter_ms}ms fastinter {inter_ms}ms downinter {inter_ms}ms fall 3 rise 2
{servers}
"""


def find_haproxy(path: str) -> str:
    """`haproxy` from PATH or the sbin folders; PrerequisiteMissing if it is not installed."""
    found = shutil.which("haproxy", path=os.pathsep.join([path, *SBIN_DIRS]))
    if found:
        return found
    raise PrerequisiteMissing("The load balancer needs haproxy: install it (on Debian: apt-get install haproxy).")


@dataclass
class LocalLoadBalancer:
    """haproxy on `host`:`port` spreading requests round-robin over `backends` ((host, port) of each web instance),
    with its configuration, log and stats socket in `directory`."""

    directory: Path
    port: int
    backends: Sequence[tuple[str, int]]
    host: str = "127.0.0.1"
    retries: int = 3
    # `fall 3`: a dead instance (its port refuses at once) is out after three checks, about 1.5 s; a hung one after
    # three check timeouts. A busy one must not be: its checks wait behind its requests (sync workers).
    check_interval_ms: int = 500
    maxconn: int = 2000
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    process: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.directory / "haproxy.cfg"

    @property
    def log_file(self) -> Path:
        return self.directory / "haproxy.log"

    @property
    def stats_socket(self) -> Path:
        return self.directory / "haproxy.sock"

    def server_names(self) -> list[str]:
        return [f"web{n}" for n in range(1, len(self.backends) + 1)]

    def config(self) -> str:
        servers = "\n".join(f"    server {name} {host}:{port} check"
                            for name, (host, port) in zip(self.server_names(), self.backends, strict=True))
        return CONFIG.format(host=self.host, port=self.port, socket=self.stats_socket, maxconn=self.maxconn,
                             retries=self.retries, inter_ms=self.check_interval_ms, servers=servers)

    def write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.config())
        return self.config_file

    def start(self, timeout: float = 10.0) -> str:
        """Write the configuration, check it with `haproxy -c`, run haproxy in the foreground; returns its URL once
        it listens. The backends need not be up yet: haproxy's health checks bring each one in when it answers."""
        if self.alive():
            return self.url
        if not self.backends:
            raise ValueError("the load balancer needs at least one backend")
        binary = find_haproxy(self.environ.get("PATH", ""))
        if port_is_open(self.host, self.port):
            raise ServerFailed(f"Port {self.port} is already in use, so haproxy cannot listen there: stop whatever "
                               "holds it or choose another port.")
        self.write_config()
        self.stats_socket.unlink(missing_ok=True)
        checked = subprocess.run([binary, "-c", "-q", "-f", str(self.config_file)], capture_output=True, text=True,
                                 env=self.environ, check=False)
        if checked.returncode != 0:
            raise ServerFailed(f"haproxy refused {self.config_file}: {(checked.stdout + checked.stderr).strip()}")
        self.process = spawn([binary, "-db", "-f", str(self.config_file)], self.log_file, self.environ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                raise ServerFailed(f"haproxy exited with status {code} (see {self.log_file})")
            if port_is_open(self.host, self.port) and self.stats_socket.exists():
                return self.url
            time.sleep(0.05)
        self.stop()
        raise ServerFailed(f"haproxy did not listen on {self.host}:{self.port} within {timeout:.0f} s "
                           f"(see {self.log_file})")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM stops haproxy at once (open requests are cut: the instances behind it go on serving others)."""
        if self.process is not None:
            terminate(self.process, timeout)
            self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def server_states(self) -> dict[str, str]:
        """haproxy's view of each backend: {"web1": "UP", "web2": "DOWN", ...} ("UP 1/2" while it comes up)."""
        return {row["svname"]: row["status"] for row in self.stats() if row["svname"] in self.server_names()}

    def stats(self) -> list[dict[str, str]]:
        """`show stat` on the stats socket: one dict per frontend, backend and server, keyed by haproxy's CSV
        column names (svname, status, stot: requests sent to it, ...)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(str(self.stats_socket))
            s.sendall(b"show stat\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        lines = b"".join(chunks).decode().strip().splitlines()
        header = lines[0].lstrip("# ").split(",")
        return [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
