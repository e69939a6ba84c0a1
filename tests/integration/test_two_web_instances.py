"""Two gunicorn instances of the web app behind a real haproxy on loopback, on the session's Neo4j and Redis: a citizen
signs in through one instance and goes on through the other (sessions, CSRF tokens and login limits live in Redis), a
client cannot choose the address the limiter counts, status webhooks are checked against PUBLIC_URL, and one instance
SIGKILLed leaves the requests through haproxy answered by the other.

Each instance runs with PROXY_HOPS=1, as behind haproxy. A request sent straight to an instance's own port carries the
X-Forwarded-* headers haproxy would have sent for this client (127.0.0.1), which pins it to that instance.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from graph.processes import free_port, spawn, terminate
from profiles.config import PROJECT_ROOT
from tests.conftest import make_environ
from tests.integration.api_helpers import id_number
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import SID, TOKEN, last_code, make_person, send_codes
from tests.waiting import wait_until
from web.loadbalancer import LocalLoadBalancer

PHONE = "+8613712345001"
ADDRESS_LIMIT = 3  # LOGIN_LIMIT_ADDRESS per minute on both instances
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Instance:
    """One gunicorn serving wsgi:app, started as the run command starts it (web/stack.py), in its own process group."""

    name: str
    port: int
    directory: Path
    environ: dict[str, str]
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.directory / f"{self.name}.log"

    def start(self) -> None:
        self.spawn()
        self.wait_until_healthy()

    def spawn(self) -> None:
        argv = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
                "--graceful-timeout", "5", "--access-logfile", "-", "--logger-class", "web.access_log.AccessLog",
                "--control-socket", str(self.directory / f"{self.name}.ctl"), "wsgi:app"]
        self.process = spawn(argv, self.access_log, self.environ, cwd=PROJECT_ROOT)

    def wait_until_healthy(self) -> None:
        wait_until(lambda: self._healthy(), 90, f"{self.name} to answer /healthz")

    def _healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, f"{self.name} exited: see {self.access_log}"
        try:
            return requests.get(self.url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or its first answer is slow
            return False

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once, as when the machine under it dies."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 10)
            self.process = None

    def served(self, request_line: str) -> int:
        return self.access_log.read_text().count(request_line)


@dataclass
class Cluster:
    a: Instance
    b: Instance
    lb: LocalLoadBalancer

    def wait_until_both_up(self) -> None:
        wait_until(lambda: self.lb.server_states() == {"web1": "UP", "web2": "UP"}, 30, "haproxy to see both up")


@pytest.fixture(scope="module")
def cluster(live_environ, sandbox, tmp_path_factory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("cluster")
    lb_port, ports = free_port(), (free_port(), free_port())
    environ = make_environ(**{
        **live_environ, "TWILIO_API_BASE_URL": sandbox.url, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": "+8610690000", "PROXY_HOPS": "1", "PUBLIC_URL": f"http://127.0.0.1:{lb_port}",
        "LOGIN_LIMIT_ADDRESS": f"{ADDRESS_LIMIT} per minute", "LOGIN_LIMIT_ACCOUNT": "1000 per minute",
        "PYTHONUNBUFFERED": "1"})  # the access log is read while the instance runs
    a, b = (Instance(name, port, directory, environ) for name, port in zip(("web1", "web2"), ports, strict=True))
    lb = LocalLoadBalancer(directory / "haproxy", lb_port, [("127.0.0.1", a.port), ("127.0.0.1", b.port)],
                           environ=environ)
    try:
        a.spawn()  # both boot at once: the app's imports are most of an instance's start
        b.spawn()
        a.wait_until_healthy()
        b.wait_until_healthy()
        lb.start()
        found = Cluster(a, b, lb)
        found.wait_until_both_up()
        yield found
    finally:
        lb.stop()
        b.stop()
        a.stop()


@pytest.fixture(autouse=True)
def both_instances(cluster: Cluster) -> None:
    """Each test starts with both instances up (the kill test, last here, leaves one dead)."""
    if cluster.a.process is None:
        cluster.a.start()
    cluster.wait_until_both_up()


def via_proxy(cluster: Cluster) -> dict[str, str]:
    """The headers haproxy sends for a client on 127.0.0.1 (see web/loadbalancer.py)."""
    return {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": f"127.0.0.1:{cluster.lb.port}", "X-Forwarded-Port": str(cluster.lb.port)}


def token(browser: requests.Session, base: str, path: str = "/login", **kwargs) -> str:
    page = browser.get(base + path, allow_redirects=False, **kwargs)
    assert page.status_code == 200, (path, page.status_code)
    found = _TOKEN.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post(browser: requests.Session, url: str, data: dict, **kwargs) -> requests.Response:
    return browser.post(url, data=data, allow_redirects=False, **kwargs)


def sign_in(cluster: Cluster, app, sandbox, browser: requests.Session, id_no: str) -> None:
    """Through haproxy: ask for a code, let the worker send it, post it."""
    lb = cluster.lb.url
    assert post(browser, lb + "/login", {"csrf_token": token(browser, lb), "id_number": id_no}).status_code == 303
    send_codes(app)
    answer = post(browser, lb + "/login/code", {"csrf_token": token(browser, lb, "/login/code"),
                                                "code": last_code(sandbox, PHONE)})
    assert answer.status_code == 303 and answer.headers["Location"] == "/me"


def test_a_citizen_signs_in_through_one_instance_and_goes_on_through_the_other(cluster, app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    a, b, lb, pinned = cluster.a.url, cluster.b.url, cluster.lb.url, via_proxy(cluster)
    browser = requests.Session()  # cookies are per host, not per port: one cookie jar for A, B and haproxy

    issued_by_a = token(browser, a, headers=pinned)
    asked = post(browser, b + "/login", {"csrf_token": issued_by_a, "id_number": me.id_number}, headers=pinned)
    assert asked.status_code == 303 and asked.headers["Location"] == "/login/code"  # B took A's CSRF token
    send_codes(app)
    issued_by_b = token(browser, b, "/login/code", headers=pinned)
    signed_in = post(browser, a + "/login/code", {"csrf_token": issued_by_b, "code": last_code(sandbox, PHONE)},
                     headers=pinned)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/me"  # A took the sign-in B began

    for base in (b, a):  # the session A created is found by B, and A still finds it
        assert browser.get(base + "/me", allow_redirects=False, headers=pinned).status_code == 200
    served = {i.name: i.served("GET /me ") for i in (cluster.a, cluster.b)}
    answers = [browser.get(lb + "/me", allow_redirects=False).status_code for _ in range(6)]
    assert answers == [200] * 6
    assert all(i.served("GET /me ") > served[i.name] for i in (cluster.a, cluster.b))  # both instances answered

    out = post(browser, lb + "/logout", {"csrf_token": token(browser, lb, "/me")})
    assert out.status_code == 303
    for base in (a, b):  # signing out through either instance ends the session for both
        assert browser.get(base + "/me", allow_redirects=False, headers=pinned).status_code == 303


def test_the_login_limit_per_address_counts_through_both_instances(cluster):
    a, b = cluster.a.url, cluster.b.url

    def ask(base: str, address: str, seq: int) -> int:
        headers = {**via_proxy(cluster), "X-Forwarded-For": address}  # as haproxy sends it for that client
        browser = requests.Session()
        data = {"csrf_token": token(browser, base, headers=headers), "id_number": id_number(seq=seq)}
        return post(browser, base + "/login", data, headers=headers).status_code

    answers = [ask(base, "203.0.113.7", seq) for seq, base in zip(range(301, 306), (a, b, a, b, a), strict=True)]
    assert answers == [303] * ADDRESS_LIMIT + [429, 429]  # one count, whichever instance took each request
    assert ask(b, "203.0.113.8", 306) == 303  # another client's address has its own count


def test_a_client_cannot_choose_the_address_the_limiter_counts(cluster):
    lb = cluster.lb.url
    answers = []
    for n in range(ADDRESS_LIMIT + 1):  # each request claims another address; haproxy appends the real one
        spoofed = {"X-Forwarded-For": f"198.51.100.{n + 1}", "X-Real-IP": f"198.51.100.{n + 1}"}
        browser = requests.Session()
        data = {"csrf_token": token(browser, lb, headers=spoofed), "id_number": id_number(seq=310 + n)}
        answers.append(post(browser, lb + "/login", data, headers=spoofed).status_code)
    assert answers == [303] * ADDRESS_LIMIT + [429]
    # What was counted is the address haproxy saw (127.0.0.1), so this client is limited on either instance too.
    for instance in (cluster.a, cluster.b):
        browser = requests.Session()
        data = {"csrf_token": token(browser, instance.url, headers=via_proxy(cluster)), "id_number": id_number(seq=320)}
        assert post(browser, instance.url + "/login", data, headers=via_proxy(cluster)).status_code == 429


def test_a_status_webhook_through_the_proxy_is_checked_against_public_url(cluster):
    body = {"MessageSid": "SM" + "1" * 32, "AccountSid": SID, "MessageStatus": "delivered"}
    path = "/webhooks/twilio/status?nid=0123456789abcdef01"

    def sign(base: str) -> dict[str, str]:
        return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(base + path, body)}

    public = f"http://127.0.0.1:{cluster.lb.port}"  # PUBLIC_URL: what Twilio was given
    assert requests.post(cluster.lb.url + path, data=body, headers=sign(public)).status_code == 204
    for behind in (cluster.a.url, cluster.b.url):  # signed for an address behind the proxy: not what Twilio signs
        assert requests.post(cluster.lb.url + path, data=body, headers=sign(behind)).status_code == 403


def test_requests_through_haproxy_keep_succeeding_when_one_instance_is_killed(cluster, app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    browser = requests.Session()
    sign_in(cluster, app, sandbox, browser, me.id_number)
    cookies = browser.cookies.get_dict()
    outcomes: Counter[str] = Counter()
    lock, killed, enough = threading.Lock(), threading.Event(), threading.Event()
    after_kill = Counter()

    def client() -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        while not enough.is_set():
            was_killed = killed.is_set()
            try:
                status = session.get(cluster.lb.url + "/me", allow_redirects=False, timeout=30).status_code
                outcome = "200" if status == 200 else f"status {status}"
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] += 1
                if was_killed:
                    after_kill[outcome] += 1

    threads = [threading.Thread(target=client) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: outcomes.total() >= 30, 60, "30 requests before the kill")
        cluster.a.kill()
        killed.set()
        wait_until(lambda: cluster.lb.server_states()["web1"] == "DOWN", 30, "haproxy to take the dead one out")
        seen = after_kill.total()
        wait_until(lambda: after_kill.total() >= seen + 30, 60, "30 requests after haproxy took it out")
    finally:
        enough.set()
        for thread in threads:
            thread.join()
    report = f"{outcomes} ({after_kill} after the kill); haproxy: {cluster.lb.log_file.read_text()[-2000:]}"
    assert after_kill["200"] >= 30, report
    assert outcomes == Counter({"200": outcomes.total()}), report  # none lost: a GET is retried on the other
    # A form post with the dead one still down: the CSRF token and the session are the survivor's to check.
    out = post(browser, cluster.lb.url + "/logout", {"csrf_token": token(browser, cluster.lb.url, "/me")})
    assert out.status_code == 303
    assert browser.get(cluster.lb.url + "/me", allow_redirects=False).status_code == 303
