"""Blocked numbers through the operator API: admins block and unblock (the
number only ever in a JSON body), viewers list them masked, every change is
audited with the number masked, and a bad field is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from flask.testing import FlaskClient

from ivr.callers.blocklist import Blocklist
from ivr.operators.audit import AuditLog
from ivr.platform.config import Settings
from ivr.web.api.registry import OPERATIONS
from tests.api.conftest import Tokens

PREFIX = "/api/v1"
NUMBER = "+12025550177"


def block(api: FlaskClient, tokens: Tokens, **body: object) -> tuple[int, dict[str, object]]:
    answer = api.post(
        PREFIX + "/blocks",
        json={"number": "(202) 555-0177", "reason": "threats", **body},
        headers=tokens.header("admin"),
    )
    return answer.status_code, answer.get_json()


def test_an_admin_blocks_a_viewer_lists_it_masked(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis, settings: Settings
) -> None:
    status, made = block(api, tokens, days=7)
    assert status == 201
    assert made["number"] == "…0177"
    assert made["reason"] == "threats"
    assert str(made["by"]).startswith("api:ada")
    assert made["crisis_texts"] == 0
    until = datetime.fromisoformat(str(made["until"]))
    assert (
        timedelta(days=7) - timedelta(seconds=10) < until - datetime.now(UTC) <= timedelta(days=7)
    )
    assert Blocklist(redis_client, settings.secret_key).is_blocked(NUMBER)
    listed = api.get(PREFIX + "/blocks", headers=tokens.header("viewer"))
    assert listed.status_code == 200
    assert [b["id"] for b in listed.get_json()] == [made["id"]]
    assert "2025550177" not in listed.get_data(as_text=True)
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.action, entry.target) == ("block.add", made["id"])
    assert entry.after["number"] == "…0177"
    assert entry.who.startswith("api:ada")


def test_until_with_an_offset_sets_the_end(api: FlaskClient, tokens: Tokens) -> None:
    when = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    status, made = block(api, tokens, until=when.astimezone().isoformat())
    assert status == 201
    assert abs(datetime.fromisoformat(str(made["until"])) - when) < timedelta(seconds=2)


def test_without_a_length_a_block_lasts_30_days(api: FlaskClient, tokens: Tokens) -> None:
    _, made = block(api, tokens)
    left = datetime.fromisoformat(str(made["until"])) - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)


def test_bad_fields_are_named_and_change_nothing(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"number": "not a number"}, "number"),
        ({"number": ""}, "number"),
        ({"reason": ""}, "reason"),
        ({"reason": " \n "}, "reason"),
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"until": "2030-01-01T00:00"}, "until"),  # no offset
        ({"until": (datetime.now(UTC) + timedelta(days=400)).isoformat()}, "until"),
        ({"until": datetime.now(UTC).isoformat(), "days": 3}, "until"),
        ({"minutes": 5}, "minutes"),
    ]
    for change, field in cases:
        status, answer = block(api, tokens, **change)
        assert status == 422, (change, answer)
        error = answer["error"]
        assert isinstance(error, dict)
        assert field in [f["field"] for f in error["fields"]], (change, error)
    assert api.get(PREFIX + "/blocks", headers=tokens.header("admin")).get_json() == []
    assert AuditLog(redis_client).recent(10) == []


def test_unblock_by_number_or_by_id(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis, settings: Settings
) -> None:
    admin = tokens.header("admin")
    _, made = block(api, tokens)
    gone = api.post(PREFIX + "/blocks/remove", json={"number": "202.555.0177"}, headers=admin)
    assert gone.status_code == 200
    assert gone.get_json()["id"] == made["id"]
    assert not Blocklist(redis_client, settings.secret_key).is_blocked(NUMBER)
    again = api.post(PREFIX + "/blocks/remove", json={"number": NUMBER}, headers=admin)
    assert again.status_code == 404
    _, made = block(api, tokens)
    by_id = api.post(PREFIX + "/blocks/remove", json={"id": made["id"]}, headers=admin)
    assert by_id.status_code == 200
    assert api.get(PREFIX + "/blocks", headers=admin).get_json() == []
    actions = [
        (e.action, e.before and e.before["number"]) for e in AuditLog(redis_client).recent(5)
    ]
    assert actions == [
        ("block.remove", "…0177"),
        ("block.add", None),
        ("block.remove", "…0177"),
        ("block.add", None),
    ]
    for body in ({}, {"number": NUMBER, "id": made["id"]}, {"number": "nope"}):
        answer = api.post(PREFIX + "/blocks/remove", json=body, headers=admin)
        assert answer.status_code == 422, body
    assert api.post(PREFIX + "/blocks/remove", json={"id": "n_x"}, headers=admin).status_code == 404


def test_a_viewer_may_list_but_not_block_or_unblock(api: FlaskClient, tokens: Tokens) -> None:
    viewer = tokens.header("viewer")
    refused = api.post(PREFIX + "/blocks", json={"number": NUMBER, "reason": "x"}, headers=viewer)
    assert refused.status_code == 403
    _, made = block(api, tokens)
    refused = api.post(PREFIX + "/blocks/remove", json={"id": made["id"]}, headers=viewer)
    assert refused.status_code == 403
    assert len(api.get(PREFIX + "/blocks", headers=viewer).get_json()) == 1


def test_no_block_operation_takes_a_number_in_its_path_or_query() -> None:
    """Paths and query strings land in access logs; bodies do not."""
    mine = [o for o in OPERATIONS if o.path.startswith("/blocks")]
    assert {(o.method, o.path) for o in mine} == {
        ("GET", "/blocks"), ("POST", "/blocks"), ("POST", "/blocks/remove"),
    }  # fmt: skip
    for operation in mine:
        assert operation.path_params == []
        assert operation.query is None
