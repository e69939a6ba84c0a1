"""Flask CLI commands for the notification pipeline: start a scan, sweep, inspect and re-queue failed jobs."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from notifier import failed_jobs
from notifier.scan import start_scan
from notifier.services import install
from notifier.sweep import sweep


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
    day: date = as_of.date() if as_of else services.now().date()
    click.echo(f"scan {start_scan(services, day)} enqueued for {day.isoformat()}")


@notify_group.command("sweep", help="Enqueue delivery of notices left pending or half-sent by a lost job, now.")
def notify_sweep() -> None:
    install(_services())  # sweep is a job: it finds its services through current(), as in the worker
    click.echo(" ".join(f"{k}={v}" for k, v in sweep().items()))


@jobs_group.command("failed", help="List failed jobs per queue: id, function, when, the last line of the error.")
def jobs_failed() -> None:
    found = failed_jobs.failed(_services())
    for job in found:
        click.echo(f"{job.queue}\t{job.id}\t{job.func_name}\t{job.ended_at}\t{job.last_error[:160]}")
    click.echo(f"{len(found)} failed job(s)")


@jobs_group.command("requeue", help="Put failed jobs back on their queue: the given ids, or --all.")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="every failed job of every queue")
def jobs_requeue(job_ids: tuple[str, ...], everything: bool) -> None:
    if not job_ids and not everything:
        raise click.UsageError("give job ids, or --all")
    requeued = failed_jobs.requeue(_services(), job_ids, everything)
    click.echo(f"re-queued {len(requeued)} job(s)")
    missing = sorted(set(job_ids) - set(requeued))
    if missing:
        raise click.ClickException(f"no failed job with id {', '.join(missing)}")
