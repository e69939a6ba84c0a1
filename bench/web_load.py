"""Benchmarks 4 and 5 (this module and bench/wrk/ own them): prefill and two pages under wrk load against gunicorn.

4. `POST /api/v1/prefill` for random persons, against the bare Cypher read(s) prefill does for the same persons, run
   directly on the driver by as many Python threads as wrk has connections (no HTTP, decryption, rules or access log).
5. The citizen's personal page (`/me`) and the officer console's profile of a person, each request signed in.

Sessions are made the way people make them: citizens through the SMS sign-in (the code read back from the sandbox),
officers by password, then a purpose stated per record through the console's open form. This happens in an app built
in this process from the same environment (same Redis, same SECRET_KEY), so gunicorn accepts its cookies; only its
login rate limits are raised. Every request of a timed run must answer 200, or the benchmark stops.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import date, datetime
from pathlib import Path

import neo4j
import structlog.testing
from rq import SimpleWorker

from bench import say
from bench.report import spread
from bench.stack import BenchStack
from graph.snapshots import _QUERY as SNAPSHOT_QUERIES  # the very text prefill runs
from notifier import login_codes
from notifier.services import install
from profiles.config import Settings
from profiles.models import Person
from web import create_app
from web.pages.guards import PURPOSE_TTL_S

LUA = Path(__file__).parent / "wrk" / "requests.lua"
PURPOSE = "Handling an application at the window"  # the first of the console's offered purposes
SERVICES = {"adult": ["id_card_renewal", "passport_renewal"],  # a 一表通 of two services, as at a window
            "minor": ["id_card_first", "resident_medical_insurance_contribution"]}
PURPOSES_PER_OFFICER = 20  # records one officer session opens: a desk's half hour, not thousands in one session
SCENARIOS = ("prefill", "bare_read", "personal_page", "officer_profile")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_WRK_JSON = re.compile(r"^WRK_JSON (\{.*\})$", re.MULTILINE)


def run(stack: BenchStack, base_url: str, runs: int, seconds: float, connections: int = 16,
        sample: int = 2000) -> dict:
    """Sign in, then `runs` rounds of the four measurements in turn; median, min and max of every figure.

    wrk takes whole seconds, so `seconds` is rounded (at least 1) for every measurement, the bare read included."""
    seconds = max(1, round(seconds))
    if runs * len(SCENARIOS) * (seconds + 1) > 0.8 * min(PURPOSE_TTL_S, stack.services.settings.session_idle_s):
        raise SystemExit("web_load: the runs would outlast the officers' stated purposes or the idle sessions")
    work = Path(tempfile.mkdtemp(prefix="web_load-", dir=stack.root))
    s = stack.services
    started = time.monotonic()
    persons = pick(s.driver, s.settings.neo4j_database, s.subjects, sample)
    pids, on = [p.pid for p in persons], datetime.now(s.settings.zone).date()
    citizens = [p for p in persons if p.phone and p.deceased_on is None and adult(p, on)]
    key = s.api_keys.create(f"bench web_load {uuid.uuid4().hex[:8]}", "officer")
    app = create_app(Settings.from_env({**stack.environ, "LOGIN_LIMIT_ADDRESS": "1000000 per minute",
                                        "LOGIN_LIMIT_ACCOUNT": "1000000 per minute"}))
    try:
        with structlog.testing.capture_logs():  # a log line per code sent and per record opened: not for the console
            citizen_cookies = sign_in_citizens(app, stack.sandbox_port, citizens)
            officer_cookies = officer_sessions(app, s.officers, pids)
    finally:
        app.extensions["lifecycle"].close()
    files = {
        "prefill": write_requests(work / "prefill.tsv", {
            "Authorization": f"Bearer {key}", "X-Purpose": PURPOSE, "Content-Type": "application/json"},
            [("POST", "/api/v1/prefill", "", json.dumps({"subject": {"type": "person", "id": p.pid},
                                                          "services": SERVICES["adult" if adult(p, on) else "minor"]}))
             for p in persons]),
        "personal_page": write_requests(work / "personal.tsv", {}, [("GET", "/me", c, "") for c in citizen_cookies]),
        "officer_profile": write_requests(work / "officer.tsv", {}, [
            ("GET", f"/officer/persons/{pid}", cookie, "") for pid, cookie in officer_cookies]),
    }
    setup_s = time.monotonic() - started
    measured: dict[str, list[dict]] = {name: [] for name in SCENARIOS}
    for name in ("prefill", "personal_page", "officer_profile"):  # a short unrecorded pass: connections, caches
        wrk(base_url, files[name], min(seconds, 2), connections)
    bare_read(s.driver, s.settings.neo4j_database, pids, connections, min(seconds, 2), s.snapshots.deaths)
    say(f"web: {len(citizen_cookies)} citizens and {len(officer_cookies)} officer records signed in "
        f"({time.monotonic() - started:.0f} s)")
    for n in range(runs):
        for name in SCENARIOS:
            if name == "bare_read":
                measured[name].append(bare_read(s.driver, s.settings.neo4j_database, pids, connections, seconds,
                                                s.snapshots.deaths))
            else:
                with stack.profiled(f"web-{name}", "web"):
                    measured[name].append(wrk(base_url, files[name], seconds, connections))
        say(f"web run {n + 1}: p99 " + ", ".join(f"{name} {measured[name][-1]['p99_ms']:.0f} ms" for name in SCENARIOS))
    out: dict = {name: summary(measured[name]) for name in SCENARIOS}
    out["ratio_prefill_p99_vs_bare_p99"] = spread([a["p99_ms"] / b["p99_ms"] for a, b in
                                                   zip(measured["prefill"], measured["bare_read"], strict=True)], 2)
    out["setup"] = {"sample_persons": len(persons), "minors": sum(not adult(p, on) for p in persons),
                    "citizen_sessions": len(citizen_cookies),
                    "officer_sessions": math.ceil(len(persons) / PURPOSES_PER_OFFICER),
                    "purposes_per_officer_session": PURPOSES_PER_OFFICER, "services": SERVICES,
                    "connections": connections, "wrk_threads": min(2, connections), "seconds": seconds, "runs": runs,
                    "sign_in_seconds": round(setup_s, 1), "files": str(work)}
    return out


# --- who is asked for --------------------------------------------------------------------------------------------
def pick(driver: neo4j.Driver, database: str, subjects, n: int) -> list[Person]:
    records = driver.execute_query("MATCH (p:Person) WITH p ORDER BY rand() LIMIT $n RETURN p", n=n,
                                   database_=database, routing_=neo4j.RoutingControl.READ)[0]
    if not records:
        raise SystemExit("web_load: no persons in the graph")
    return [subjects.person_from(r["p"]) for r in records]


def adult(p: Person, on: date) -> bool:
    return (on.year - p.birth_date.year - ((on.month, on.day) < (p.birth_date.month, p.birth_date.day))) >= 18


# --- signing in, as a browser does ---------------------------------------------------------------------------------
def csrf_token(client, path: str) -> str:
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    if not found:
        raise SystemExit(f"web_load: no CSRF token on {path}")
    return found.group(1)


def session_cookie(client) -> str:
    cookie = client.get_cookie("lifecycle_session")
    if cookie is None:
        raise SystemExit("web_load: signing in left no session cookie")
    return f"lifecycle_session={cookie.value}"


def expect(response, status: int, what: str) -> None:
    if response.status_code != status:
        raise SystemExit(f"web_load: {what} answered {response.status_code}, not {status}: "
                         f"{response.get_data(as_text=True)[:300]}")


def sign_in_citizens(app, sandbox_port: int, persons: list[Person]) -> list[str]:
    """ID number, the SMS code from the sandbox, and the session cookie that /me then accepts, for each person. The
    codes are sent by the `login` queue's jobs, as the worker would: here in this process, once for everyone."""
    started = []
    for person in persons:
        client = app.test_client()
        token = csrf_token(client, "/login")
        expect(client.post("/login", data={"csrf_token": token, "id_number": person.id_number}), 303, "POST /login")
        started.append((person, client, token))
    services = app.extensions["lifecycle"]
    install(services)
    SimpleWorker([services.queues[login_codes.QUEUE]], connection=services.redis).work(burst=True,
                                                                                       logging_level="WARNING")
    cookies = []
    for person, client, token in started:
        url = f"http://127.0.0.1:{sandbox_port}/sandbox/messages?" + urllib.parse.urlencode({"to": person.phone})
        with urllib.request.urlopen(url, timeout=10) as answer:
            messages = json.load(answer)
        code = re.search(r"(?<!\d)(\d{6})(?!\d)", messages[-1]["body"]) if messages else None
        if code is None:
            raise SystemExit(f"web_load: no sign-in code reached {person.pid}'s phone in the sandbox")
        expect(client.post("/login/code", data={"csrf_token": token, "code": code.group(1)}), 303,
               "POST /login/code")
        cookies.append(session_cookie(client))
    return cookies


