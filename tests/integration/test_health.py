"""GET /healthz and /metrics against real servers, stopped servers and servers that hang; the holiday calendar's
warning there."""

import socket
import threading
import time
from datetime import date

import pytest

from profiles import workdays
from profiles.arrangements import ArrangementError, load_arrangements
from profiles.config import Settings
from tests.conftest import make_environ
from web import create_app, metrics


class BlackHole:
    """A TCP server that accepts connections and never answers: what a hung Neo4j or Redis looks like."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.closed = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture
def client_with(live_environ):
    """A test client for an app built with some settings changed; its clients are closed afterwards."""
    apps = []

    def build(**overrides):
        apps.append(create_app(Settings.from_env({**live_environ, **overrides})))
        return apps[-1].test_client()

    yield build
    for app in apps:
        app.extensions["lifecycle"].close()


def timed_get(client, path):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


@pytest.fixture
def on_day(monkeypatch):
    """The app's day, for the calendar check, and no holiday arrangement on file; the folder is put back after."""
    workdays.use_arrangements({})
    yield lambda day: monkeypatch.setattr(metrics, "app_today", lambda: day)
    workdays.use_arrangements(None)


def test_healthy(client, on_day):
    on_day(date(2026, 6, 1))  # chinese-calendar knows 2026, and next year is not looked at before October
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"neo4j": "ok", "redis": "ok", "calendar": "ok"}


def write_2027(folder):
    (folder / "2027.yaml").write_text("year: 2027\nsource: {title: TEST DATA, number: UNVERIFIED, url: UNVERIFIED}\n"
                                      "holidays: [2027-01-01]\n", encoding="utf-8")
    return folder


def test_next_years_calendar_missing_is_a_warning_not_an_outage(client, on_day, tmp_path):
    on_day(date(2026, 12, 2))
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and (body["neo4j"], body["redis"]) == ("ok", "ok")
    assert body["calendar"].startswith("no official holiday arrangement on file for 2027: ")
    assert "profiles/calendar/2027.yaml" in body["calendar"]
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE lifecycle_holiday_calendar_missing_years gauge" in text
    assert "\nlifecycle_holiday_calendar_missing_years 1.0\n" in text

    workdays.use_arrangements(load_arrangements(write_2027(tmp_path)))  # the operator adds the notice
    assert client.get("/healthz").get_json()["calendar"] == "ok"
    assert "\nlifecycle_holiday_calendar_missing_years 0.0\n" in client.get("/metrics").get_data(as_text=True)

    on_day(date(2027, 11, 1))  # a year on: 2028 is the coming year now
    assert "for 2028:" in client.get("/healthz").get_json()["calendar"]


def test_the_metric_follows_the_date_without_a_health_probe(client, on_day):
    on_day(date(2026, 9, 30))
    assert "\nlifecycle_holiday_calendar_missing_years 0.0\n" in client.get("/metrics").get_data(as_text=True)
    on_day(date(2026, 10, 1))
    assert "\nlifecycle_holiday_calendar_missing_years 1.0\n" in client.get("/metrics").get_data(as_text=True)


def test_a_broken_arrangement_file_stops_the_app_naming_it(monkeypatch, tmp_path):
    (tmp_path / "2027.yaml").write_text("year: 2027\nholidays: [2027-13-01]\n", encoding="utf-8")
    monkeypatch.setattr(workdays, "load_arrangements", lambda: load_arrangements(tmp_path))
    workdays.use_arrangements(None)
    try:
        with pytest.raises(ArrangementError, match=r"2027\.yaml: holidays\[0\]: '2027-13-01' is not a date"):
            create_app(Settings.from_env(make_environ()))
    finally:
        workdays.use_arrangements(None)


def test_redis_down_is_named(client_with):
    client = client_with(REDIS_URL="redis://127.0.0.1:9/0")
    response, took = timed_get(client, "/healthz")
    body = response.get_json()
    assert response.status_code == 503
    assert (body["neo4j"], body["redis"]) == ("ok", "down")
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert body["message"] == "redis is down"
    assert list(body["errors"]) == ["redis"] and "ConnectionError" in body["errors"]["redis"][0]
    assert "calendar" in body  # the calendar detail is there when a service is down too
    assert took < 2.0


def test_both_down_are_both_named():
    app = create_app(Settings.from_env(make_environ()))  # everything at closed ports
    response, took = timed_get(app.test_client(), "/healthz")
    app.extensions["lifecycle"].close()
    assert response.status_code == 503
    assert response.get_json()["message"] == "neo4j and redis are down"
    assert took < 2.0


@pytest.mark.parametrize("hung", ["neo4j", "redis"])
def test_a_hanging_server_is_reported_within_two_seconds(client_with, black_hole, hung):
    address = {"neo4j": ("NEO4J_URI", f"bolt://127.0.0.1:{black_hole.port}"),
               "redis": ("REDIS_URL", f"redis://127.0.0.1:{black_hole.port}/0")}[hung]
    client = client_with(**dict([address]))  # the default 1.5 s bound
    response, took = timed_get(client, "/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body[hung] == "down" and body["errors"][hung] == ["no answer within 1.5 s"]
    assert took < 2.0, f"/healthz took {took:.2f} s"

    # More probes than the pool has threads: stuck probes must not make later answers any slower.
    client = client_with(HEALTH_TIMEOUT="0.3", **dict([address]))
    for _ in range(8):
        response, took = timed_get(client, "/healthz")
        assert response.status_code == 503 and response.get_json()[hung] == "down"
        assert took < 1.0, f"/healthz took {took:.2f} s"


def test_metrics_in_prometheus_text_format(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "# TYPE lifecycle_http_requests_total counter" in text
    assert 'lifecycle_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'lifecycle_backing_service_up{service="neo4j"} 1.0' in text


@pytest.mark.parametrize(("path", "accept"), [("/api/v1/no/such/thing", None), ("/no/such/page", "application/json")])
def test_unknown_paths_get_the_contract_error_shape(client, path, accept):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == 404


def test_a_browser_gets_an_error_page_in_its_language(client):
    response = client.get("/no/such/page", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "页面不存在" in response.get_data(as_text=True)


def test_oversized_bodies_are_refused(client):
    response = client.post("/healthz", data=b"x" * (1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == 413
