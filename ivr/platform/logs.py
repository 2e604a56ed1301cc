"""One log format for every process of the line: `helpline serve` (gunicorn's
own lines included), `helpline worker` and `helpline run`.

Production writes JSON lines, one object per line, for a log collector;
development writes readable text. `HELPLINE_LOG_FORMAT` chooses otherwise.
Each line carries what is known of the request it was logged in (its id, the
call or text it is about, as hashes only; see ivr/web/request_log.py): the request
binds it once, in a context variable, and every logger's lines pick it up.

What may be logged is in docs/privacy.md: no phone number, no message words, no
query string, no form field in clear, no token, cookie or Authorization header.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from ivr.platform.config import Settings

FORMATS = ("json", "text")

# Fields a request binds for every line logged while it runs, in output order.
CONTEXT_FIELDS = ("request_id", "call", "sms", "method", "path")
# Fields only the access line has (logged with `extra=`).
ACCESS_FIELDS = ("status", "duration_ms")

_bound: ContextVar[Mapping[str, str] | None] = ContextVar("helpline_log_fields", default=None)


def begin(**fields: str) -> None:
    """Start a request's fields afresh. gunicorn's threads serve one request
    after another: nothing of the last one may stay bound."""
    _bound.set(dict(fields))


def bind(**fields: str) -> None:
    """Add fields for the rest of the current request."""
    _bound.set({**(_bound.get() or {}), **fields})


def clear() -> None:
    _bound.set(None)


def bound() -> Mapping[str, str]:
    return _bound.get() or {}


class _Context(logging.Filter):
    """Puts the current request's fields on each record (never over a field
    the call to the logger gave itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in bound().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


# Terminal colour and cursor codes (ECMA-48 CSI sequences). RQ colours queue
# names and job descriptions whenever its stdout is a terminal; in the line's
# format they would only be escaped into noise ("\\x1b[32mhelpline…").
_TERMINAL_CODES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def message_of(record: logging.LogRecord) -> str:
    """The record's message, without terminal colour codes."""
    return _TERMINAL_CODES.sub("", record.getMessage())


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in (*CONTEXT_FIELDS, *ACCESS_FIELDS):
        value = getattr(record, key, None)
        if value is not None:
            found[key] = value
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO-8601, UTC), level, logger, message,
    then the request's fields when known, and a traceback as `exc`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": message_of(record),
            **_fields(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # ASCII only, every control character escaped: a value from a request
        # (a path with a newline in it) cannot start a line of its own.
        return json.dumps(line, ensure_ascii=True, default=str)


# Control characters in a message (a hostile path's newline) are shown
# escaped, so one record stays one line.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(32), 127)}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


_TAGS = ("request_id", "call", "sms")  # the access line's message has the rest


class TextFormatter(logging.Formatter):
    """Development: `12:00:01.234 INFO helpline.voice: call 3f2a… arrived [request_id=…]`."""

    def __init__(self) -> None:
        super().__init__(datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        clock = f"{self.formatTime(record, self.datefmt)}.{int(record.msecs):03d}"
        fields = _fields(record)
        tags = " ".join(f"{key}={fields[key]}" for key in _TAGS if key in fields)
        message = message_of(record).translate(_ESCAPES)
        text = f"{clock} {record.levelname} {record.name}: {message}"
        if tags:
            text += f" [{tags}]"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """The root logger writes every library's lines (RQ's, gunicorn's, Flask's)
    in the line's format, to standard output (where a container's logs are
    collected). Called again, it replaces its own handler and no other."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter(settings.log_format))
    handler.addFilter(_Context())
    handler.helpline = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "helpline", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("helpline").setLevel(logging.INFO)
    return handler