def officer_sessions(app, officers, pids: list[str]) -> list[tuple[str, str]]:
    """(pid, cookie) per person: one officer, signed in afresh for every PURPOSES_PER_OFFICER records it opens."""
    username, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    officers.create(username, "基准测试", "officer", "禅城区行政服务中心", password)
    out = []
    for start in range(0, len(pids), PURPOSES_PER_OFFICER):
        client = app.test_client()
        token = csrf_token(client, "/officer/login")
        expect(client.post("/officer/login", data={"csrf_token": token, "username": username, "password": password}),
               303, "POST /officer/login")
        token = csrf_token(client, "/officer")  # signing in starts a new session, with a new token
        for pid in pids[start:start + PURPOSES_PER_OFFICER]:
            expect(client.post(f"/officer/persons/{pid}/open", data={"csrf_token": token, "purpose": PURPOSE}), 303,
                   f"POST /officer/persons/{pid}/open")
        cookie = session_cookie(client)
        out += [(pid, cookie) for pid in pids[start:start + PURPOSES_PER_OFFICER]]
    return out


# --- measuring -------------------------------------------------------------------------------------------------------
def write_requests(path: Path, headers: dict[str, str], requests: list[tuple[str, str, str, str]]) -> Path:
    """The file bench/wrk/requests.lua replays: tab-separated header lines, then one line per request."""
    if not requests:
        raise SystemExit(f"web_load: nothing to request for {path.name} (no signed-in visitors?)")
    lines = [f"H\t{k}\t{v}" for k, v in headers.items()] + ["R\t" + "\t".join(r) for r in requests]
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(base_url: str, requests: Path, seconds: int, connections: int) -> dict:
    """One wrk run; the long timeout keeps slow answers in the latencies instead of dropping them as errors."""
    argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency",
            "-s", str(LUA), base_url, "--", str(requests)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 120)
    found = _WRK_JSON.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"web_load: wrk failed ({done.returncode}) on {requests.name}:\n{done.stdout}\n{done.stderr}")
    r = json.loads(found.group(1))
    if r["non_200"] or r["socket_errors"]:
        raise SystemExit(f"web_load: {requests.name}: {r['non_200']} of {r['requests']} answers were not 200 (the "
                         f"first: {r['first_non_200'] or '-'}), {r['socket_errors']} socket errors; see {requests}")
    return {"p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "max_ms": r["max_us"] / 1000, "requests": r["requests"],
            "requests_per_s": r["requests"] / (r["duration_us"] / 1e6), "non_2xx": r["non_200"]}


