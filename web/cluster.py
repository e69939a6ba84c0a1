"""The loopback cluster: `python -m web.cluster` (`make cluster`) runs the scale-out topology on one machine — Neo4j,
Redis master + replica + 3 sentinels, 3 workers, 1 scheduler, the SMS sandbox, 2 web instances behind haproxy — prints
what runs where, and stops everything on Ctrl-C, like `make run`.

It is the production shape in miniature, on existing engines only: the same children as the run command
(web.stack's Supervisor restarts any that dies), pointed at Sentinel (REDIS_SENTINELS) and behind a real load balancer
(PROXY_HOPS=1). Neo4j stays one server: a Neo4j cluster needs the Enterprise edition (docs/NEO4J_CLUSTER.md).
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass

import structlog

from graph.processes import PrerequisiteMissing, ServerFailed
from notifier.local_sentinel import SentinelGroup
from profiles.config import Settings
from web.loadbalancer import LocalLoadBalancer
from web.stack import child_environment, gunicorn_argv, neo4j_child, service_children
from web.supervisor import Child, Command, Supervisor, wait_for_health

log = structlog.get_logger("cluster")


@dataclass(frozen=True)
class Topology:
    """Where everything listens; PORT (default 8000) is the load balancer's, the rest follow from the base ports."""

    public_port: int = 8000
    web_ports: tuple[int, ...] = (8101, 8102)
    redis_ports: tuple[int, ...] = (6390, 6391)  # the master first; not the run command's 6380
    sentinel_ports: tuple[int, ...] = (26390, 26391, 26392)
    workers: int = 3


def topology_from(environ: dict[str, str]) -> Topology:
    """PORT, and CLUSTER_WEB_PORTS, CLUSTER_REDIS_PORTS (the master first), CLUSTER_SENTINEL_PORTS as comma lists, to
    run beside something that holds the defaults (a test picks free ports)."""
    def ports(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(int(p) for p in environ[name].split(",")) if environ.get(name) else default

    base = Topology()
    return Topology(public_port=int(environ.get("PORT") or base.public_port),
                    web_ports=ports("CLUSTER_WEB_PORTS", base.web_ports),
                    redis_ports=ports("CLUSTER_REDIS_PORTS", base.redis_ports),
                    sentinel_ports=ports("CLUSTER_SENTINEL_PORTS", base.sentinel_ports))


def cluster_environment(topology: Topology, password: str) -> dict[str, str]:
    """What every child of the cluster sees on top of the operator's environment."""
    return {
        "REDIS_SENTINELS": ",".join(f"127.0.0.1:{p}" for p in topology.sentinel_ports),
        "REDIS_SENTINEL_MASTER": "lifecycle",
        "REDIS_PASSWORD": password,
        "PROXY_HOPS": "1",  # haproxy appends the client's address; one hop is trusted, no more
        "PUBLIC_URL": f"http://127.0.0.1:{topology.public_port}",
        "PORT": str(topology.public_port),
    }


def build_children(settings: Settings, environ: dict[str, str], topology: Topology) -> list[Child]:
    var = settings.var_dir / "cluster"
    children = [neo4j_child(settings, environ)] if settings.local_neo4j else []
    group = SentinelGroup(var / "redis", list(topology.redis_ports), list(topology.sentinel_ports),
                          password=settings.redis_password, environ=environ)
    # One child for the group: a dead master is the sentinels' to replace (that is the point), so the supervisor only
    # steps in when no sentinel is left to do it.
    children.append(Child("redis + sentinels", group.start, group.stop,
                          lambda: any(s.alive for s in group.sentinels)))
    children += service_children(settings, environ, topology.workers)
    for n, port in enumerate(topology.web_ports, start=1):
        web = Command(gunicorn_argv(settings, "127.0.0.1", port, var / f"web-{n}.ctl"), environ)
        children.append(Child(f"web-{n}", web.start, web.stop, web.alive))
    balancer = LocalLoadBalancer(var / "haproxy", topology.public_port,
                                 [("127.0.0.1", port) for port in topology.web_ports], environ=environ)
    children.append(Child("haproxy", balancer.start, balancer.stop, balancer.alive))
    return children


def banner(settings: Settings, topology: Topology, seconds: float) -> str:
    public = f"http://127.0.0.1:{topology.public_port}"
    lines = [
        "",
        f"Lifecycle cluster is up on loopback ({seconds:.1f} s):",
        f"  web        {public}/  (haproxy, round-robin, health checks on /healthz; stats in var/cluster/haproxy)",
        *[f"  web-{n}      http://127.0.0.1:{p}/  (gunicorn, {settings.web_workers} workers, PROXY_HOPS=1)"
          for n, p in enumerate(topology.web_ports, start=1)],
        f"  redis      master 127.0.0.1:{topology.redis_ports[0]}, replica "
        + ", ".join(f"127.0.0.1:{p}" for p in topology.redis_ports[1:])
        + " (password in the children's environment)",
        "  sentinels  " + ", ".join(f"127.0.0.1:{p}" for p in topology.sentinel_ports) + "  (master name lifecycle, "
        "quorum 2: kill the master and one of them promotes the replica)",
        f"  workers    {topology.workers} × python -m notifier.worker, 1 × python -m notifier.cron",
        f"  neo4j      {settings.neo4j_uri}" + (f"  (data in {settings.var_dir / 'neo4j'})" * settings.local_neo4j),
        *([f"  sms        {settings.twilio_api_base_url}/sandbox/messages"] if settings.local_sms_sandbox else []),
        "Press Ctrl-C to stop everything.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    from notifier.logs import process_settings

    topology = topology_from(dict(os.environ))
    password = secrets.token_urlsafe(24)  # the Redis group is fresh on every start: so is its password
    os.environ.update(cluster_environment(topology, password))
    settings = process_settings()
    began = time.monotonic()
    supervisor = Supervisor(build_children(settings, child_environment(settings), topology))
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    status = 0
    try:
        supervisor.start_all()
        if not supervisor.stopping and not wait_for_health(f"http://127.0.0.1:{topology.public_port}/healthz", 90):
            log.error("the cluster did not report healthy through haproxy within 90 s")
        if not supervisor.stopping:
            print(banner(settings, topology, time.monotonic() - began), flush=True)
            status = supervisor.watch()
    except (PrerequisiteMissing, ServerFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        status = 1
    finally:
        supervisor.stop_all()
    return status


if __name__ == "__main__":
    sys.exit(main())
