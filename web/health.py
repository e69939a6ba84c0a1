"""GET /healthz: is Neo4j reachable, is Redis reachable — answered within the configured bound even if one hangs —
and is the holiday calendar on file for this year and (from 1 October) the next one.

The calendar is a warning, never a reason for 503: without the State Council's arrangement for a year, working-day
deadlines there are estimated (profiles.workdays). `calendar` is "ok" or says which year is missing and what to do.
The arrangements on file are read when the app is built, so that a broken file stops it with the file and field named.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date

from flask import Blueprint, Flask, current_app, jsonify

from graph.driver import ping
from notifier.services import Services
from profiles import workdays
from web import metrics
from web.errors import error_body
from web.metrics import BACKING_SERVICE_UP, record_calendar

bp = Blueprint("health", __name__)

# A hung server keeps its probe thread busy until the client's own socket timeout; a small fixed pool means a
# hanging server can never pile up threads, and a probe still waiting in the queue simply reports a time-out.
_POOL_SIZE = 4


def check(services: Services, pool: ThreadPoolExecutor, timeout: float) -> dict[str, str]:
    """Probe every backing service at once; "ok", or why not, for each."""
    futures: dict[str, Future] = {
        "neo4j": pool.submit(ping, services.driver, services.settings.neo4j_database),
        "redis": pool.submit(services.redis.ping),
    }
    wait(futures.values(), timeout=timeout)
    results = {}
    for name, future in futures.items():
        if not future.done():
            future.cancel()
            results[name] = f"no answer within {timeout:g} s"
        elif future.exception() is not None:
            exc = future.exception()
            results[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
        else:
            results[name] = "ok"
        BACKING_SERVICE_UP.labels(service=name).set(1 if results[name] == "ok" else 0)
    return results


def calendar_detail(on: date) -> str:
    """"ok", or which years have no official holiday arrangement on file and what that means."""
    missing = record_calendar(on)
    if not missing:
        return "ok"
    years = ", ".join(str(y) for y in missing)
    return (f"no official holiday arrangement on file for {years}: working-day deadlines there are estimated "
            f"(statutory holidays by rule, no adjusted workdays); add profiles/calendar/{missing[0]}.yaml from the "
            f"State Council's notice once published (docs/CATALOG.md)")


@bp.get("/healthz")
def healthz():
    services: Services = current_app.extensions["lifecycle"]
    results = check(services, current_app.extensions["lifecycle.health_pool"], services.settings.health_timeout_s)
    calendar = calendar_detail(metrics.app_today())
    down = {name: [why] for name, why in results.items() if why != "ok"}
    if not down:
        return jsonify({**{name: "ok" for name in results}, "calendar": calendar})
    body = error_body(503, f"{' and '.join(down)} {'is' if len(down) == 1 else 'are'} down", down)
    body.update({name: "ok" if why == "ok" else "down" for name, why in results.items()})
    body["calendar"] = calendar
    return jsonify(body), 503


def init_app(app: Flask) -> None:
    workdays.arrangements()  # read profiles/calendar/ now: a broken file stops the app here, not in a request
    app.extensions["lifecycle.health_pool"] = ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="healthz")
    app.register_blueprint(bp)
