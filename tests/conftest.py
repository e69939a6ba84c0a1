"""Test harness: one throw-away Neo4j and Redis per session on free ports in temporary folders, stopped at the end.

Unit tests never touch them (the fixtures are lazy). The test settings point every service a test did not ask for at
a closed port, so a forgotten dependency fails loudly instead of reaching something real by accident.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from graph.driver import build_driver
from graph.local import LocalNeo4j
from graph.processes import free_port
from graph.schema import migrate
from notifier.local import LocalRedis
from profiles.config import Settings
from web import create_app

CLOSED = "127.0.0.1:9"  # the discard port: nothing listens there, so a connection is refused at once


def make_environ(**overrides: str) -> dict[str, str]:
    """The environment a test process sees: test mode, fixed keys, and nothing pointing anywhere real."""
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "LIFECYCLE_ENV": "test",
        "NEO4J_URI": f"bolt://{CLOSED}",
        "REDIS_URL": f"redis://{CLOSED}/0",
        "TWILIO_API_BASE_URL": f"http://{CLOSED}",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "LIFECYCLE_DATA_KEYS": "t1:" + base64.b64encode(b"k" * 32).decode(),
        "LIFECYCLE_INDEX_KEY": base64.b64encode(b"i" * 32).decode(),
        "LIFECYCLE_AUDIT_KEYS": "a1:" + base64.b64encode(b"a" * 32).decode(),
        "HEALTH_TIMEOUT": "1.5",
    }
    environ.update(overrides)
    return environ


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    server = LocalNeo4j(
        home=tmp_path_factory.mktemp("neo4j"),
        port=free_port(),
        dist_dir=Settings().neo4j_dist_dir,
        heap="1g",  # the fault tests hold thousands of notices in flight; 512m thrashed the GC under load
        pagecache="128m",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    server = LocalRedis(directory=tmp_path_factory.mktemp("redis"), port=free_port(), persistent=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_environ(neo4j_server: LocalNeo4j, redis_server: LocalRedis, tmp_path_factory) -> dict[str, str]:
    """The environment for a process that uses the session's real Neo4j and Redis."""
    return make_environ(
        NEO4J_URI=neo4j_server.uri,
        REDIS_URL=redis_server.url,
        LIFECYCLE_VAR=str(tmp_path_factory.mktemp("var")),
    )


@pytest.fixture(scope="session")
def settings(live_environ: dict[str, str]) -> Settings:
    settings = Settings.from_env(live_environ)
    driver = build_driver(settings)
    try:
        migrate(driver, settings.neo4j_database)
    finally:
        driver.close()
    return settings


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def clear_state(settings: Settings) -> None:
    """Delete every node but the schema ledger, and flush Redis: each test starts from an empty, migrated graph."""
    driver = build_driver(settings)
    try:
        with driver.session(database=settings.neo4j_database) as session:
            session.run(
                "MATCH (n) WHERE NOT n:SchemaMigration "
                "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
            ).consume()
    finally:
        driver.close()
    connection = redis.Redis.from_url(settings.redis_url)
    try:
        connection.flushdb()
    finally:
        connection.close()


@pytest.fixture
def clean(settings: Settings) -> Settings:
    clear_state(settings)
    return settings


@pytest.fixture
def app(clean: Settings):
    app = create_app(clean)
    app.config["TESTING"] = True
    yield app
    app.extensions["lifecycle"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def driver(settings: Settings) -> Iterator:
    driver = build_driver(settings)
    yield driver
    driver.close()
