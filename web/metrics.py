"""GET /metrics in Prometheus text format, and the per-request counters behind it; the holiday calendar gauge.

Under gunicorn every worker is a process; the run command sets PROMETHEUS_MULTIPROC_DIR so /metrics aggregates all
of them (prometheus_client reads that variable itself, at import).
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from profiles.workdays import years_without_arrangement

REQUESTS = Counter("lifecycle_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("lifecycle_http_request_seconds", "Time to answer an HTTP request", ["route"])
BACKING_SERVICE_UP = Gauge("lifecycle_backing_service_up", "1 if the last health probe reached the service",
                           ["service"], multiprocess_mode="mostrecent")
CALENDAR_MISSING = Gauge("lifecycle_holiday_calendar_missing_years",
                         "Years (this one, and the next from 1 October) with no official holiday arrangement on file: "
                         "working-day deadlines there are estimated", multiprocess_mode="mostrecent")


def app_today() -> date:
    """The app's day (LIFECYCLE_TZ), which decides which years the calendar gauge looks at."""
    return datetime.now(current_app.extensions["lifecycle"].settings.zone).date()


def record_calendar(on: date) -> list[int]:
    """Set the calendar gauge for the day `on`; the years it counts."""
    missing = years_without_arrangement(on)
    CALENDAR_MISSING.set(len(missing))
    return missing


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _count(response):
        # The route pattern, never the raw path: ids in paths would make one time series per citizen.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            LATENCY.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics():
        record_calendar(app_today())  # set at each scrape: the gauge follows the date, not the last /healthz
        return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)
