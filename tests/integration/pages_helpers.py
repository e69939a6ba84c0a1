"""Test harness for the pages: an app wired to an in-process SMS sandbox, a client that carries the CSRF token,
sign-in helpers that read the login code from the sandbox, and factories for citizens, businesses and officers."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import date

from flask.testing import FlaskClient
from rq import SimpleWorker

from notifier import login_codes
from notifier.services import install
from profiles.config import Settings
from profiles.identifiers import parse_resident_id
from profiles.models import Entity, Person, Relation
from tests.conftest import make_environ
from tests.integration.api_helpers import id_number, uscc
from web import create_app

SID, TOKEN = "AC" + "5" * 32, "pages-sandbox-token"
OFFICER_PASSWORD = "correct horse battery staple"
_SEQ = itertools.count()
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages_app(live_environ: dict, sandbox_url: str, **overrides: str):
    environ = {**live_environ, "TWILIO_API_BASE_URL": sandbox_url, "TWILIO_ACCOUNT_SID": SID,
               "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": "+8610690000",
               "LOGIN_LIMIT_ADDRESS": "1000 per minute", "LOGIN_LIMIT_ACCOUNT": "1000 per minute", **overrides}
    app = create_app(Settings.from_env(make_environ(**environ)))
    app.config["TESTING"] = True
    return app


def csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token, as every form on the pages carries it."""
    page = client.get("/login").get_data(as_text=True)
    found = _TOKEN.search(page)
    assert found, "no CSRF token on the sign-in page"
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs):
    """A form post as the browser sends it: with the CSRF token of this session."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def send_codes(app) -> None:
    """What the worker does after a code is asked for: run the queued sign-in code jobs, here in this process."""
    svc = app.extensions["lifecycle"]
    install(svc)
    SimpleWorker([svc.queues[login_codes.QUEUE]], connection=svc.redis).work(burst=True, logging_level="WARNING")


def last_code(sandbox, phone: str) -> str:
    bodies = [m["body"] for m in sandbox.messages(to=phone)]
    assert bodies, f"no SMS reached {phone}"
    found = re.search(r"(\d{6})", bodies[-1])
    assert found, bodies[-1]
    return found.group(1)


def sign_in_citizen(client: FlaskClient, sandbox, id_no: str, phone: str, next_path: str | None = None):
    query = f"?next={next_path}" if next_path else ""
    assert post(client, "/login" + query, {"id_number": id_no}).status_code == 303
    send_codes(client.application)
    return post(client, "/login/code", {"code": last_code(sandbox, phone)})


def sign_in_business(client: FlaskClient, sandbox, code: str, rep_phone: str):
    assert post(client, "/biz/login", {"uscc": code}).status_code == 303
    send_codes(client.application)
    return post(client, "/login/code", {"code": last_code(sandbox, rep_phone)})


def sign_in_officer(client: FlaskClient, username: str, password: str = OFFICER_PASSWORD):
    return post(client, "/officer/login", {"username": username, "password": password})


# --- factories --------------------------------------------------------------------------------------------------
def make_person(services, *, born: date = date(1985, 3, 9), seq: int | None = None, name: str = "陈小明",
                phone: str | None = None, region: str = "440604") -> Person:
    seq = seq if seq is not None else next(_SEQ) % 400 + 500  # distinct within a test; tests pick theirs below 500
    number = id_number(region=region, born=born, seq=seq)
    rid = parse_resident_id(number, date.today())
    person = Person(pid=str(uuid.uuid4()), id_number=rid.number, name=name, birth_date=rid.birth_date, sex=rid.sex,
                    region=rid.region, phone=phone)
    return services.subjects.add_person(person)


def make_entity(services, *, name: str = "佛山市禅城区示例贸易有限公司", org: str | None = None,
                established: date = date(2018, 6, 1), legal_rep: Person | None = None) -> Entity:
    org = org or f"MA4W{uuid.uuid4().int % 100000:05d}"
    entity = Entity(eid=str(uuid.uuid4()), uscc=uscc(org=org), name=name, kind="company",
                    established_on=established, region="440604", status="active")
    entity = services.subjects.add_entity(entity)
    if legal_rep is not None:
        services.subjects.relate(Relation(legal_rep.pid, entity.eid, "LEGAL_REP_OF"))
    return entity


def make_officer(services, username: str = "window1", role: str = "officer", department: str = "禅城区行政服务中心",
                 name: str = "李工作", password: str = OFFICER_PASSWORD):
    return services.officers.create(username, name, role, department, password)
