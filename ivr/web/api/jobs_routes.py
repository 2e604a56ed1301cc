"""The operator API's failed jobs: what RQ gave up on, for someone to look at
(docs/reliability.md). Only which job, when and why — never its arguments.
A failed job is run again from a terminal, audited: `helpline jobs retry ID`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ivr.operators.accounts import Operator
from ivr.web.api import schemas as s
from ivr.web.api.registry import endpoint
from ivr.web.api.routes import api, authenticate, desk


class FailedJob(BaseModel):
    id: str = Field(description="RQ's job id: `helpline jobs retry ID` runs it again.")
    function: str = Field(description="What the job does, e.g. workers.outbox.send_batch.")
    failed_at: datetime | None = Field(description="When its last try ended.")
    exception: str = Field(description="The exception's class, e.g. TransportError.")
    message: str = Field(description="The first line of its message; numbers masked.")


@endpoint(
    api, authenticate, "GET", "/jobs/failed", summary="Jobs that failed for good, newest first",
    tag="jobs", query=s.LimitQuery, response=list[FailedJob],
)  # fmt: skip
def failed_jobs(operator: Operator, query: s.LimitQuery) -> list[FailedJob]:
    return [FailedJob.model_validate(vars(j)) for j in desk().overview.failed_jobs(query.limit)]
