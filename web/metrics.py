"""GET /metrics in Prometheus text format, and the per-request counters behind it.

Under gunicorn every worker is a process; the run command sets PROMETHEUS_MULTIPROC_DIR so /metrics aggregates all
of them (prometheus_client reads that variable itself, at import).
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("lifecycle_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("lifecycle_http_request_seconds", "Time to answer an HTTP request", ["route"])
BACKING_SERVICE_UP = Gauge("lifecycle_backing_service_up", "1 if the last health probe reached the service",
                           ["service"], multiprocess_mode="mostrecent")


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
        return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)
