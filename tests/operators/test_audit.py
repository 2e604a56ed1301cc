"""The audit log against a real Redis: entries come back newest first as they
were recorded, no phone number is ever stored in clear (not even in who), and
failed logins keep to a capped log of their own."""

from __future__ import annotations

from typing import Any, cast

import pytest
import redis

from ivr.operators import audit as audit_module
from ivr.operators.audit import LOGINS_STREAM, STREAM, AuditEntry, AuditLog
from tests.raw_replies import RawStream

NUMBER = "+12025550101"
OTHER = "+442079460958"


@pytest.fixture
def audit(redis_client: redis.Redis) -> AuditLog:
    return AuditLog(redis_client, clock=lambda: 1_800_000_000.5)


def _stored(client: redis.Redis) -> bytes:
    """Everything both streams hold, as raw bytes."""
    rows = cast(RawStream, client.xrange(STREAM)) + cast(RawStream, client.xrange(LOGINS_STREAM))
    return b"\n".join(
        b"%s %s %s" % (entry_id, key, value)
        for entry_id, fields in rows
        for key, value in fields.items()
    )


def test_an_entry_comes_back_as_recorded(audit: AuditLog) -> None:
    before = {"id": "ana", "languages": ["en"], "active": True}
    after = {"id": "ana", "languages": ["en", "es"], "active": True}
    recorded = audit.record("web:dana", "counselor.update", "ana", before, after)
    assert recorded == AuditEntry(
        id=recorded.id,
        at=1_800_000_000.5,
        who="web:dana",
        action="counselor.update",
        target="ana",
        before=before,
        after=after,
    )
    assert audit.recent() == [recorded]


def test_creations_and_removals_have_no_before_or_no_after(audit: AuditLog) -> None:
    audit.record("cli:root", "token.create", "abc", after={"name": "alice"})
    audit.record("cli:root", "token.revoke", "abc", before={"name": "alice"})
    revoked, created = audit.recent()
    assert (created.before, created.after) == (None, {"name": "alice"})
    assert (revoked.before, revoked.after) == ({"name": "alice"}, None)


def test_recent_is_newest_first_and_limited(audit: AuditLog) -> None:
    for n in range(5):
        audit.record("token:alice", "shift.add", f"shift-{n}")
    assert [e.target for e in audit.recent()] == [f"shift-{n}" for n in (4, 3, 2, 1, 0)]
    assert [e.target for e in audit.recent(limit=2)] == ["shift-4", "shift-3"]
    assert audit.recent(limit=0) == []


def test_an_empty_log_has_no_entries(audit: AuditLog) -> None:
    assert audit.recent() == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param({"phone": NUMBER}, {"phone": "…0101"}, id="phone key"),
        pytest.param({"number": NUMBER}, {"number": "…0101"}, id="number key"),
        pytest.param({"backup_number": NUMBER}, {"backup_number": "…0101"}, id="suffix"),
        pytest.param({"Phone": "202-555-0101"}, {"Phone": "…0101"}, id="not E.164 by key"),
        pytest.param(
            {"counselors": [{"id": "ana", "phone": NUMBER}, {"id": "sam", "phone": OTHER}]},
            {"counselors": [{"id": "ana", "phone": "…0101"}, {"id": "sam", "phone": "…0958"}]},
            id="deep in a list",
        ),
        pytest.param(
            {"phone": [NUMBER, OTHER]}, {"phone": ["…0101", "…0958"]}, id="a list of numbers"
        ),
        pytest.param(
            {"note": f"call {NUMBER} back"}, {"note": "call …0101 back"}, id="in free text"
        ),
        pytest.param(NUMBER, "…0101", id="bare"),
        pytest.param(
            {"id": "ana", "languages": ["en"], "active": True, "rank": 3},
            {"id": "ana", "languages": ["en"], "active": True, "rank": 3},
            id="nothing to mask",
        ),
    ],
)
def test_phone_numbers_are_masked_before_storing(
    audit: AuditLog, redis_client: redis.Redis, value: Any, shown: Any
) -> None:
    audit.record("web:dana", "counselor.update", "ana", before=value, after=value)
    [entry] = audit.recent()
    assert (entry.before, entry.after) == (shown, shown)
    stored = _stored(redis_client)
    for digits in (b"2025550101", b"2079460958", b"555-0101"):
        assert digits not in stored


def test_a_number_as_target_is_masked(audit: AuditLog, redis_client: redis.Redis) -> None:
    audit.record("token:alice", "optout.lookup", NUMBER)
    assert audit.recent()[0].target == "…0101"
    assert b"2025550101" not in _stored(redis_client)


def test_values_json_cannot_hold_are_stored_as_text(audit: AuditLog) -> None:
    from datetime import UTC, datetime

    audit.record(
        "web:dana", "override.add", "o1", after={"start": datetime(2026, 1, 2, tzinfo=UTC)}
    )
    assert audit.recent()[0].after == {"start": "2026-01-02 00:00:00+00:00"}


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        (f"web:{NUMBER}", "web:…0101"),
        (f"api:someone {OTHER} (token 0123456789ab)", "api:someone …0958 (token 0123456789ab)"),
    ],
)
def test_a_number_in_who_is_masked(
    audit: AuditLog, redis_client: redis.Redis, who: str, shown: str
) -> None:
    audit.record(who, "shift.add", "s1")
    audit.record_failed_login(who, "198.51.100.7")
    assert audit.recent()[0].who == shown
    assert audit.logins()[0].who == shown
    stored = _stored(redis_client)
    assert b"2025550101" not in stored
    assert b"2079460958" not in stored


def test_failed_logins_keep_out_of_the_change_history(audit: AuditLog) -> None:
    audit.record("web:sam", "shift.add", "s1")
    for n in range(3):
        audit.record_failed_login("web:(unknown name)", f"198.51.100.{n}")
    assert [(e.action, e.target) for e in audit.recent()] == [("shift.add", "s1")]
    assert [(e.who, e.action, e.target) for e in audit.logins()] == [
        ("web:(unknown name)", "login.failed", f"198.51.100.{n}") for n in (2, 1, 0)
    ]
    assert [e.target for e in audit.logins(limit=1)] == ["198.51.100.2"]
    assert audit.logins(limit=0) == []


def test_a_flood_of_failed_logins_rolls_out_only_failed_logins(
    audit: AuditLog, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone can fail to log in; nobody may push real changes out that way."""
    monkeypatch.setattr(audit_module, "MAX_LOGIN_ENTRIES", 100)
    audit.record("web:sam", "callback.reveal", "CB1")
    for n in range(1_000):
        audit.record_failed_login("web:(unknown name)", f"198.51.100.{n % 250}")
    assert redis_client.xlen(LOGINS_STREAM) < 300  # trimmed (approximately, by whole nodes)
    assert redis_client.xlen(STREAM) == 1
    assert audit.recent()[0].target == "CB1"
