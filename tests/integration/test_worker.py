"""The worker entry point: built by the same builder as the web app, it takes jobs from Redis and reaches Neo4j."""

import subprocess
import sys

from rq import Queue
from rq.job import JobStatus

from notifier import jobs
from profiles.config import PROJECT_ROOT


def test_worker_runs_a_job_against_real_redis_and_neo4j(app, live_environ):
    services = app.extensions["lifecycle"]
    queue: Queue = services.queues["default"]
    job = queue.enqueue(jobs.probe)

    done = subprocess.run([sys.executable, "-m", "notifier.worker", "--burst"], cwd=PROJECT_ROOT,
                          env=live_environ, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, done.stderr
    assert job.return_value() == {"neo4j": "ok", "redis": "ok"}


def test_worker_reports_bad_configuration(live_environ):
    done = subprocess.run([sys.executable, "-m", "notifier.worker", "--burst"], cwd=PROJECT_ROOT,
                          env={**live_environ, "LIFECYCLE_TZ": "Nowhere/Special"}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "configuration error: LIFECYCLE_TZ: unknown time zone 'Nowhere/Special'" in done.stderr
