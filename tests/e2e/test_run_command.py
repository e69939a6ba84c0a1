"""The run command's supervisor as a user meets it: up, healthy, survives a killed Neo4j or worker, Ctrl-C leaves
nothing."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import neo4j
import pytest
import redis
from rq import Worker

from graph.processes import free_port
from notifier.services import build
from profiles.config import PROJECT_ROOT, Settings, dev_secrets
from tests.waiting import wait_until


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, float]:
    """A real HTTP GET; header values go on the wire as UTF-8, as curl and browsers send them."""
    started = time.monotonic()
    request = urllib.request.Request(url)
    for name, value in (headers or {}).items():
        request.add_header(name, value.encode().decode("latin-1"))
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.load(r), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, json.load(e), time.monotonic() - started


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def processes_mentioning(text: str) -> list[str]:
    hits = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                env = (entry / "environ").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in cmdline or text in env:
                hits.append(f"{entry.name}: {cmdline[:120]}")
    return hits


def unlisted_id_number(stack, banner: str) -> str:
    """The ID number of a demo person the banner does not list (the banner's demo logins are the one place a full
    number is printed, on purpose, for a developer to sign in with)."""
    secrets = dev_secrets(stack.var_dir)
    settings = Settings.from_env({**secrets, "LIFECYCLE_ENV": "development", "LIFECYCLE_VAR": str(stack.var_dir),
                                  "NEO4J_URI": f"bolt://127.0.0.1:{stack.ports['LOCAL_NEO4J_PORT']}",
                                  "REDIS_URL": f"redis://127.0.0.1:{stack.ports['LOCAL_REDIS_PORT']}/0"})
    services = build(settings)
    try:
        pids = [r["pid"] for r in services.driver.execute_query("MATCH (p:Person) RETURN p.pid AS pid LIMIT 50")[0]]
        number = next(n for n in (services.subjects.get_person(pid).id_number for pid in pids) if n not in banner)
    finally:
        services.close()
    return number


def worker_processes(root: int) -> list[int]:
    """The stack's worker processes (a worker's forked RQ scheduler shares its command line: it is left out)."""
    tree = descendants(root)
    found = []
    for pid in tree:
        try:
            if b"notifier.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return [pid for pid in found if parent_of(pid) not in found]


def schedulers(root: int) -> list[int]:
    workers = worker_processes(root)
    return [pid for pid in descendants(root) if parent_of(pid) in workers]


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return None


class Stack:
    def __init__(self, var_dir: Path, log: Path):
        self.var_dir, self.log_path = var_dir, log
        self.ports = {"LOCAL_NEO4J_PORT": free_port(), "LOCAL_REDIS_PORT": free_port(), "PORT": free_port(),
                      "LOCAL_SMS_SANDBOX_PORT": free_port(), "SMTP_PORT": free_port()}
        self.base = f"http://127.0.0.1:{self.ports['PORT']}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        environ = {
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LIFECYCLE_VAR": str(self.var_dir),
            "WEB_WORKERS": "1", "WORKERS": "2", "LOCAL_NEO4J_HEAP": "256m", "LOCAL_NEO4J_PAGECACHE": "64m",
            **{k: str(v) for k, v in self.ports.items()},
        }
        banners = self._banners()
        log = open(self.log_path, "ab")  # noqa: SIM115
        # Its own process group, as a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
        self.process = subprocess.Popen([sys.executable, "-m", "web.stack"], cwd=PROJECT_ROOT, env=environ,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_until(lambda: self._banners() > banners or self.process.poll() is not None, 180, "the banner")
        assert self.process.poll() is None, self.log_path.read_text()[-3000:]

    def _banners(self) -> int:
        return self.log_path.read_text().count("Lifecycle service is up") if self.log_path.exists() else 0

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path / "var", tmp_path / "stack.log")
    yield s
    if s.process is not None and s.process.poll() is None:
        os.killpg(s.process.pid, signal.SIGKILL)


def test_run_command_lifecycle(stack):
    stack.start()
    banner = stack.log_path.read_text()
    assert f"web      {stack.base}/" in banner and f"health   {stack.base}/healthz" in banner
    status, body, _took = get(f"{stack.base}/healthz")
    assert status == 200 and (body["neo4j"], body["redis"]) == ("ok", "ok")
    assert body["calendar"] == "ok" or body["calendar"].startswith("no official holiday arrangement")  # a warning
    bolt = f"bolt://127.0.0.1:{stack.ports['LOCAL_NEO4J_PORT']}"
    with neo4j.GraphDatabase.driver(bolt) as driver:
        driver.execute_query("CREATE (:Marker {kept: 'across restarts'})")
    assert (stack.var_dir / "dev-secrets.env").stat().st_mode & 0o777 == 0o600

    # The banner's demo logins work over real HTTP, and a purpose typed in Chinese is logged as typed.
    key = re.search(r"officer API key  (lk_\S+)", banner).group(1)
    pid = re.search(r"citizen .* pid (\S+)", banner).group(1)
    auth = {"Authorization": f"Bearer {key}"}
    assert get(f"{stack.base}/api/v1/persons/{pid}", {**auth, "X-Purpose": "换领身份证 window 3"})[0] == 200
    status, log, _ = get(f"{stack.base}/api/v1/persons/{pid}/access-log", {**auth, "X-Purpose": "本人查询"})
    assert status == 200 and [e["purpose"] for e in log] == ["本人查询", "换领身份证 window 3"]

    # Logs carry masked values only: a lookup by a full ID number (in the query string, and in the Referer too)
    # leaves no trace of the number in what the run command writes, nor anywhere else under var/.
    number = unlisted_id_number(stack, banner)
    lookup = f"{stack.base}/api/v1/persons?id_number={number}"
    assert get(lookup, {**auth, "X-Purpose": "核验身份", "Referer": lookup})[0] == 200
    wait_until(lambda: "GET /api/v1/persons?id_number=*** " in stack.log_path.read_text(), 10, "the access log line")
    written = [p for p in stack.var_dir.rglob("*") if p.is_file()] + [stack.log_path]
    assert len(written) > 20 and [str(p) for p in written if number.encode() in p.read_bytes()] == []

    # WORKERS=2: two worker processes under distinct RQ names, as the banner lists them. One SIGKILLed is restarted
    # alone, under a new name; the other keeps running, and RQ's scheduler still runs in exactly one of them.
    rq = redis.Redis(port=stack.ports["LOCAL_REDIS_PORT"])
    names = re.search(r"workers  (\S+), (\S+)  ", banner).groups()
    assert len(set(names)) == 2 and all(re.fullmatch(rf"lifecycle-.+-w{n}-\d+", name) for n, name in zip(
        "12", names, strict=True))
    assert {w.name for w in Worker.all(connection=rq)} == set(names)
    workers = worker_processes(stack.process.pid)
    assert sorted(workers) == sorted(int(name.rsplit("-", 1)[1]) for name in names)
    wait_until(lambda: len(schedulers(stack.process.pid)) == 1, 30, "RQ's scheduler in one of the workers")
    killed, kept = (int(name.rsplit("-", 1)[1]) for name in names[::-1])
    os.kill(killed, signal.SIGKILL)
    restarted = wait_until(lambda: [w.name for w in Worker.all(connection=rq)
                                    if "-w2-" in w.name and w.name != names[1]], 60, "worker 2 to be restarted")
    assert set(worker_processes(stack.process.pid)) == {kept, int(restarted[0].rsplit("-", 1)[1])}
    wait_until(lambda: len(schedulers(stack.process.pid)) == 1, 120, "one RQ scheduler among the workers")

    # Kill Neo4j outright: /healthz names it within 2 s, and the supervisor brings it back.
    java = next(pid for pid in descendants(stack.process.pid)
                if b"LocalNeo4j" in Path(f"/proc/{pid}/cmdline").read_bytes())
    os.kill(java, signal.SIGKILL)
    time.sleep(0.2)
    status, body, took = get(f"{stack.base}/healthz")
    assert status == 503 and body["neo4j"] == "down" and body["redis"] == "ok", body
    assert body["message"] == "neo4j is down"
    assert f"sms      http://127.0.0.1:{stack.ports['LOCAL_SMS_SANDBOX_PORT']}/sandbox/messages" in banner
    assert took < 2.0, f"/healthz took {took:.2f} s"
    wait_until(lambda: get(f"{stack.base}/healthz")[0] == 200, 90, "Neo4j to be restarted")

    # Ctrl-C: every process the stack started is gone.
    tree = descendants(stack.process.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in tree if Path(f"/proc/{pid}").exists()]
    for module in (b"notifier.worker", b"notifier.cron", b"notifier.sandbox", b"notifier.mailsink", b"gunicorn"):
        assert any(module in c for c in commands), f"{module.decode()} is not running"
    assert stack.ctrl_c() == 0
    time.sleep(0.5)
    assert [pid for pid in tree if Path(f"/proc/{pid}").exists()] == []
    assert processes_mentioning(str(stack.var_dir)) == []

    # A second start reuses var/: the data is there and no migration runs again.
    stack.start()
    with neo4j.GraphDatabase.driver(bolt) as driver:
        kept = driver.execute_query("MATCH (m:Marker) RETURN m.kept AS kept")[0]
    assert [r["kept"] for r in kept] == ["across restarts"]
    second_run = stack.log_path.read_text().rsplit("started                        [stack] child=redis", 1)[1]
    assert "applied='none (up to date)'" in second_run

    # Even a supervisor killed outright (no chance to stop anything) takes its children with it.
    tree = descendants(stack.process.pid)
    os.killpg(stack.process.pid, signal.SIGKILL)
    stack.process.wait()
    wait_until(lambda: not [pid for pid in tree if Path(f"/proc/{pid}").exists()], 30, "orphans to exit")
    assert processes_mentioning(str(stack.var_dir)) == []
