"""Factories and harness for the notification tests: the SMS sandbox, services wired to it, people with cards due,
an in-process burst worker, and reconciliation of notices against what the sandbox received."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rq import SimpleWorker

from notifier.services import QUEUE_NAMES, Services, build, install
from profiles.config import Settings
from profiles.models import Material, Person
from tests.conftest import make_environ
from tests.integration.api_helpers import id_number

ZONE = ZoneInfo("Asia/Shanghai")
SID, TOKEN = "AC" + "5" * 32, "sandbox-test-token"
_seq = iter(range(100, 10**6))


def at(day: date, hour: int = 10, minute: int = 0) -> str:
    """A fixed local clock for jobs, as the ISO text they take."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).isoformat()


def notify_services(live_environ: dict, sandbox_url: str, **overrides: str) -> Services:
    environ = {**live_environ, "TWILIO_API_BASE_URL": sandbox_url, "TWILIO_ACCOUNT_SID": SID,
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": "+8610690000", "RETRY_BASE": "0.05",
               "SCAN_PARTITIONS": "4", **overrides}
    services = build(Settings.from_env(make_environ(**environ)), for_worker=True)
    install(services)
    return services


def person(services: Services, *, born: date = date(1980, 4, 2), phone: str | None = "+8613800138000",
           email: str | None = None, name: str = "张三") -> Person:
    seq = next(_seq)
    p = Person(str(uuid.uuid4()), id_number(born=born, seq=seq % 1000), name, born, "M" if seq % 2 else "F",
               "440604", phone=phone, email=email)
    return services.subjects.add_person(p)


def material(services: Services, pid: str, kind: str, expires_on: date | None, issued_on: date | None = None,
             label: str = "Person") -> Material:
    issued = issued_on or (expires_on - timedelta(days=3652) if expires_on else date(2015, 1, 1))
    m = Material(str(uuid.uuid4()), pid, kind, f"N{next(_seq)}", issued, expires_on, "佛山市公安局禅城分局",
                 "issued", {})
    return services.holdings.add_material(label, m)


def run_jobs(services: Services, queues: tuple[str, ...] = QUEUE_NAMES) -> None:
    """Drain the queues in this process (the jobs use the installed services)."""
    worker = SimpleWorker([services.queues[q] for q in queues], connection=services.redis)
    worker.work(burst=True, logging_level="WARNING")


def notices(services: Services, **where) -> list[dict]:
    conditions = " AND ".join(f"n.{k} = ${k}" for k in where) or "true"
    records = services.driver.execute_query(
        f"MATCH (n:Notice)-[:TO]->(r) WHERE {conditions} RETURN n {{.*, to: coalesce(r.pid, r.eid, r.name)}} AS n "
        "ORDER BY n.created_at, n.channel", where, database_=services.settings.neo4j_database)[0]
    return [r["n"] for r in records]


NID_IN_LINK = re.compile(r"/n/([0-9a-f]{18})")


def messages_per_notice(sandbox) -> Counter:
    """How many SMS the sandbox accepted for each notice (the link in the body names it)."""
    return Counter(m.group(1) for msg in sandbox.messages() if (m := NID_IN_LINK.search(msg["body"])))
