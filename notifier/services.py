"""The one builder: from settings, the Neo4j driver, the Redis connection and the queues, shared by web and worker.

`web.create_app` calls `build` and keeps the result in `app.extensions`; the worker calls the same `build` and installs
the result for its jobs (jobs take ids and reload through `current()`). Nothing here connects: both clients are lazy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from rq import Queue

from graph.driver import Driver, build_driver
from profiles.config import Settings

QUEUE_NAMES = ("scan", "deliver", "default")  # a worker drains them in this order


@dataclass
class Services:
    settings: Settings
    driver: Driver
    redis: redis.Redis
    queues: dict[str, Queue] = field(default_factory=dict)

    def close(self) -> None:
        self.driver.close()
        self.redis.close()


def build(settings: Settings, *, for_worker: bool = False) -> Services:
    """Build every client from `settings`.

    Web requests must never hang on Redis, so their connection has short socket timeouts; the worker's blocks on
    BLMOVE for minutes by design, so it gets none (RQ manages its own dequeue timeout).
    """
    timeouts = {} if for_worker else {"socket_timeout": 5.0, "socket_connect_timeout": 2.0}
    connection = redis.Redis.from_url(settings.redis_url, health_check_interval=30, **timeouts)
    queues = {name: Queue(name, connection=connection) for name in QUEUE_NAMES}
    return Services(settings=settings, driver=build_driver(settings), redis=connection, queues=queues)


_current: Services | None = None


def install(services: Services) -> None:
    """Make `services` what jobs in this process use (called once by the worker's entry point)."""
    global _current
    _current = services


def current() -> Services:
    if _current is None:
        raise RuntimeError("no services installed: jobs run inside the worker (python -m notifier.worker)")
    return _current
