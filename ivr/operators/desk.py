"""Everything an operator surface needs, built for one running line: the
accounts that let people in, the audit log that remembers what they changed,
the roster editor, and the overview that reads the line. The API, the pages
and the CLI each take a `Desk` and never build these parts themselves."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ivr.config import Settings
from ivr.operators.accounts import Accounts, LoginThrottle
from ivr.operators.audit import AuditLog
from ivr.operators.overview import Overview
from ivr.roster.edit import RosterEditor
from ivr.roster.store import RosterStore

DEFAULT_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class Desk:
    accounts: Accounts
    throttle: LoginThrottle
    audit: AuditLog
    roster: RosterEditor
    store: RosterStore
    overview: Overview


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
            client,
            settings.secret_key,
            settings.retention_days * 86400,
            settings.call_state_ttl_seconds,
        ),
    )
