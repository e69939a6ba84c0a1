"""The Redis client made from settings: plain URL or Sentinel, password, TLS with a CA file, the web's timeouts and the
worker's failover retries, and the rate limiter on the very same pool. Nothing connects here."""

from __future__ import annotations

import pytest
import redis
from redis.connection import Connection, SSLConnection
from redis.sentinel import MasterNotFoundError, SentinelConnectionPool

from notifier import redis_client
from notifier.redis_client import FAILOVER_RETRIES, MasterFollowingConnection, MasterFollowingSSLConnection
from profiles.config import Settings
from tests.conftest import make_environ
from web import create_app
from web.pages.limits import limiter

SENTINELS = {"REDIS_SENTINELS": "127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381", "REDIS_SENTINEL_MASTER": "m1",
             "REDIS_URL": "redis://ignored.example:6379/3"}


def settings(**env: str) -> Settings:
    return Settings.from_env(make_environ(**env))


def test_a_plain_url_gets_the_password_and_the_web_timeouts():
    client = redis_client.client(settings(REDIS_URL="redis://127.0.0.1:9/2", REDIS_PASSWORD="pw"))
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    assert pool.connection_class is Connection
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("127.0.0.1", 9, 2, "pw")
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (5.0, 2.0)
    assert "retry" not in kwargs  # redis-py's few quick retries: a page answers 503 rather than wait out a failover


def test_tls_with_a_ca_file_reaches_the_connection_and_the_scheme_follows():
    client = redis_client.client(settings(REDIS_URL="redis://r.example:6380/0", REDIS_TLS="true",
                                          REDIS_TLS_CA_FILE="/etc/ssl/redis-ca.pem"))
    pool = client.connection_pool
    assert pool.connection_class is SSLConnection
    assert pool.connection_kwargs["ssl_ca_certs"] == "/etc/ssl/redis-ca.pem"
    assert pool.connection_kwargs["ssl_cert_reqs"] == "required"
    assert redis_client.client(settings(REDIS_URL="rediss://r.example:6380/0")).connection_pool.connection_class \
        is SSLConnection  # rediss:// alone means TLS, against the system's CAs
    plain = redis_client.client(settings(REDIS_URL="redis://r.example:6380/0")).connection_pool
    assert plain.connection_class is Connection and "ssl_ca_certs" not in plain.connection_kwargs


def test_sentinels_name_the_master_with_their_own_password_and_the_data_password_for_the_master():
    client = redis_client.client(settings(**SENTINELS, REDIS_PASSWORD="data", REDIS_SENTINEL_PASSWORD="watch"))
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "m1"
    assert pool.connection_class is MasterFollowingConnection
    assert (pool.connection_kwargs["password"], pool.connection_kwargs["db"]) == ("data", 3)
    sentinels = pool.sentinel_manager.sentinels
    assert [(s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
            for s in sentinels] == [("127.0.0.1", 26379), ("127.0.0.1", 26380), ("127.0.0.1", 26381)]
    assert {s.connection_pool.connection_kwargs["password"] for s in sentinels} == {"watch"}
    assert {s.connection_pool.connection_kwargs["socket_timeout"] for s in sentinels} == {1.0}


def test_sentinels_without_a_password_of_their_own_are_not_sent_the_data_password():
    client = redis_client.client(settings(**SENTINELS, REDIS_PASSWORD="data"))
    sentinels = client.connection_pool.sentinel_manager.sentinels
    assert {s.connection_pool.connection_kwargs["password"] for s in sentinels} == {None}


def test_tls_with_sentinels_covers_the_master_and_the_sentinels():
    client = redis_client.client(settings(**SENTINELS, REDIS_TLS="true", REDIS_TLS_CA_FILE="/ca.pem"))
    pool = client.connection_pool
    assert pool.connection_class is MasterFollowingSSLConnection and issubclass(pool.connection_class, SSLConnection)
    assert pool.connection_kwargs["ssl_ca_certs"] == "/ca.pem"
    for sentinel in pool.sentinel_manager.sentinels:
        assert sentinel.connection_pool.connection_class is SSLConnection
        assert sentinel.connection_pool.connection_kwargs["ssl_ca_certs"] == "/ca.pem"


def test_the_worker_waits_out_a_failover_and_blocks_without_a_read_timeout():
    for env in ({}, SENTINELS):
        kwargs = redis_client.client(settings(**env), for_worker=True).connection_pool.connection_kwargs
        assert kwargs["retry"].get_retries() == FAILOVER_RETRIES
        assert kwargs.get("socket_timeout") is None and kwargs["socket_connect_timeout"] == 5.0


def test_the_rate_limiter_counts_on_the_apps_own_pool():
    app = create_app(settings(**SENTINELS, REDIS_PASSWORD="data"))
    try:
        services = app.extensions["lifecycle"]
        with app.app_context():
            assert limiter.storage.storage.connection_pool is services.redis.connection_pool
    finally:
        app.extensions["lifecycle"].close()


@pytest.mark.parametrize("error", [redis.ConnectionError("refused"), MasterNotFoundError("No master found for 'm1'"),
                                   redis.TimeoutError("Timeout reading from socket"),
                                   redis.ReadOnlyError("You can't write against a read only replica.")])
def test_the_redis_errors_of_a_failover_answer_503_in_the_one_error_shape(error):
    app = create_app(settings(**SENTINELS))
    try:
        def failing():
            raise error

        app.add_url_rule("/api/v1/failing", "failing", failing)
        response = app.test_client().get("/api/v1/failing")
        assert response.status_code == 503
        assert response.get_json()["errors"] == {"redis": ["unavailable"]}
    finally:
        app.extensions["lifecycle"].close()
