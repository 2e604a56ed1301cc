"""Everything an operator surface needs, built for one running line: the
accounts that let people in, the audit log that remembers what they changed,
the roster editor, the overview that reads the line, and the numbers blocked
from it. The API, the pages and the CLI each take a `Desk` and never build
these parts themselves."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ivr.callers.blocklist import Blocklist
from ivr.operators.accounts import Accounts, LoginThrottle
from ivr.operators.audit import AuditLog
from ivr.operators.overview import Overview
from ivr.platform.config import Settings
from ivr.roster.edit import DEFAULT_TIMEZONE, EditError, Invalid, NotFound, RosterEditor
from ivr.roster.store import RosterStore


@dataclass(frozen=True)
class Desk:
    accounts: Accounts
    throttle: LoginThrottle
    audit: AuditLog
    roster: RosterEditor
    store: RosterStore
    overview: Overview
    blocklist: Blocklist


def open_desk(client: redis.Redis, settings: Settings, store: RosterStore | None = None) -> Desk:
    store = store or RosterStore(client)
    audit = AuditLog(client)
    return Desk(
        accounts=Accounts(client),
        throttle=LoginThrottle(client),
        audit=audit,
        roster=RosterEditor(store, audit, DEFAULT_TIMEZONE),
        store=store,
        overview=Overview(
            client, settings.secret_key, settings.retention_seconds, settings.timezone
        ),
        blocklist=Blocklist(client, settings.secret_key),
    )


def edit_status(error: EditError) -> int:
    """The HTTP status an edit's refusal answers with, on the API and the pages alike."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Invalid):
        return 422
    return 409  # Conflict, and any other refusal: the roster as it is now says no
