"""`make cluster` as an operator meets it: the scale-out topology up on loopback and healthy through haproxy, a Redis
master SIGKILLed and the cluster healthy again without a restart, Ctrl-C leaves nothing and no traceback."""

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from graph.processes import free_port
from profiles.config import PROJECT_ROOT
from tests.e2e.test_run_command import descendants, get
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def status_of(url: str) -> int:
    """The status only: while every instance is out, haproxy answers 503 itself, with a page of its own."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def test_the_cluster_command_runs_the_topology_survives_a_dead_redis_master_and_stops_clean(tmp_path: Path):
    web, data, sentinels = [free_port(), free_port()], [free_port(), free_port()], [free_port() for _ in range(3)]
    public = free_port()
    environ = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LIFECYCLE_VAR": str(tmp_path / "var"),
        "WEB_WORKERS": "1", "LOCAL_NEO4J_HEAP": "256m", "LOCAL_NEO4J_PAGECACHE": "64m", "PORT": str(public),
        "LOCAL_NEO4J_PORT": str(free_port()), "LOCAL_SMS_SANDBOX_PORT": str(free_port()), "SMTP_PORT": str(free_port()),
        "CLUSTER_WEB_PORTS": ",".join(map(str, web)), "CLUSTER_REDIS_PORTS": ",".join(map(str, data)),
        "CLUSTER_SENTINEL_PORTS": ",".join(map(str, sentinels)),
    }
    log_path = tmp_path / "cluster.log"
    with log_path.open("ab") as log:
        cluster = subprocess.Popen([sys.executable, "-m", "web.cluster"], cwd=PROJECT_ROOT, env=environ, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "Lifecycle cluster is up" in log_path.read_text() or cluster.poll() is not None, 240,
                   "the banner")
        text = log_path.read_text()
        assert cluster.poll() is None, text[-3000:]
        for port in (public, *web, *sentinels):
            assert f"127.0.0.1:{port}" in text  # the banner says what runs where
        base = f"http://127.0.0.1:{public}"
        status, body, _ = get(f"{base}/healthz")
        assert status == 200 and body["redis"] == "ok" and body["neo4j"] == "ok", body

        with redis.Redis(port=sentinels[0]) as sentinel:
            master = int(sentinel.sentinel_get_master_addr_by_name("lifecycle")[1])
        assert master == data[0]
        holder = next(pid for pid in descendants(cluster.pid)
                      if f":{master}" in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        os.kill(holder, signal.SIGKILL)

        def promoted() -> bool:
            with redis.Redis(port=sentinels[1]) as sentinel:
                return int(sentinel.sentinel_get_master_addr_by_name("lifecycle")[1]) == data[1]

        wait_until(promoted, 60, "the sentinels to promote the replica")
        wait_until(lambda: status_of(f"{base}/healthz") == 200, 30, "healthy again through haproxy")
        assert "child died" not in log_path.read_text()  # the sentinels handled it, not a restart
    finally:
        children = descendants(cluster.pid)
        if cluster.poll() is None:
            os.killpg(cluster.pid, signal.SIGINT)
        status = cluster.wait(timeout=120)
    text = log_path.read_text()
    assert status == 0 and "all stopped" in text, text[-3000:]
    assert "Traceback" not in text, text[text.index("Traceback") - 500:][:3000]
    left = [pid for pid in children if Path(f"/proc/{pid}").exists()
            and "zombie" not in Path(f"/proc/{pid}/status").read_text()]
    assert left == [], left
