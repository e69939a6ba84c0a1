"""503 when a backing service cannot be reached: the same body whether Neo4j fails a query, loses a session in the
middle of a write, or Redis refuses the connection — and nothing is written."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from neo4j.exceptions import ConnectionAcquisitionTimeoutError, ServiceUnavailable, SessionExpired

from profiles.config import Settings
from tests.integration.api_helpers import id_number, keys
from web import create_app


def unavailable(which: str) -> dict:
    return {"code": 503, "status": "Service Unavailable",
            "message": f"{which} is unavailable; nothing was changed. Try again shortly.",
            "errors": {which: ["unavailable"]}}


class Failing:
    """The real neo4j driver, but `error` from every query (`queries`) or from opening a session (`sessions`)."""

    def __init__(self, real, error: Exception, queries: bool, sessions: bool):
        self.real, self.error, self.queries, self.sessions = real, error, queries, sessions

    def execute_query(self, *args, **kwargs):
        if self.queries:
            raise self.error
        return self.real.execute_query(*args, **kwargs)

    @contextmanager
    def session(self, **config):
        if self.sessions:
            raise self.error
        with self.real.session(**config) as session:
            yield session

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def neo4j_fails(app, monkeypatch):
    driver = app.extensions["lifecycle"].driver

    def fail(error: Exception, queries: bool = True, sessions: bool = True) -> None:
        monkeypatch.setattr(driver, "unguarded", Failing(driver.unguarded, error, queries, sessions))

    return fail


@pytest.mark.parametrize("error", [ServiceUnavailable("no server"), SessionExpired("gone"),
                                   ConnectionAcquisitionTimeoutError("no free connection in time")],
                         ids=lambda e: type(e).__name__)
def test_neo4j_unreachable_is_503_neo4j(app, client, neo4j_fails, error):
    auth = keys(app)
    neo4j_fails(error)
    response = client.get("/api/v1/catalog/services", headers=auth["officer"])
    assert response.status_code == 503
    assert response.get_json() == unavailable("neo4j")


def test_neo4j_lost_in_the_middle_of_a_write_is_503_and_nothing_is_written(app, client, neo4j_fails):
    auth = keys(app)
    created = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "张三"}, headers=auth["system"])
    pid = created.get_json()["pid"]
    neo4j_fails(SessionExpired("the server went away"), queries=False)  # the key checks; the write's session fails
    material = {"kind": "passport", "number": "E12345678", "issued_on": "2020-01-01", "expires_on": "2030-01-01",
                "issuer": "公安局出入境管理局", "provenance": "issued"}

    response = client.post(f"/api/v1/persons/{pid}/materials", json=material, headers=auth["system"])

    assert response.status_code == 503
    assert response.get_json() == unavailable("neo4j")
    assert app.extensions["lifecycle"].holdings.materials("Person", pid) == []


def test_redis_unreachable_is_503_redis(live_environ):
    app = create_app(Settings.from_env({**live_environ, "REDIS_URL": "redis://127.0.0.1:9/0"}))
    try:
        client = app.test_client()
        with client.session_transaction() as session:
            session["sid"] = "a-session-kept-in-redis"  # the page looks it up there
        response = client.get("/me")
        assert response.status_code == 503
        assert response.get_json() == unavailable("redis")
    finally:
        app.extensions["lifecycle"].close()