def bare_read(driver: neo4j.Driver, database: str, pids: list[str], connections: int, seconds: float,
              deaths: list[str]) -> dict:
    """What prefill reads per subject, as Snapshots.load_with_related reads it: the snapshot query (with the event
    kinds that are deaths, as `Snapshots` passes them), and the same query for the first guardian when there is one.
    `connections` threads, each timing its calls for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures: list[BaseException] = []
    gate = threading.Barrier(connections + 1)
    deadline = [0.0]

    def read(pid: str) -> None:
        records = driver.execute_query(SNAPSHOT_QUERIES["Person"], id=pid, deaths=deaths, database_=database,
                                       routing_=neo4j.RoutingControl.READ)[0]
        guardians = sorted(records[0]["guardians"])
        if guardians:
            driver.execute_query(SNAPSHOT_QUERIES["Person"], id=guardians[0], deaths=deaths, database_=database,
                                 routing_=neo4j.RoutingControl.READ)

    def client(n: int) -> None:
        gate.wait()
        i = n * len(pids) // connections
        try:
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                read(pids[i % len(pids)])
                latencies[n].append(time.perf_counter() - began)
                i += 1
        except BaseException as exc:  # reported below, after the threads are joined
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(connections)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"web_load: the bare read failed: {failures[0]!r}")
    ms = sorted(x * 1000 for xs in latencies for x in xs)
    return {"p50_ms": rank(ms, 50), "p95_ms": rank(ms, 95), "p99_ms": rank(ms, 99), "max_ms": ms[-1],
            "requests": len(ms), "requests_per_s": len(ms) / elapsed, "non_2xx": 0}


def rank(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    return ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)]


def summary(runs: list[dict]) -> dict:
    return {"runs": [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in runs],
            **{k: spread([r[k] for r in runs], 2) for k in ("p50_ms", "p95_ms", "p99_ms", "requests_per_s")},
            "requests_total": sum(r["requests"] for r in runs)}
