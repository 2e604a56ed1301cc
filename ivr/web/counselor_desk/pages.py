"""The desk's pages and their live updates, polled by desk.js: the lists as
a fragment drawn by the same template as the page (put in place, no reload),
a conversation's new messages and its messages' delivery as JSON."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ivr.contacts.records import NOTE_MAX, WrapUp
from ivr.operators.counselor_desk import MESSAGE_MAX, DeskRefused
from ivr.sms.person import SETTLED
from ivr.threads.store import LINE, TEXTER, Thread, ThreadMessage
from ivr.web.counselor_desk.door import counselor_desk, desk_pages, me
from ivr.web.current import helpline

POLL_SECONDS = 1  # desk.js asks this often: a new message shows within 2 s
_SEQ = re.compile(r"-?[0-9]{1,9}")  # a message's place; anything else reads all
# The counselor's messages a page still shows on their way: at most a hundred places.
_SEQS = re.compile(r"[0-9]{1,9}(?:,[0-9]{1,9}){0,99}")
# A counselor's message, as the page says where it is (ivr/sms/person.py).
STATUS_TEXT = {
    "queued": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "not delivered",
    "undelivered": "not delivered",
    "refused": "not sent",
    "capped": "not sent: replies paused this hour",
}


def _offer(thread: Thread) -> dict[str, Any]:
    """What everyone on call sees of a waiting conversation: no number, no
    words. SINCE: when it began waiting (the page counts the minutes)."""
    return {
        "id": thread.id,
        "language": thread.language,
        "since": int(thread.opened),
        "crisis": thread.crisis_at is not None,
    }


def _delivery(message: ThreadMessage) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "status": message.status,
        "status_text": STATUS_TEXT.get(message.status, message.status),
        "settled": message.status in SETTLED,
        "trouble": message.status in ("failed", "undelivered", "refused", "capped"),
    }


def _message(message: ThreadMessage) -> dict[str, Any]:
    return {
        **_delivery(message),
        "at": time.strftime("%H:%M", time.gmtime(message.at)),
        "sender": message.sender,
        "body": message.body,
        "crisis": message.crisis,
        "counselor": message.sender not in (TEXTER, LINE),
        # Where it is, shown beside it: a counselor's words, and the line's own
        # texts that went through the outbox (the hourly cap may hold them).
        "tracked": message.sender != TEXTER and (message.sender != LINE or bool(message.part)),
    }


def _unread(thread_id: str) -> int:
    """The texter's words in a conversation its holder has not been shown:
    the desk's "N new" (an admin's lists are everyone's: no count of their own)."""
    who = me()
    return counselor_desk().unread(thread_id, who.counselor) if who.counselor else 0


def _elsewhere(thread_id: str) -> list[dict[str, Any]]:
    """The counselor's conversations but THREAD_ID, with their new words as
    the desk counts them: shown on THREAD_ID's page, so words arriving in one
    not open in front of them are not missed (an admin's: none)."""
    who = me()
    if not who.counselor:
        return []
    return [
        {
            "id": thread.id,
            "crisis": thread.crisis_at is not None,
            "unread": _unread(thread.id),
            "url": url_for("desk.thread", thread_id=thread.id),
        }
        for thread in counselor_desk().mine(who.counselor)
        if thread.id != thread_id
    ]


def _lists() -> dict[str, Any]:
    desk = counselor_desk()
    who = me()
    mine = desk.mine(who.counselor) if who.counselor else desk.all_open()
    wrapups = desk.contacts.wrapups_due(who.counselor) if who.counselor else []
    return {
        "offered": [_offer(thread) for thread in desk.offered()],
        "mine": [
            {
                **_offer(thread),
                "state": thread.state,
                "holder": thread.holder,
                "unread": _unread(thread.id),
            }
            for thread in mine
        ],
        "wrapups": [{"id": c.id, "channel": c.channel, "outcome": c.outcome} for c in wrapups],
        "overdue": desk.overdue_wrapups(who.counselor) if who.counselor else 0,
        "held_back": desk.held_back(who.counselor) if who.counselor else False,
        "urgent": [
            {
                "id": item.reference,
                "kind": item.kind,
                "language": item.language,
                "since": int(item.opened),
                "step": item.step_name,
            }
            for item in desk.urgent_offered()
        ],
    }


