"""Two filings of one prefilled draft at the same moment (a citizen's two tabs, or the citizen and the window): one
wins, the other is told which application is now open for the matter, and the reused materials are counted once."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import date, timedelta

from notifier.services import build
from profiles.errors import Rejected
from profiles.matters import MatterOpen
from profiles.models import Actor, Application, Material
from tests.integration.pages_helpers import make_person

DRAFTS = 24


def draft_for(svc, pid: str) -> str:
    aid = str(uuid.uuid4())
    svc.driver.execute_query(
        "MATCH (p:Person {pid: $pid}) CREATE (p)-[:APPLIED]->(:Application {aid: $aid, service: 'id_card_renewal', "
        "status: 'draft', created_on: date(), draft_key: $aid})", pid=pid, aid=aid,
        database_=svc.settings.neo4j_database)
    return aid


def test_two_filings_of_one_draft_at_once_file_it_once(app, settings):
    svc = app.extensions["lifecycle"]
    others = [build(settings), build(settings)]  # each thread its own driver, as two web workers would
    try:
        cases = []
        for n in range(DRAFTS):
            person = make_person(svc, seq=100 + n, phone=None)
            card = svc.holdings.add_material("Person", Material(
                str(uuid.uuid4()), person.pid, "id_card", f"C{n:05d}", date(2006, 1, 1),
                date.today() + timedelta(days=30), "佛山市公安局", "issued", {}))
            cases.append((person.pid, card.mid, draft_for(svc, person.pid)))
        outcomes: dict[str, list[str]] = {aid: [] for _p, _m, aid in cases}

        def file(services, pid: str, mid: str, aid: str, barrier: threading.Barrier) -> None:
            on = date.today()
            application = Application(aid=str(uuid.uuid4()), subject_label="Person", subject_id=pid,
                                      service="id_card_renewal", status="submitted", created_on=on,
                                      submitted_on=on, time_limit_days=20, decide_by=on + timedelta(days=30),
                                      fields={"reason": "有效期满"}, reused=(mid,))
            barrier.wait()
            try:
                services.applications.file(replace(application), Actor("test", "citizen"), draft=aid)
                outcomes[aid].append("filed")
            except MatterOpen as exc:  # the one-matter rule: the loser is told which application is open
                outcomes[aid].append("open" if exc.aid == aid else "open elsewhere")
            except Rejected as exc:
                outcomes[aid].append(exc.field)

        for pid, mid, aid in cases:
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=file, args=(s, pid, mid, aid, barrier)) for s in others]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert {aid: sorted(o) for aid, o in outcomes.items()} == {aid: ["filed", "open"] for aid in outcomes}
        counts = svc.driver.execute_query(
            "MATCH (m:Material) RETURN m.mid AS mid, m.reuse_count AS n, COUNT { (m)<-[:REUSES]-() } AS links",
            database_=settings.neo4j_database)[0]
        assert {(r["n"], r["links"]) for r in counts} == {(1, 1)}
    finally:
        for s in others:
            s.close()
