"""`helpline jobs failed` and `helpline jobs retry ID`: the work the line gave
up on after its retries, as on the Now page and `GET /api/v1/jobs/failed`,
read through the same `Overview`; a retry is audited as "cli:<os user>"."""

from __future__ import annotations

import json

import click

from ivr.cli.desk import cli_desk, cli_who, reaching_redis


@click.group("jobs")
def jobs_group() -> None:
    """Jobs that failed for good: list them, run one again."""


@jobs_group.command("failed")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="As JSON, with the API's field names.")
def failed(limit: int, as_json: bool) -> None:
    """Newest first: when, which job, the exception and its first line."""
    with reaching_redis():
        found = cli_desk().overview.failed_jobs(limit)
    if as_json:
        rows = [
            {
                "id": job.id,
                "function": job.function,
                "failed_at": job.failed_at.isoformat() if job.failed_at else None,
                "exception": job.exception,
                "message": job.message,
            }
            for job in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not found:
        click.echo("no failed jobs")
    for job in found:
        when = f"{job.failed_at:%Y-%m-%d %H:%M:%S} UTC" if job.failed_at else "?"
        click.echo(f"{job.id}  {when}  {job.function}  {job.exception}: {job.message}")


@jobs_group.command("retry")
@click.argument("job_id")
def retry(job_id: str) -> None:
    """Queue a failed job again (audited). Every job of the line checks what
    was already done, so running one again never sends or dials twice."""
    who = cli_who()
    with reaching_redis():
        desk = cli_desk()
        if not desk.overview.retry_job(job_id):
            raise click.ClickException(f"no failed job {job_id}")
        desk.audit.record(who, "job.retry", job_id)
    click.echo(f"{job_id} queued again")