def _versioned(lists: dict[str, Any]) -> dict[str, Any]:
    """The lists with a digest of themselves: the page carries the one it was
    drawn from, and desk.js puts the lists in place again when the server's
    differs (a texter who arrived while the page loaded is not missed). The
    minutes waited are counted by the page, so a wait alone changes nothing."""
    digest = hashlib.sha256(json.dumps(lists, sort_keys=True).encode()).hexdigest()[:16]
    return {**lists, "version": digest}


def _minutes_since(since: float, now: float) -> int:
    return int(max(0.0, now - since) // 60)


def _draw(template: str, lists: dict[str, Any], **extra: Any) -> str:
    now = int(time.time())
    return render_template(
        template, lists=lists, me=me(), now=now, minutes_since=_minutes_since, **extra
    )


@desk_pages.get("/")
def index() -> ResponseReturnValue:
    return _draw("desk.html", _versioned(_lists()), poll=POLL_SECONDS)


@desk_pages.get("/lists")
def lists() -> ResponseReturnValue:
    """The lists as the page draws them (the same template), for desk.js to
    put in place; nothing (204) while they are those of the page's version
    SINCE."""
    drawn = _versioned(_lists())
    if request.args.get("since") == drawn["version"]:
        return Response(status=204)
    return _draw("desk_lists.html", drawn)


def _refused(error: DeskRefused) -> ResponseReturnValue:
    return Response(render_template("refused.html", reason=str(error)), status=error.status)


@desk_pages.post("/threads/<thread_id>/take")
def take(thread_id: str) -> ResponseReturnValue:
    who = me()
    if not who.counselor:
        return _refused(
            DeskRefused("only a counselor on the roster takes a conversation", status=403)
        )
    try:
        counselor_desk().take(thread_id, who.counselor)
    except DeskRefused as error:
        return _refused(error)
    return redirect(url_for("desk.thread", thread_id=thread_id))


def _thread_page(
    thread_id: str, *, error: str = "", draft: str = "", status: int = 200
) -> ResponseReturnValue:
    try:
        view = counselor_desk().view(thread_id, me())
    except DeskRefused as refused:
        return _refused(refused)
    page = render_template(
        "thread.html",
        view=view,
        messages=[_message(m) for m in view.messages],
        me=me(),
        others=counselor_desk().others_on_call(me().counselor),
        elsewhere=_elsewhere(thread_id),
        error=error,
        draft=draft,
        message_max=MESSAGE_MAX,
        poll=POLL_SECONDS,
    )
    return Response(page, status=status)


@desk_pages.get("/threads/<thread_id>")
def thread(thread_id: str) -> ResponseReturnValue:
    return _thread_page(thread_id)


@desk_pages.get("/threads/<thread_id>/updates")
def updates(thread_id: str) -> ResponseReturnValue:
    """The messages after AFTER, and where those of PENDING (the counselor's
    messages the page shows still on their way) are now; the counselor's other
    conversations with their new words. SEEN=0: the page is hidden, so what it
    fetches is still new to them (anything else: shown)."""
    after = request.args.get("after", "-1")
    seq = int(after) if _SEQ.fullmatch(after) else -1
    pending = request.args.get("pending", "")
    watched = [int(place) for place in pending.split(",")] if _SEQS.fullmatch(pending) else []
    shown = request.args.get("seen") != "0"
    desk = counselor_desk()
    try:
        # The page's own view was audited and its updates continue it; a read
        # of the whole thread from here is a view of its own.
        view = desk.view(thread_id, me(), after=max(seq, -1), audited=seq < 0, mark_seen=shown)
        delivery = desk.delivery(thread_id, me(), (s for s in watched if s <= seq))
    except DeskRefused as refused:
        return jsonify({"error": str(refused)}), refused.status
    thread = view.thread
    return jsonify(
        {
            "state": thread.state,
            "holder": thread.holder,
            "crisis": thread.crisis_at is not None,
            "messages": [_message(m) for m in view.messages],
            "delivery": [_delivery(m) for m in delivery if _message(m)["tracked"]],
            "elsewhere": _elsewhere(thread_id),
        }
    )


@desk_pages.post("/threads/<thread_id>/say")
def say(thread_id: str) -> ResponseReturnValue:
    body = request.form.get("body", "")
    try:
        counselor_desk().say(thread_id, me().counselor, body)
    except DeskRefused as error:
        if error.field:
            return _thread_page(
                thread_id, error=str(error), draft=body[: MESSAGE_MAX * 2], status=error.status
            )
        return _refused(error)
    return redirect(url_for("desk.thread", thread_id=thread_id))


@desk_pages.post("/threads/<thread_id>/hand")
def hand(thread_id: str) -> ResponseReturnValue:
    to = request.form.get("to", "")
    try:
        counselor_desk().hand(thread_id, me().counselor, to)
    except DeskRefused as error:
        if error.field:
            return _thread_page(thread_id, error=str(error), status=error.status)
        return _refused(error)
    flash("Handed on." if to else "Given back to those on call.", "ok")
    return redirect(url_for("desk.index"))


@desk_pages.post("/threads/<thread_id>/close")
def close(thread_id: str) -> ResponseReturnValue:
    try:
        counselor_desk().close(thread_id, me().counselor)
    except DeskRefused as error:
        return _refused(error)
    flash("Closed. Its wrap-up is due.", "ok")
    return redirect(url_for("desk.index"))


def _wrapup_page(
    contact_id: str, *, error: str = "", field_name: str = "", form: Any = None, status: int = 200
) -> ResponseReturnValue:
    try:
        contact = counselor_desk().contact(contact_id, me())
    except DeskRefused as refused:
        return _refused(refused)
    wrapup = helpline().content.wrapup
    language = "es" if request.args.get("lang") == "es" else "en"
    chosen = {
        "dispositions": set(form.getlist("dispositions")) if form else set(contact.dispositions),
        "risk": form.get("risk", "") if form else contact.risk,
        "referrals": set(form.getlist("referrals")) if form else set(contact.referrals),
        "note": form.get("note", "") if form else contact.note,
    }
    page = render_template(
        "wrapup.html",
        contact=contact,
        dispositions=[(c, p.text(language)) for c, p in wrapup.dispositions.items()],
        risks=[(c, p.text(language)) for c, p in wrapup.risks],
        referrals=[(c, p.text(language)) for c, p in wrapup.referrals.items()],
        chosen=chosen,
        error=error,
        field=field_name,
        me=me(),
        note_max=NOTE_MAX,
    )
    return Response(page, status=status)


@desk_pages.get("/contacts/<contact_id>")
def wrapup(contact_id: str) -> ResponseReturnValue:
    return _wrapup_page(contact_id)


@desk_pages.post("/contacts/<contact_id>")
def wrapup_save(contact_id: str) -> ResponseReturnValue:
    form = request.form
    wrap = WrapUp(
        dispositions=tuple(form.getlist("dispositions")),
        risk=form.get("risk", ""),
        referrals=tuple(form.getlist("referrals")),
        note=form.get("note", "").strip(),
    )
    try:
        counselor_desk().wrap_up(contact_id, me(), wrap)
    except DeskRefused as error:
        if error.field:
            return _wrapup_page(
                contact_id, error=str(error), field_name=error.field, form=form, status=error.status
            )
        return _refused(error)
    flash("Wrap-up saved.", "ok")
    return redirect(url_for("desk.index"))


@desk_pages.post("/urgent/<reference>/call-me")
def urgent_call_me(reference: str) -> ResponseReturnValue:
    who = me()
    if not who.counselor:
        return _refused(DeskRefused("only a counselor on the roster takes urgent work", status=403))
    try:
        what = counselor_desk().call_to_take(reference, who.counselor)
    except DeskRefused as error:
        return _refused(error)
    flash(f"{reference}: {what}. Press 1 when your phone rings.", "ok")
    return redirect(url_for("desk.index"))
