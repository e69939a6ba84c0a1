"""The one place a Redis client is made from settings: REDIS_URL, or the master that REDIS_SENTINELS name, with the
password and TLS a managed Redis needs. The web app, the workers, the scheduler, the sessions and the rate limiter
all use what `client` returns, so all of them follow a Sentinel failover the same way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.connection import SSLConnection
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from profiles.config import Settings

# A failover takes the sentinels' down-after time, an election and a promotion: a few seconds, more if the first
# election splits. A worker or the scheduler has nothing better to do than wait for it, so its commands retry for
# about a minute (0.1, 0.2, 0.4, 0.8 s, then every second) before RQ sees an error: RQ retries a failed dequeue, but
# quits its work loop on a Redis error anywhere else (finishing a job, its heartbeat), and the scheduler quits too.
FAILOVER_RETRIES = 60
# The web answers instead: a few fast retries (redis-py's default policy), then 503 until the new master is known.
WEB_TIMEOUTS = {"socket_timeout": 5.0, "socket_connect_timeout": 2.0}
WORKER_TIMEOUTS = {"socket_connect_timeout": 5.0, "socket_keepalive": True}  # BLMOVE blocks: no read timeout
SENTINEL_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}  # one silent sentinel must not stall


class MasterFollowingConnection(SentinelManagedConnection):
    """A Sentinel-managed connection that asks the sentinels for the master on every reconnect.

    redis-py 8.1 asks them only when the pool hands out a connection: a command that was in flight when the master
    died (an idle worker's BLMOVE nearly always is) retries against the dead address until its retries run out
    (redis/redis-py#3874, fix not released). Asking again on each reconnect lets the retry reach the new master; a
    brand-new connection now asks twice, one small extra query to a sentinel."""

    def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True) -> None:
        if not self._sock and self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        super().connect_check_health(check_health=check_health, retry_socket_connect=retry_socket_connect)


    def read_response(self, disable_decoding=False, *, disconnect_on_error=True, **kwargs):
        """Drop the connection when a read fails or is interrupted, as redis-py's plain Connection does.

        SentinelManagedConnection defaults `disconnect_on_error` to False, so a read interrupted mid-reply (a worker's
        BLMOVE cut by SIGTERM: RQ's warm shutdown) left the reply waiting on a connection that went back to the pool,
        and the next command on it — RQ's register_death pipeline — read that reply as its own."""
        return super().read_response(disable_decoding=disable_decoding, disconnect_on_error=disconnect_on_error,
                                     **kwargs)


class MasterFollowingSSLConnection(MasterFollowingConnection, SSLConnection):
    pass


def failover_retry() -> Retry:
    return Retry(ExponentialBackoff(cap=1.0, base=0.05), FAILOVER_RETRIES)


def tls_options(settings: Settings) -> dict[str, Any]:
    """redis-py's SSL arguments: server certificate checked against REDIS_TLS_CA_FILE (else the system's CAs)."""
    if not settings.redis_tls:
        return {}
    options: dict[str, Any] = {"ssl": True, "ssl_cert_reqs": "required"}
    if settings.redis_tls_ca_file:
        options["ssl_ca_certs"] = settings.redis_tls_ca_file
    return options


def database(settings: Settings) -> int:
    """The database number in REDIS_URL's path (0 if none); with Sentinel that is all REDIS_URL still gives."""
    path = urlsplit(settings.redis_url).path.strip("/")
    return int(path) if path.isdigit() else 0


def connection_kwargs(settings: Settings, *, for_worker: bool) -> dict[str, Any]:
    """What every connection to the data nodes gets besides TLS: password, timeouts and the retry policy."""
    kwargs: dict[str, Any] = {"health_check_interval": 30, **(WORKER_TIMEOUTS if for_worker else WEB_TIMEOUTS)}
    if settings.redis_password:
        kwargs["password"] = settings.redis_password
    if for_worker:
        kwargs["retry"] = failover_retry()
    return kwargs


def sentinel_kwargs(settings: Settings) -> dict[str, Any]:
    """How to talk to the sentinels themselves: their own password (none unless REDIS_SENTINEL_PASSWORD) and the
    same TLS as the data nodes."""
    return {**SENTINEL_TIMEOUTS, "password": settings.redis_sentinel_password or None, **tls_options(settings)}


def client(settings: Settings, *, for_worker: bool = False) -> redis.Redis:
    """A lazy client (nothing connects here). With sentinels configured, every new connection asks them where the
    master is, and a connection to a demoted master is dropped (redis-py turns its READONLY into ConnectionError)."""
    kwargs = connection_kwargs(settings, for_worker=for_worker)
    if settings.redis_sentinels:
        sentinel = Sentinel(list(settings.redis_sentinels), sentinel_kwargs=sentinel_kwargs(settings))
        tls = {k: v for k, v in tls_options(settings).items() if k != "ssl"}  # the class says TLS
        connection_class = MasterFollowingSSLConnection if settings.redis_tls else MasterFollowingConnection
        return sentinel.master_for(settings.redis_sentinel_master, connection_class=connection_class,
                                   db=database(settings), **kwargs, **tls)
    url = settings.redis_url
    if settings.redis_tls and url.startswith("redis://"):
        url = "rediss://" + url.removeprefix("redis://")  # redis-py picks its SSL connection from the scheme
    tls = {k: v for k, v in tls_options(settings).items() if k != "ssl"}
    return redis.Redis.from_url(url, **kwargs, **tls)
