"""A `neo4j://` routing URI (what a cluster or Aura is reached by) works end to end against the session's server, which
answers routing as a one-member cluster; and the driver chains every transaction of the process with one bookmark
manager, so a read sent to a secondary waits for this process's writes."""

from __future__ import annotations

from urllib.parse import urlsplit

import neo4j

from graph.driver import build_driver
from graph.transactions import TransactionLog
from profiles.config import Settings
from tests.conftest import make_environ
from tests.integration.api_helpers import id_number, keys
from web import create_app


def routing_settings(live_environ: dict) -> Settings:
    port = urlsplit(live_environ["NEO4J_URI"]).port
    return Settings.from_env(make_environ(**{**live_environ, "NEO4J_URI": f"neo4j://127.0.0.1:{port}"}))


def test_the_app_writes_and_reads_through_a_routing_uri(live_environ, clean):
    settings = routing_settings(live_environ)
    app = create_app(settings)
    try:
        services = app.extensions["lifecycle"]
        assert isinstance(services.driver.unguarded, neo4j.Neo4jDriver), "a neo4j:// URI makes a routing driver"
        log = services.driver.transactions = TransactionLog()
        auth = keys(app)
        client = app.test_client()
        made = client.post("/api/v1/persons", headers=auth["system"],
                           json={"id_number": id_number(seq=531), "name": "路由测试", "phone": "13912345691"})
        assert made.status_code == 201, made.get_json()
        pid = made.get_json()["pid"]
        got = client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], "X-Purpose": "路由测试 / routing"})
        assert got.status_code == 200 and got.get_json()["name"] == "路由测试"
        assert services.subjects.get_person(pid).phone == "+8613912345691"  # a repository read, routed READ
        assert {"READ", "WRITE"} <= {t.mode for t in log.transactions}
    finally:
        app.extensions["lifecycle"].close()


def test_a_routing_driver_runs_read_and_write_transactions_in_sessions(live_environ, clean):
    settings = routing_settings(live_environ)
    driver = build_driver(settings)
    try:
        db = settings.neo4j_database
        with driver.session(database=db) as session:
            session.execute_write(lambda tx: tx.run("CREATE (:RoutingProbe {n: 1})").consume())
        with driver.session(database=db, default_access_mode=neo4j.READ_ACCESS) as session:
            found = session.execute_read(lambda tx: tx.run("MATCH (p:RoutingProbe) RETURN count(p) AS c").single())
        assert found["c"] == 1
    finally:
        driver.close()


def test_a_sessions_write_is_in_the_bookmarks_that_execute_query_reads_wait_for(settings, clean):
    driver = build_driver(settings)
    try:
        with driver.session(database=settings.neo4j_database) as session:
            session.execute_write(lambda tx: tx.run("CREATE (:BookmarkProbe)").consume())
            written = session.last_bookmarks().raw_values
        assert written
        shared = driver.unguarded.execute_query_bookmark_manager.get_bookmarks()  # what execute_query waits for
        assert written <= shared, "a later routed read would not wait for this write on a secondary"
    finally:
        driver.close()


def test_nothing_is_recorded_or_wrapped_unless_the_log_is_turned_on(settings, clean):
    driver = build_driver(settings)
    try:
        assert driver.transactions is None
        with driver.session(database=settings.neo4j_database) as session:
            assert type(session) is neo4j.Session
    finally:
        driver.close()
