"""The operator API's operations. Each reads or changes the line through the
`Desk`; none touches Redis keys itself. Changes are admin-only and audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from ivr.crisis.decisions import Decisions
from ivr.operators.accounts import Operator
from ivr.operators.desk import edit_status
from ivr.operators.overview import OptOutLookupError
from ivr.platform.privacy import mask
from ivr.roster.edit import EditError, Invalid
from ivr.roster.oncall import coverage_gaps
from ivr.web.api import schemas as s
from ivr.web.api.registry import ApiError, Handler, endpoint, openapi_document
from ivr.web.current import helpline
from ivr.web.desk import request_desk

PREFIX = "/api/v1"
VERSION = "1.0.0"
api = Blueprint("api", __name__, url_prefix=PREFIX)


desk = request_desk


def authenticate(role: str) -> Operator:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "no_token", "send Authorization: Bearer <token> (`helpline token create NAME`)"
        )
    operator = desk().accounts.verify_token(token.strip())
    if operator is None:
        raise ApiError(401, "bad_token", "that token is not valid: mistyped, or revoked")
    if role == "anyone":
        return operator
    if role == "counselor":
        if not (operator.counselor or operator.can_change):
            raise ApiError(403, "not_a_counselor", "a counselor's token (or an admin's) does this")
        return operator
    if not operator.is_staff:
        raise ApiError(403, "counselor", "a counselor's token reaches only the desk's operations")
    if role == "admin" and not operator.can_change:
        raise ApiError(403, "read_only", "this token may read but not change anything")
    return operator


def who(operator: Operator) -> str:
    return f"api:{operator.audit_name}"


def _route(method: str, path: str, **options: Any) -> Callable[[Handler], Handler]:
    return endpoint(api, authenticate, method, path, **options)


def _editing(action: Any, *args: Any) -> Any:
    """Run a roster edit, turning its refusals into API errors."""
    try:
        return action(*args)
    except EditError as error:
        status = edit_status(error)
        fields = [
            s.FieldError(field=p.field, message=p.message)
            for p in (error.problems if isinstance(error, Invalid) else [])
        ]
        code = {404: "not_found", 422: "invalid"}.get(status, "conflict")
        raise ApiError(status, code, str(error), fields) from None


@api.get("/openapi.json")
def openapi() -> Response:
    """No auth: the document describes, it does not reveal."""
    return jsonify(openapi_document(PREFIX, VERSION))


# -- who am I ---------------------------------------------------------------------


@_route("GET", "/me", summary="The operator this token belongs to", tag="auth", response=s.Me)
def me(operator: Operator) -> s.Me:
    return s.Me(name=operator.name, role=operator.role)  # type: ignore[arg-type]


# -- counselors --------------------------------------------------------------------


def _counselor(data: dict[str, Any]) -> s.Counselor:
    return s.Counselor(
        id=data["id"],
        name=data["name"],
        phone=mask(data["phone"]),
        languages=list(data["languages"]),
        active=data.get("active", True),
        priority=data.get("priority"),
    )


@_route("GET", "/counselors", summary="Every counselor", tag="roster", response=list[s.Counselor])
def list_counselors(operator: Operator) -> list[s.Counselor]:
    return [_counselor(c) for c in desk().roster.counselors()]


@_route(
    "POST", "/counselors", summary="Add a counselor", tag="roster", role="admin",
    body=s.CounselorIn, response=s.Counselor, status=201, errors=(409,),
)  # fmt: skip
def add_counselor(operator: Operator, body: s.CounselorIn) -> s.Counselor:
    data = body.model_dump(mode="json")
    return _counselor(_editing(desk().roster.add_counselor, data, who(operator)))


@_route("GET", "/counselors/{counselor_id}", summary="One counselor", tag="roster",
        response=s.Counselor)  # fmt: skip
def get_counselor(operator: Operator, counselor_id: str) -> s.Counselor:
    return _counselor(_editing(desk().roster.counselor, counselor_id))


@_route(
    "PATCH", "/counselors/{counselor_id}", summary="Change a counselor", tag="roster",
    role="admin", body=s.CounselorPatch, response=s.Counselor, errors=(409,),
)  # fmt: skip
def change_counselor(operator: Operator, counselor_id: str, body: s.CounselorPatch) -> s.Counselor:
    # Only the fields given: the editor merges them into the counselor as it is
    # at save time, so a change someone else made to another field survives.
    given = body.model_dump(exclude_unset=True, mode="json")
    return _counselor(_editing(desk().roster.update_counselor, counselor_id, given, who(operator)))


@_route(
    "DELETE", "/counselors/{counselor_id}", summary="Remove a counselor with no shifts left",
    tag="roster", role="admin", errors=(409,),
)  # fmt: skip
def remove_counselor(operator: Operator, counselor_id: str) -> None:
    _editing(desk().roster.remove_counselor, counselor_id, who(operator))


# -- shifts -------------------------------------------------------------------------


@_route("GET", "/shifts", summary="Weekly shifts", tag="roster", query=s.ShiftsQuery,
        response=list[s.Shift], errors=(404,))  # fmt: skip
def list_shifts(operator: Operator, query: s.ShiftsQuery) -> list[s.Shift]:
    return [_shift(x) for x in _editing(desk().roster.shifts, query.counselor)]


def _shift(data: dict[str, Any]) -> s.Shift:
    return s.Shift.model_validate({"timezone": desk().roster.timezone(), **data})


def _override(data: dict[str, Any]) -> s.Override:
    return s.Override.model_validate({"timezone": desk().roster.timezone(), **data})


def _shift_data(body: s.ShiftIn) -> dict[str, Any]:
    return body.model_dump(mode="json")  # None clears an optional field


@_route(
    "POST", "/shifts", summary="Add a weekly shift", tag="roster", role="admin",
    body=s.ShiftIn, response=s.Shift, status=201, errors=(409,),
)  # fmt: skip
def add_shift(operator: Operator, body: s.ShiftIn) -> s.Shift:
    return _shift(_editing(desk().roster.add_shift, _shift_data(body), who(operator)))


@_route("GET", "/shifts/{shift_id}", summary="One shift", tag="roster", response=s.Shift)
def get_shift(operator: Operator, shift_id: str) -> s.Shift:
    return _shift(_editing(desk().roster.shift, shift_id))


@_route(
    "PUT", "/shifts/{shift_id}", summary="Replace a shift", tag="roster", role="admin",
    body=s.ShiftIn, response=s.Shift, errors=(409,),
)  # fmt: skip
def replace_shift(operator: Operator, shift_id: str, body: s.ShiftIn) -> s.Shift:
    return _shift(_editing(desk().roster.update_shift, shift_id, _shift_data(body), who(operator)))


@_route("DELETE", "/shifts/{shift_id}", summary="Remove a shift", tag="roster", role="admin",
        errors=(409,))  # fmt: skip
def remove_shift(operator: Operator, shift_id: str) -> None:
    _editing(desk().roster.remove_shift, shift_id, who(operator))


# -- overrides ------------------------------------------------------------------------


@_route("GET", "/overrides", summary="Dated overrides", tag="roster", response=list[s.Override])
def list_overrides(operator: Operator) -> list[s.Override]:
    return [_override(x) for x in desk().roster.overrides()]


@_route(
    "POST", "/overrides", summary="Add an override", tag="roster", role="admin",
    body=s.OverrideIn, response=s.Override, status=201, errors=(409,),
)  # fmt: skip
def add_override(operator: Operator, body: s.OverrideIn) -> s.Override:
    data = body.model_dump(mode="json")
    return _override(_editing(desk().roster.add_override, data, who(operator)))


@_route("GET", "/overrides/{override_id}", summary="One override", tag="roster",
        response=s.Override)  # fmt: skip
def get_override(operator: Operator, override_id: str) -> s.Override:
    return _override(_editing(desk().roster.override, override_id))


@_route(
    "PUT", "/overrides/{override_id}", summary="Replace an override", tag="roster",
    role="admin", body=s.OverrideIn, response=s.Override, errors=(409,),
)  # fmt: skip
def replace_override(operator: Operator, override_id: str, body: s.OverrideIn) -> s.Override:
    data = body.model_dump(mode="json")
    return _override(_editing(desk().roster.update_override, override_id, data, who(operator)))


@_route("DELETE", "/overrides/{override_id}", summary="Remove an override", tag="roster",
        role="admin", errors=(409,))  # fmt: skip
def remove_override(operator: Operator, override_id: str) -> None:
    _editing(desk().roster.remove_override, override_id, who(operator))


# -- on call and gaps ---------------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        raise ApiError(
            422, "invalid", "give the time with its offset", [
                s.FieldError(field="at", message="needs an offset, e.g. 2026-11-01T01:30-04:00")
            ],
        )  # fmt: skip
    return moment


@_route("GET", "/oncall", summary="Who is on call, now or at a time", tag="roster",
        query=s.AtQuery, response=s.OnCall)  # fmt: skip
def on_call(operator: Operator, query: s.AtQuery) -> s.OnCall:
    at = _aware(query.at)
    people = desk().overview.on_call(desk().store.load(), at)
    return s.OnCall(at=at, counselors=[s.OnCallPerson.model_validate(vars(p)) for p in people])


@_route("GET", "/gaps", summary="Intervals short of cover", tag="roster", query=s.GapsQuery,
        response=list[s.Gap])  # fmt: skip
def gaps(operator: Operator, query: s.GapsQuery) -> list[s.Gap]:
    roster = desk().store.load()
    if roster is None:
        return []
    found = coverage_gaps(roster, _aware(query.start), query.days)
    return [
        s.Gap(start=g.start, end=g.end, requirement=g.requirement, required=g.required,
              available=g.available)
        for g in found
    ]  # fmt: skip


# -- live calls, voicemail, callbacks ---------------------------------------------------------


@_route("GET", "/calls", summary="Callers waiting and calls in progress", tag="calls",
        response=list[s.LiveCall])  # fmt: skip
def live_calls(operator: Operator) -> list[s.LiveCall]:
    return [s.LiveCall.model_validate(vars(c)) for c in desk().overview.live_calls()]


@_route("GET", "/voicemails", summary="Voicemails, newest first", tag="calls",
        query=s.IncludeDoneQuery, response=list[s.Voicemail])  # fmt: skip
def voicemails(operator: Operator, query: s.IncludeDoneQuery) -> list[s.Voicemail]:
    found = desk().overview.voicemails(include_done=query.include_done)
    return [_voicemail(v, operator) for v in found]


@_route(
    "POST", "/voicemails/{voicemail_id}/status", summary="Mark a voicemail done (or new again)",
    tag="calls", role="admin", body=s.VoicemailStatusChange, response=s.Voicemail,
)  # fmt: skip
def mark_voicemail(
    operator: Operator, voicemail_id: str, body: s.VoicemailStatusChange
) -> s.Voicemail:
    changed = desk().overview.mark_voicemail(voicemail_id, body.status, who(operator))
    if changed is None:
        raise ApiError(404, "not_found", f"no voicemail {voicemail_id}")
    before, after = changed
    desk().audit.record(
        who(operator), "voicemail.status", voicemail_id, before.status, after.status
    )
    return _voicemail(after, operator)


def _voicemail(voicemail: Any, operator: Operator) -> s.Voicemail:
    """A caller's own voice is for admins: Twilio's media links often play
    without a login, so a viewer gets the record without the link."""
    shown = s.Voicemail.model_validate(vars(voicemail))
    return shown if operator.can_change else shown.model_copy(update={"recording_url": None})


@_route("GET", "/crisis/decisions", summary="How texts and speech were read for a crisis",
        tag="calls", query=s.CrisisDecisionsQuery, response=list[s.CrisisDecision])  # fmt: skip
def crisis_decisions(operator: Operator, query: s.CrisisDecisionsQuery) -> list[s.CrisisDecision]:
    line = helpline()
    counts = Decisions(line.redis, line.settings.retention_seconds).counts(query.hours)
    rows = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].field()))
    return [s.CrisisDecision.model_validate({**vars(d), "count": n}) for d, n in rows]


@_route("GET", "/urgent", summary="Urgent work not yet taken, oldest first", tag="calls",
        response=list[s.UrgentWork])  # fmt: skip
def urgent(operator: Operator) -> list[s.UrgentWork]:
    return [s.UrgentWork.model_validate(vars(w)) for w in desk().overview.urgent()]


@_route(
    "POST", "/urgent/{reference}/claim", summary="Take urgent work: its escalation stops",
    tag="calls", role="admin", response=s.UrgentClaim,
)  # fmt: skip
def claim_urgent(operator: Operator, reference: str) -> s.UrgentClaim:
    taken = desk().overview.claim_urgent(reference, who(operator))
    if taken is None:
        raise ApiError(404, "not_found", f"no urgent item {reference}")
    if not taken:
        raise ApiError(409, "conflict", f"{reference} was already taken")
    desk().audit.record(who(operator), "urgent.claim", reference, "open", "claimed")
    return s.UrgentClaim(reference=reference, claimed_by=who(operator))


@_route("GET", "/callbacks", summary="Callback requests, urgent and oldest first", tag="calls",
        query=s.IncludeDoneQuery, response=list[s.CallbackRequest])  # fmt: skip
def callbacks(operator: Operator, query: s.IncludeDoneQuery) -> list[s.CallbackRequest]:
    found = desk().overview.callbacks(include_done=query.include_done)
    return [s.CallbackRequest.model_validate(vars(c)) for c in found]


@_route("GET", "/callbacks/{reference}", summary="One callback request", tag="calls",
        response=s.CallbackRequest)  # fmt: skip
def callback(operator: Operator, reference: str) -> s.CallbackRequest:
    found = desk().overview.callback(reference)
    if found is None:
        raise ApiError(404, "not_found", f"no callback request {reference}")
    return s.CallbackRequest.model_validate(vars(found))


@_route(
    "POST", "/callbacks/{reference}/status", summary="Mark a callback done (or open again)",
    tag="calls", role="admin", body=s.StatusChange, response=s.CallbackRequest,
)  # fmt: skip
def mark_callback(operator: Operator, reference: str, body: s.StatusChange) -> s.CallbackRequest:
    changed = desk().overview.mark_callback(reference, body.status, who(operator))
    if changed is None:
        raise ApiError(404, "not_found", f"no callback request {reference}")
    before, after = changed
    desk().audit.record(who(operator), "callback.status", reference, before.status, after.status)
    return s.CallbackRequest.model_validate(vars(after))


@_route(
    "POST", "/callbacks/{reference}/number", summary="The caller's full number, to call back",
    tag="calls", role="admin", response=s.CallbackNumber,
)  # fmt: skip
def callback_number(operator: Operator, reference: str) -> s.CallbackNumber:
    number = desk().overview.callback_number(reference)
    if number is None:
        raise ApiError(404, "not_found", f"no callback request {reference}")
    desk().audit.record(who(operator), "callback.reveal", reference)
    return s.CallbackNumber(reference=reference, number=number)


# -- figures, opt-outs, audit ------------------------------------------------------------


@_route("GET", "/figures",
        summary="Answer rate, speed of answer, abandonment by day (the line's time zone)",
        tag="figures", query=s.DaysQuery, response=list[s.DayFigures])  # fmt: skip
def figures(operator: Operator, query: s.DaysQuery) -> list[s.DayFigures]:
    return [s.DayFigures.of(day) for day in desk().overview.figures(query.days)]


@_route(
    "POST", "/optouts/lookup", summary="Has this number opted out? (matched by hash)",
    tag="texts", role="admin", body=s.OptOutQuery, response=s.OptOutAnswer,
)  # fmt: skip
def opt_out_lookup(operator: Operator, body: s.OptOutQuery) -> s.OptOutAnswer:
    try:
        opted_out = desk().overview.opted_out(body.number)
    except OptOutLookupError as error:
        raise ApiError(
            422, "invalid", str(error), [s.FieldError(field="number", message=str(error))]
        ) from None
    desk().audit.record(who(operator), "optout.lookup", mask(body.number))
    return s.OptOutAnswer(opted_out=opted_out)


@_route("GET", "/audit", summary="What operators changed, newest first", tag="audit",
        query=s.LimitQuery, response=list[s.AuditEntry])  # fmt: skip
def audit(operator: Operator, query: s.LimitQuery) -> list[s.AuditEntry]:
    return [
        s.AuditEntry(
            id=e.id, at=datetime.fromtimestamp(e.at, UTC), who=e.who, action=e.action,
            target=e.target, before=e.before, after=e.after,
        )
        for e in desk().audit.recent(query.limit)
    ]  # fmt: skip
