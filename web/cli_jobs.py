"""Flask CLI commands for the notification pipeline: start a scan, sweep, inspect and re-queue failed jobs."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from rq.job import Job
from rq.registry import FailedJobRegistry

from notifier.scan import start_scan


def init_app(app: Flask) -> None:
    app.cli.add_command(notify_group)
    app.cli.add_command(jobs_group)


notify_group = AppGroup("notify", help="The daily scan and delivery.")
jobs_group = AppGroup("jobs", help="Background jobs (RQ): failed ones stay until looked at.")


def _services():
    return current_app.extensions["lifecycle"]


@notify_group.command("scan", help="Start a scan for a date (default today); the worker does the work.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def notify_scan(as_of) -> None:
    services = _services()
    from notifier.scan import now_in

    day: date = as_of.date() if as_of else now_in(services).date()
    click.echo(f"scan {start_scan(services, day)} enqueued for {day.isoformat()}")


@notify_group.command("sweep", help="Enqueue delivery of notices left pending or half-sent by a lost job, now.")
def notify_sweep() -> None:
    from notifier.sweep import sweep

    services = _services()
    from notifier.services import install

    install(services)
    click.echo(" ".join(f"{k}={v}" for k, v in sweep().items()))


@jobs_group.command("failed", help="List failed jobs per queue: id, function, when, the last line of the error.")
def jobs_failed() -> None:
    services = _services()
    total = 0
    for name, queue in services.queues.items():
        registry = FailedJobRegistry(queue=queue)
        for job in Job.fetch_many(registry.get_job_ids(), connection=services.redis):
            if job is None:
                continue
            total += 1
            error = (job.latest_result().exc_string if job.latest_result() else "") or ""
            last = error.strip().splitlines()[-1] if error.strip() else "?"
            click.echo(f"{name}\t{job.id}\t{job.func_name}\t{job.ended_at}\t{last[:160]}")
    click.echo(f"{total} failed job(s)")


@jobs_group.command("requeue", help="Put failed jobs back on their queue: the given ids, or --all.")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="every failed job of every queue")
def jobs_requeue(job_ids: tuple[str, ...], everything: bool) -> None:
    if not job_ids and not everything:
        raise click.UsageError("give job ids, or --all")
    services = _services()
    requeued = []
    for queue in services.queues.values():
        registry = FailedJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            if everything or job_id in job_ids:
                registry.requeue(job_id)
                requeued.append(job_id)
    click.echo(f"re-queued {len(requeued)} job(s)")
    missing = sorted(set(job_ids) - set(requeued))
    if missing:
        raise click.ClickException(f"no failed job with id {', '.join(missing)}")
