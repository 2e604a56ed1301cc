"""The line serving the request at hand (built once, in `ivr.app.create_app`)."""

from __future__ import annotations

from flask import current_app

from ivr.line import Line


def helpline() -> Line:
    found: Line = current_app.extensions["helpline"]
    return found
