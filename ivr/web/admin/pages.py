"""The read-mostly pages: Now, voicemail and callbacks, figures, content and
the audit log, and the few actions on them (mark done, reveal a number)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ivr.content.check import check_remembered
from ivr.platform.twilio_transport import RECORDING_SID, TransportError, open_recording
from ivr.web.admin import charts
from ivr.web.admin.diagram import content_diagram
from ivr.web.admin.guard import admin, admins_only, desk, who
from ivr.web.current import helpline

FIGURE_DAYS = (7, 14, 30, 90)
AUDIO_CHUNK = 64 * 1024
log = logging.getLogger(__name__)


@admin.get("/")
def now() -> str:
    board = desk().overview.board(desk().store.load())
    return render_template("now.html", board=board, page="now")


@admin.get("/now/panel")
def now_panel() -> str:
    """The Now page's live part, fetched again every few seconds by its script."""
    board = desk().overview.board(desk().store.load())
    return render_template("now_panel.html", board=board)


@admin.get("/jobs")
def jobs() -> str:
    """Jobs that failed for good (docs/reliability.md): which, when and why."""
    return render_template("jobs.html", page="now", failed=desk().overview.failed_jobs(200))


@admin.get("/callbacks")
def callbacks() -> str:
    overview = desk().overview
    every = overview.callbacks(include_done=True)
    return render_template(
        "callbacks.html",
        page="callbacks",
        callbacks=[c for c in every if c.status != "done"],
        voicemails=overview.voicemails(),
        done_callbacks=[c for c in every if c.status == "done"],
    )


@admin.post("/urgent/<reference>/claim")
@admins_only
def urgent_claim(reference: str) -> ResponseReturnValue:
    taken = desk().overview.claim_urgent(reference, who())
    if taken is None:
        flash(f"No urgent item {reference}.", "error")
    elif not taken:
        flash(f"{reference} was already taken by someone else.", "error")
    else:
        desk().audit.record(who(), "urgent.claim", reference, "open", "claimed")
        flash(f"{reference} is yours: call them back from Callbacks.", "ok")
    return redirect(url_for("admin.now"))


@admin.post("/callbacks/<reference>/done")
@admins_only
def callback_done(reference: str) -> ResponseReturnValue:
    changed = desk().overview.mark_callback(reference, "done", who())
    if changed is None:
        flash(f"No callback request {reference}.", "error")
    else:
        desk().audit.record(who(), "callback.status", reference, changed[0].status, "done")
        flash(f"{reference} marked done.", "ok")
    return redirect(url_for("admin.callbacks"))


@admin.post("/callbacks/<reference>/number")
@admins_only
def callback_number(reference: str) -> ResponseReturnValue:
    """The one place a caller's full number is shown: to an admin about to call."""
    number = desk().overview.callback_number(reference)
    wanted = desk().overview.callback(reference)
    if number is None or wanted is None:
        flash(f"No callback request {reference}.", "error")
        return redirect(url_for("admin.callbacks"))
    desk().audit.record(who(), "callback.reveal", reference)
    return render_template("callback_number.html", page="callbacks", wanted=wanted, number=number)


@admin.post("/voicemails/<sid>/done")
@admins_only
def voicemail_done(sid: str) -> ResponseReturnValue:
    changed = desk().overview.mark_voicemail(sid, "done", who())
    if changed is None:
        flash("No such voicemail.", "error")
    else:
        desk().audit.record(who(), "voicemail.status", sid, changed[0].status, "done")
        flash("Voicemail marked done.", "ok")
    return redirect(url_for("admin.callbacks"))


@admin.get("/voicemails/<sid>/recording")
@admins_only
def voicemail_recording(sid: str) -> ResponseReturnValue:
    """A voicemail's audio, fetched by the line from Twilio (in development,
    the emulator) with its own credentials and passed on as it comes: the
    browser never needs Twilio's media URL nor a Twilio login. Hearing a
    caller's message is written to the audit log, as seeing their number is."""
    if not RECORDING_SID.fullmatch(sid) or desk().overview.voicemail(sid) is None:
        reason = "No such voicemail: it may have been kept its full time and deleted."
        return Response(render_template("refused.html", reason=reason), status=404)
    try:
        audio = open_recording(helpline().settings, sid)
    except TransportError as error:
        log.warning("voicemail %s: the recording could not be fetched: %s", sid, error)
        reason = (
            "The recording could not be fetched from Twilio just now "
            f"({error}). Try again shortly; the message itself is safe at Twilio."
        )
        return Response(render_template("refused.html", reason=reason), status=502)
    desk().audit.record(who(), "voicemail.reveal", sid)
    desk().overview.heard(sid, who())
    kind = audio.headers.get("Content-Type", "")
    response = Response(
        audio.iter_content(AUDIO_CHUNK),
        content_type=kind if kind.startswith("audio/") else "audio/x-wav",
        direct_passthrough=True,
    )
    if audio.headers.get("Content-Length", "").isdecimal():
        response.headers["Content-Length"] = audio.headers["Content-Length"]
    response.headers["Content-Disposition"] = f'inline; filename="voicemail-{sid}.wav"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.call_on_close(audio.close)
    return response


@admin.get("/figures")
def figures() -> str:
    asked = request.args.get("days", "")
    days = next((n for n in FIGURE_DAYS if str(n) == asked), 14)
    series = desk().overview.figures(days)
    labels = [d.day[5:] for d in series]

    def percent(value: float | None) -> float | None:
        return None if value is None else round(value * 100, 1)

    by_counselor: dict[str, int] = {}
    for day in series:
        for counselor, count in day.answered_by.items():
            by_counselor[counselor] = by_counselor.get(counselor, 0) + count
    shown = {
        "answer_rate": charts.line_chart(
            "Answer rate", list(zip(labels, [percent(d.answer_rate) for d in series], strict=True)),
            "%", maximum=100,
        ),
        "speed": charts.line_chart(
            "Average speed of answer",
            list(zip(labels, [d.average_speed_of_answer for d in series], strict=True)), "s",
        ),
        "abandonment": charts.line_chart(
            "Abandonment", list(zip(labels, [percent(d.abandonment_rate) for d in series],
                                    strict=True)), "%", maximum=100,
        ),
        "by_counselor": charts.bar_chart(
            "Calls answered, by counselor", sorted(by_counselor.items()), "calls"
        ),
    }  # fmt: skip
    return render_template(
        "figures.html",
        page="figures",
        charts=shown,
        series=series,
        days=days,
        zone=desk().overview.zone_name,
        choices=FIGURE_DAYS,
        colours={"series": charts.SERIES, "missing": charts.MISSING},  # the key matches the lines
    )


@admin.get("/content")
def content() -> str:
    line = helpline()
    problems, checked_at = check_remembered(line.settings.flows_dir)
    return render_template(
        "content.html",
        page="content",
        diagram=content_diagram(line.content),
        problems=problems,
        flows_dir=line.settings.flows_dir,
        checked_at=checked_at,
    )


@admin.get("/audit")
def audit() -> str:
    entries = desk().audit.recent(200)
    logins = desk().audit.logins(50)
    return render_template(
        "audit.html", page="audit", entries=entries, logins=logins, UTC=UTC, datetime=datetime
    )
