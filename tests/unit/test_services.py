"""The builder connects to nothing; jobs outside a worker fail with a clear message."""

import pytest

from notifier import services
from notifier.services import QUEUE_NAMES, build
from profiles.config import Settings
from tests.conftest import make_environ


def test_build_creates_clients_without_connecting():
    # The test environment points everything at a closed port: connecting would raise, building must not.
    s = build(Settings.from_env(make_environ()))
    try:
        assert set(s.queues) == set(QUEUE_NAMES)
        assert all(q.connection is s.redis for q in s.queues.values())
        assert s.redis.connection_pool.connection_kwargs["socket_timeout"] == 5.0
    finally:
        s.close()


def test_worker_connection_has_no_socket_timeout():
    s = build(Settings.from_env(make_environ()), for_worker=True)
    try:
        assert s.redis.connection_pool.connection_kwargs.get("socket_timeout") is None
    finally:
        s.close()


def test_jobs_outside_a_worker_say_where_they_belong(monkeypatch):
    monkeypatch.setattr(services, "_current", None)
    with pytest.raises(RuntimeError, match="jobs run inside the worker"):
        services.current()
