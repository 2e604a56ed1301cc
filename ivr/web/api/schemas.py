"""The operator API's bodies, in and out, as pydantic models: they validate
what comes in (a wrong field is named in the 422), shape what goes out, and
describe both in the OpenAPI document, so the three never drift apart.

Shape checks live here (types, formats, lengths); the roster's own rules (a
real time zone, a dialable number, a known counselor) are checked by the same
parser that reads roster files, in `ivr.roster.edit`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ivr.roster.parse import COUNSELOR_ID
from ivr.routing import figures

# The same rule as roster files: a counselor imported as "J.Doe" can be edited here too.
Identifier = Annotated[str, Field(pattern=f"^{COUNSELOR_ID.pattern}$", examples=["maria"])]
Clock = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["22:00"])
]
LocalTime = Annotated[
    str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", examples=["2026-12-24T18:00"])
]
ZoneName = Annotated[str, Field(min_length=1, max_length=64, examples=["America/New_York"])]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", examples=["en"])]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        examples=["+12025550101", "(202) 555-0101"],
        description="E.164, or as dialled in the US: (202) 555-0101, 202-555-0101, "
        "+1 202 555 0101; read as its E.164 form.",
    ),
]
Note = Annotated[str, Field(max_length=200)]


class Strict(BaseModel):
    """A body: JSON types as declared (no `false` for 0), no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """A query string: text turned into the declared types, no unknown names."""

    model_config = ConfigDict(extra="forbid")


# -- errors ---------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = []


class Error(BaseModel):
    error: ErrorBody


# -- who is asking ----------------------------------------------------------------


class Me(BaseModel):
    name: str
    role: Literal["viewer", "admin", "counselor"]


# -- roster ---------------------------------------------------------------------


class CounselorIn(Strict):
    id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=80)]
    phone: Phone
    languages: Annotated[list[Language], Field(min_length=1, max_length=10)]
    active: bool = True
    priority: Annotated[int, Field(ge=0, le=1000)] | None = None
    role: Literal["counselor", "supervisor"] = Field(
        "counselor",
        description="A supervisor is never rung for a caller: urgent work's second step.",
    )


class CounselorPatch(Strict):
    """Only the fields given change; leave `phone` out to keep the number."""

    name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    phone: Phone | None = None
    languages: Annotated[list[Language], Field(min_length=1, max_length=10)] | None = None
    active: bool | None = None
    priority: Annotated[int, Field(ge=0, le=1000)] | None = None
    role: Literal["counselor", "supervisor"] | None = None


class Counselor(BaseModel):
    id: str
    name: str
    phone: str = Field(description="Masked: the last four digits.")
    languages: list[str]
    active: bool
    priority: int | None = None
    role: str = "counselor"


class ShiftIn(Strict):
    counselor: Identifier
    days: Annotated[list[Day], Field(min_length=1, max_length=7)]
    start: Clock
    end: Clock
    timezone: ZoneName | None = Field(None, description="Default: the roster's zone.")
    valid_from: date | None = None
    valid_until: date | None = None


class Shift(BaseModel):
    id: str
    counselor: str
    days: list[str]
    start: str
    end: str
    timezone: str
    valid_from: date | None = None
    valid_until: date | None = None


class OverrideIn(Strict):
    counselor: Identifier
    start: LocalTime
    end: LocalTime
    timezone: ZoneName | None = Field(None, description="Default: the roster's zone.")
    replaces: Annotated[list[Identifier], Field(max_length=50)] = []
    note: Note | None = None


class Override(BaseModel):
    id: str
    counselor: str
    start: str
    end: str
    timezone: str
    replaces: list[str] = []
    note: str | None = None


class OnCallPerson(BaseModel):
    id: str
    name: str
    languages: list[str]
    phone: str = Field(description="Masked.")
    busy: bool = Field(description="On a helpline call now: not rung for another.")


class OnCall(BaseModel):
    at: datetime
    counselors: list[OnCallPerson]


class Gap(BaseModel):
    start: datetime
    end: datetime
    requirement: str = Field(description='"overall", or a language code.')
    required: int
    available: int


# -- live calls, voicemail, callbacks ---------------------------------------------


