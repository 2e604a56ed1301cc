"""The operator API's side of the desk (issue 19): open conversations (no
words, no numbers), contacts, and a contact's wrap-up. A counselor's token
sees only its own work and what is offered to it: the conversations waiting
and those it holds, the contacts it handled; a viewer's or an admin's sees
everything. A contact's note is a counselor's words about a person: only its
counselor's token or an admin's reads it (an admin's reading audited), and
lists never carry it. The contact log's CSV (issue 20) is the admin page's:
the same filter, notes only for an admin who asks, that export audited."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

from flask import Response
from pydantic import BaseModel, Field

from ivr.contacts.export import csv_lines
from ivr.contacts.log import CODES, oldest_first, primed, read_filter
from ivr.contacts.records import NOTE_MAX, OUTCOMES, Contact, WrapUp
from ivr.operators.accounts import Operator
from ivr.operators.counselor_desk import MESSAGE_MAX, DeskRefused
from ivr.web.api import schemas as s
from ivr.web.api.registry import ApiError, endpoint
from ivr.web.api.routes import api, authenticate, desk, who
from ivr.web.counselor_desk.door import counselor_desk
from ivr.web.current import helpline

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]


class Conversation(BaseModel):
    id: str
    language: str
    state: Literal["waiting", "held", "closed"]
    holder: str = Field(description="The counselor's id while held.")
    waiting_minutes: int
    crisis: bool = Field(description="A message read as a crisis that no counselor answered yet.")


class ContactOut(BaseModel):
    id: str
    channel: Literal["call", "text", "callback"]
    language: str
    started: datetime
    answered: datetime | None
    ended: datetime | None
    waited_seconds: float | None
    talked_seconds: float | None
    counselor: str
    outcome: str
    wrapup_due: bool
    wrapup_overdue: bool = Field(
        description="Due for longer than HELPLINE_WRAPUP_GRACE_SECONDS: its counselor is "
        "offered no new conversation until it is done."
    )
    dispositions: list[str]
    risk: str
    referrals: list[str]
    note: str | None = Field(None, description="Only for its counselor's token or an admin's.")


class ContactsQuery(s.Query):
    hours: Annotated[int, Field(ge=1, le=24 * 400)] | None = Field(
        None, description="Contacts that started in the last hours: 24 unless `wrapup` is "
        "asked, then every contact kept."
    )  # fmt: skip
    channel: Literal["call", "text", "callback"] | None = None
    wrapup: Literal["due", "overdue"] | None = Field(
        None, description="Only those whose wrap-up is still due, or overdue."
    )


Outcome = Literal[
    "answered", "abandoned", "voicemail", "backup_line", "conversation", "unanswered", "opted_out"
]
assert set(get_args(Outcome)) == set(OUTCOMES)
LogDay = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        examples=["2026-07-12"],
        description="A day in the line's own time zone (HELPLINE_TIMEZONE).",
    ),
]


def _log_code(name: str) -> str:
    """The log's pattern for the code field NAME, or nothing (not asked for)."""
    return f"^(?:{CODES[name].pattern})?$"


LogLanguage = Annotated[str, Field(pattern=_log_code("language"))]
LogCounselor = Annotated[str, Field(pattern=_log_code("counselor"))]
LogDisposition = Annotated[str, Field(pattern=_log_code("disposition"))]


class ContactLogQuery(s.Query):
    """The admin contact log's filter (issue 20): every field optional."""

    first: Annotated[LogDay | None, Field(alias="from")] = Field(
        None, description="The first day, in the line's zone; default: 6 days before `to`."
    )
    to: LogDay | None = Field(None, description="The last day, in the line's zone; default: today.")
    channel: Literal["call", "text", "callback"] | None = None
    language: LogLanguage = Field("", examples=["es", "pt-BR"])
    outcome: Outcome | None = None
    counselor: LogCounselor = Field("", examples=["alex", "Maria"])
    disposition: LogDisposition = Field("", examples=["emotional_support"])
    notes: bool = Field(
        False, description="Add each contact's note: an admin's token only (ignored for a "
        "viewer's), and the export audited."
    )  # fmt: skip


class WrapUpIn(s.Strict):
    dispositions: Annotated[list[Code], Field(min_length=1, max_length=20)]
    risk: Code
    referrals: Annotated[list[Code], Field(default_factory=list, max_length=20)]
    note: Annotated[str, Field(max_length=NOTE_MAX)] = ""


