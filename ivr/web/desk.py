"""The operators' desk for the line serving this request (ivr.operators.desk)."""

from __future__ import annotations

from flask import g

from ivr.operators.desk import Desk, open_desk
from ivr.web.current import helpline


def request_desk() -> Desk:
    """The desk for the line serving this request, built once per request."""
    if "desk" not in g:
        line = helpline()
        g.desk = open_desk(line.redis, line.settings, line.roster)
    found: Desk = g.desk
    return found