class LiveCall(BaseModel):
    id: str
    state: Literal["waiting", "ringing", "bridged"]
    language: str
    caller: str = Field(description="Masked.")
    waited_seconds: int
    counselor: str | None = None
    talking_seconds: int | None = None


class Voicemail(BaseModel):
    id: str
    created: datetime
    duration_seconds: int
    language: str
    caller: str = Field(description="Masked.")
    recording_url: str | None = Field(None, description="Admins only.")
    status: Literal["new", "done"]
    callback: str | None = None
    urgent: str | None = Field(
        None,
        description="A message nobody may call back: the reference of the urgent work of "
        "hearing it (taken by listening, or by marking it done).",
    )


class CallbackRequest(BaseModel):
    reference: str
    created: datetime
    source: str
    language: str
    urgent: bool
    status: str
    attempts: int
    caller: str = Field(description="Masked.")
    waiting_minutes: int


class UrgentWork(BaseModel):
    reference: str = Field(
        description="The callback request's reference, a message's (VM-…) to hear, or a "
        "texter's conversation (TX-…) to take."
    )
    kind: Literal["crisis", "callback", "voicemail", "message", "conversation"]
    language: str
    waiting_minutes: int
    step: Literal["on_call", "on_call_again", "supervisors", "backup"] = Field(
        description="How far up the escalation ladder it has climbed."
    )
    reached_backup: bool


class CrisisDecisionsQuery(Strict):
    hours: Annotated[int, Field(ge=1, le=24 * 90)] = 24


class CrisisDecision(BaseModel):
    """How many readings of one kind: never the words, a number or a reference."""

    channel: Literal["sms", "voice"]
    outcome: Literal["crisis", "near", "none"]
    category: str
    stage: str
    language: str
    score: str = Field(description="The learned score to a tenth.")
    count: int


class UrgentClaim(BaseModel):
    reference: str
    claimed_by: str


class CallbackNumber(BaseModel):
    reference: str
    number: str = Field(description="In full: shown to an admin about to call back; audited.")


class StatusChange(Strict):
    status: Literal["done", "open"]


class VoicemailStatusChange(Strict):
    status: Literal["done", "new"]


# -- figures and opt-outs ----------------------------------------------------------


class DayFigures(BaseModel):
    day: date = Field(description="A local date in the line's time zone (HELPLINE_TIMEZONE).")
    offered: int
    answered: int
    abandoned: int
    unanswered: int
    answer_rate: float | None
    average_speed_of_answer_seconds: float | None
    abandonment_rate: float | None
    answered_by: dict[str, int]

    @classmethod
    def of(cls, day: figures.DayFigures) -> DayFigures:
        """The line's figures for a day, as the API (and `helpline figures --json`) give them."""
        return cls(
            day=date.fromisoformat(day.day), offered=day.offered, answered=day.answered,
            abandoned=day.abandoned, unanswered=day.unanswered, answer_rate=day.answer_rate,
            average_speed_of_answer_seconds=day.average_speed_of_answer,
            abandonment_rate=day.abandonment_rate, answered_by=dict(day.answered_by),
        )  # fmt: skip


class OptOutQuery(Strict):
    number: Phone


class OptOutAnswer(BaseModel):
    opted_out: bool


# -- audit ------------------------------------------------------------------------


class AuditEntry(BaseModel):
    id: str
    at: datetime
    who: str
    action: str
    target: str
    before: object | None = None
    after: object | None = None


# -- query strings -----------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _in_service_years(moment: datetime) -> datetime:
    # Rosters are about this century; far-off years would overflow the calendar arithmetic.
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"give a time between {FIRST_YEAR} and {LAST_YEAR}")
    return moment


Instant = Annotated[datetime, AfterValidator(_in_service_years)]


class AtQuery(Query):
    at: Instant | None = Field(None, description="An instant with its offset; default now.")


class GapsQuery(Query):
    start: Instant | None = Field(None, description="Default now.")
    days: Annotated[int, Field(ge=1, le=92)] = 14


class DaysQuery(Query):
    days: Annotated[int, Field(ge=1, le=400)] = 14


class IncludeDoneQuery(Query):
    include_done: bool = False


class ShiftsQuery(Query):
    counselor: Identifier | None = None


class LimitQuery(Query):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
