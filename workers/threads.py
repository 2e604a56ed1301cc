"""The deadlines of text conversations with a counselor (ivr/threads/store.py),
run when the worker's sweeper finds them due:

- a crisis message the holding counselor has not answered in time gets the
  automatic crisis reply (911/988) anyway;
- a texter silent too long gets a closing text saying how to reach someone
  again, and the conversation closes;
- a counselor's message the desk's process never handed to the outbox (it
  died in between) is sent now, once.
"""

from __future__ import annotations

import logging
import time

from ivr.content.render import reply_texts
from ivr.line import Line
from ivr.sms.person import deliver
from ivr.threads.contact import record_conversation
from ivr.threads.store import Thread
from workers.context import job_line

log = logging.getLogger("helpline.jobs.threads")


def _line_says(
    line: Line, thread: Thread, number: str, role: str, cause: str
) -> tuple[list[str], str]:
    """The line's own text of ROLE to the texter, in their language, through
    the outbox: sent once per CAUSE. Its bodies, and the batch carrying them."""
    bodies = reply_texts(line.content, role, thread.language)
    batch_id = line.outbox.send(number, bodies, cause=cause, kind=role, language=thread.language)
    return bodies, batch_id


def answer_unanswered_crisis(thread_id: str) -> str:
    line = job_line()
    threads = line.threads
    thread = threads.get(thread_id)
    number = threads.number_of(thread_id)
    if thread is None or not thread.is_open or thread.crisis_at is None or not number:
        threads.crisis_answered(thread_id)
        return "answered, or closed"
    # One reply per crisis message: a later one gets its own.
    bodies, batch_id = _line_says(
        line, thread, number, "crisis", f"thread-crisis:{thread_id}:{thread.crisis_seq}"
    )
    if threads.crisis_answered(thread_id):  # a job run twice notes it once
        threads.note_line_texts(thread_id, bodies, batch_id)
    log.warning("conversation %s: a crisis message went unanswered; crisis reply sent", thread_id)
    return "crisis reply sent"


def close_quiet_conversation(thread_id: str) -> str:
    line = job_line()
    threads = line.threads
    thread = threads.get(thread_id)
    number = threads.number_of(thread_id)
    if thread is None or not thread.is_open or not number:
        return "closed already"
    if thread.state == "waiting":
        # Nobody has taken it yet, and the texter was told a counselor would
        # write: not closed for silence; the ladder keeps looking.
        threads.quiet_again(thread_id)
        return "still waiting for a counselor"
    if thread_id not in threads.quiet_due(time.time() + 1):
        return "the texter wrote meanwhile"
    bodies, batch_id = _line_says(
        line, thread, number, "thread_closed", f"thread-closed:{thread_id}"
    )
    threads.note_line_texts(thread_id, bodies, batch_id)
    if threads.close(thread_id, "line", "texter silent"):
        record_conversation(line.contacts, thread)
    log.info("conversation %s: the texter was silent; closed", thread_id)
    return "closed"


def send_conversation_message(thread_id: str, seq: int) -> str:
    line = job_line()
    status = deliver(line.threads, line.outbox, thread_id, seq)
    if status != "sent":
        line.threads.mark(thread_id, seq, status if status != "gone" else "refused")
    return status