def _moment(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _overdue(contact: Contact, now: float) -> bool:
    """As the desk counts it (`Contacts.overdue`): due since it ended, longer than the grace."""
    grace = helpline().settings.wrapup_grace_seconds
    return contact.wrapup_due and (contact.ended or contact.started) <= now - grace


def _shown(contact: Contact, *, with_note: bool) -> ContactOut:
    return ContactOut(
        id=contact.id,
        channel=contact.channel,  # type: ignore[arg-type]
        language=contact.language,
        started=datetime.fromtimestamp(contact.started, UTC),
        answered=_moment(contact.answered),
        ended=_moment(contact.ended),
        waited_seconds=contact.waited_seconds,
        talked_seconds=contact.talked_seconds,
        counselor=contact.counselor,
        outcome=contact.outcome,
        wrapup_due=contact.wrapup_due,
        wrapup_overdue=_overdue(contact, time.time()),
        dispositions=list(contact.dispositions),
        risk=contact.risk,
        referrals=list(contact.referrals),
        note=contact.note if with_note else None,
    )


def _refused(error: DeskRefused) -> ApiError:
    if error.field:
        fields = [s.FieldError(field=error.field, message=str(error))]
        return ApiError(422, "invalid", f"{error.field}: {error}", fields)
    code = {403: "not_yours", 404: "not_found"}.get(error.status, "conflict")
    return ApiError(error.status, code, str(error))


@endpoint(api, authenticate, "GET", "/conversations", summary="Open text conversations",
          tag="desk", role="anyone", response=list[Conversation],
          scope="a counselor's, only those waiting for someone (offered to them) and those "
          "they hold.")  # fmt: skip
def conversations(operator: Operator) -> list[Conversation]:
    desk = counselor_desk()
    if operator.is_staff:
        found = desk.all_open()
    else:  # what the desk shows them: offered, then theirs; never who holds the rest
        found = desk.offered() + (desk.mine(operator.counselor) if operator.counselor else [])
    now = time.time()
    return [
        Conversation(
            id=t.id,
            language=t.language,
            state=t.state,  # type: ignore[arg-type]
            holder=t.holder,
            waiting_minutes=int(max(0.0, now - t.opened) // 60),
            crisis=t.crisis_at is not None,
        )
        for t in found
    ]


def _wanted(contact: Contact, operator: Operator, query: ContactsQuery, now: float) -> bool:
    if not (operator.is_staff or (operator.counselor and contact.counselor == operator.counselor)):
        return False  # another counselor's, or nobody's: never shown to a counselor's token
    if query.channel is not None and contact.channel != query.channel:
        return False
    if query.wrapup == "due":
        return contact.wrapup_due
    return query.wrapup != "overdue" or _overdue(contact, now)


@endpoint(api, authenticate, "GET", "/contacts", summary="Contacts that started in the last hours",
          tag="desk", role="anyone", query=ContactsQuery, response=list[ContactOut],
          scope="a counselor's, only the contacts they handled.")  # fmt: skip
def contacts(operator: Operator, query: ContactsQuery) -> list[ContactOut]:
    end = time.time()
    hours = query.hours or (None if query.wrapup else 24)
    start = end - hours * 3600 if hours else 0.0
    store = counselor_desk().contacts
    if query.wrapup and not operator.is_staff:
        # Their own list of wrap-ups due, as the desk reads it: no scan of the log.
        found = [c for c in store.wrapups_due(operator.counselor) if c.started >= start]
    else:
        found = store.between(start, end + 1)
    return [_shown(c, with_note=False) for c in found if _wanted(c, operator, query, end)]


@endpoint(api, authenticate, "GET", "/contacts.csv",
          summary="The contact log as CSV: every contact the filter matches, oldest first",
          tag="desk", query=ContactLogQuery, media_type="text/csv")  # fmt: skip
def contacts_csv(operator: Operator, query: ContactLogQuery) -> Response:
    """The admin page's export: the columns of `ivr.contacts.export`, times
    in the line's zone; no phone number ever; notes only for an admin who
    asks, audited as the page audits them. Streamed as it is read."""
    line = helpline()
    zone = line.settings.timezone
    raw = {
        name: value or ""
        for name, value in query.model_dump(by_alias=True, exclude={"notes"}).items()
    }
    asked = read_filter(raw, zone, datetime.now(ZoneInfo(zone)).date())
    if asked.errors:
        fields = [s.FieldError(field=name, message=text) for name, text in asked.errors.items()]
        raise ApiError(422, "invalid", f"check the query: {', '.join(asked.errors)}", fields)
    notes = query.notes and operator.can_change
    if notes:
        desk().audit.record(who(operator), "contacts.export_notes", asked.description())
    store = line.contacts
    found = primed(oldest_first(line.redis, store, asked.wanted))
    answer = Response(csv_lines(found, zone=zone, with_notes=notes), mimetype="text/csv")
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    answer.headers["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return answer


@endpoint(api, authenticate, "GET", "/contacts/{contact_id}", summary="One contact, with its note",
          tag="desk", role="counselor", response=ContactOut)  # fmt: skip
def contact(operator: Operator, contact_id: str) -> ContactOut:
    try:
        found = counselor_desk().contact(contact_id, operator, via="api")
    except DeskRefused as error:
        raise _refused(error) from None
    return _shown(found, with_note=True)


@endpoint(
    api, authenticate, "POST", "/contacts/{contact_id}/wrapup", summary="Complete a wrap-up",
    tag="desk", role="counselor", body=WrapUpIn, response=ContactOut,
)  # fmt: skip
def wrapup(operator: Operator, contact_id: str, body: WrapUpIn) -> ContactOut:
    wrap = WrapUp(tuple(body.dispositions), body.risk, tuple(body.referrals), body.note.strip())
    try:
        done = counselor_desk().wrap_up(contact_id, operator, wrap, via="api")
    except DeskRefused as error:
        raise _refused(error) from None
    return _shown(done, with_note=True)


class Message(BaseModel):
    seq: int
    at: datetime
    sender: str = Field(description="texter, line, or the counselor's id")
    body: str
    crisis: bool
    status: str


class ConversationDetail(Conversation):
    number: str = Field(description="Masked.")
    messages: list[Message]


class SayIn(s.Strict):
    body: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX)]


class HandIn(s.Strict):
    to: Annotated[str, Field(max_length=64)] = Field(
        "", description="A counselor on call now; empty: back to everyone on call."
    )


class MessagesQuery(s.Query):
    after: Annotated[int, Field(ge=-1, le=10**9)] = -1


def _counselor_of(operator: Operator) -> str:
    if not operator.counselor:
        raise ApiError(403, "not_a_counselor", "only a counselor on the roster does this")
    return operator.counselor


def _detail(operator: Operator, thread_id: str, after: int = -1) -> ConversationDetail:
    try:
        view = counselor_desk().view(thread_id, operator, after=after, audited=after < 0, via="api")
    except DeskRefused as error:
        raise _refused(error) from None
    t = view.thread
    return ConversationDetail(
        id=t.id,
        language=t.language,
        state=t.state,  # type: ignore[arg-type]
        holder=t.holder,
        waiting_minutes=int(max(0.0, time.time() - t.opened) // 60),
        crisis=t.crisis_at is not None,
        number=view.number,
        messages=[
            Message(
                seq=m.seq,
                at=datetime.fromtimestamp(m.at, UTC),
                sender=m.sender,
                body=m.body,
                crisis=m.crisis,
                status=m.status,
            )
            for m in view.messages
        ],
    )


@endpoint(api, authenticate, "GET", "/conversations/{thread_id}",
          summary="A conversation's messages (after a position)", tag="desk", role="counselor",
          query=MessagesQuery, response=ConversationDetail)  # fmt: skip
def conversation(operator: Operator, thread_id: str, query: MessagesQuery) -> ConversationDetail:
    return _detail(operator, thread_id, query.after)


@endpoint(api, authenticate, "POST", "/conversations/{thread_id}/take",
          summary="Take a waiting conversation: the first to take it holds it", tag="desk",
          role="counselor", response=ConversationDetail, errors=(409,))  # fmt: skip
def take(operator: Operator, thread_id: str) -> ConversationDetail:
    try:
        counselor_desk().take(thread_id, _counselor_of(operator))
    except DeskRefused as error:
        raise _refused(error) from None
    return _detail(operator, thread_id)


@endpoint(api, authenticate, "POST", "/conversations/{thread_id}/messages",
          summary="Write to the texter (sent once, through the outbox)", tag="desk",
          role="counselor", body=SayIn, response=ConversationDetail, status=201,
          errors=(409,))  # fmt: skip
def say(operator: Operator, thread_id: str, body: SayIn) -> ConversationDetail:
    try:
        seq = counselor_desk().say(thread_id, _counselor_of(operator), body.body)
    except DeskRefused as error:
        raise _refused(error) from None
    return _detail(operator, thread_id, seq - 1)


@endpoint(api, authenticate, "POST", "/conversations/{thread_id}/hand",
          summary="Hand it to another counselor on call, or back to all on call", tag="desk",
          role="counselor", body=HandIn, response=ConversationDetail, errors=(409,))  # fmt: skip
def hand(operator: Operator, thread_id: str, body: HandIn) -> ConversationDetail:
    try:
        counselor_desk().hand(thread_id, _counselor_of(operator), body.to)
    except DeskRefused as error:
        raise _refused(error) from None
    thread = counselor_desk().threads.get(thread_id)
    if thread is None:
        raise ApiError(404, "not_found", f"no conversation {thread_id}")
    return ConversationDetail(
        id=thread.id, language=thread.language, state=thread.state,  # type: ignore[arg-type]
        holder=thread.holder, waiting_minutes=0, crisis=thread.crisis_at is not None,
        number="", messages=[],
    )  # fmt: skip


@endpoint(api, authenticate, "POST", "/conversations/{thread_id}/close",
          summary="Close it: the texter is told how to come back; a wrap-up is due", tag="desk",
          role="counselor", response=ContactOut, errors=(409,))  # fmt: skip
def close(operator: Operator, thread_id: str) -> ContactOut:
    desk = counselor_desk()
    try:
        contact_id = desk.close(thread_id, _counselor_of(operator))
        return _shown(desk.contact(contact_id, operator, via="api"), with_note=True)
    except DeskRefused as error:
        raise _refused(error) from None
