"""The roster through the API: add, change and remove counselors, shifts and
overrides; refusals name the field; on call and gaps follow; each change is
in the audit log with who made it and what it was before and after."""

from __future__ import annotations

import redis
from flask.testing import FlaskClient

from ivr.operators.audit import AuditLog
from ivr.platform.config import Settings
from tests.api.conftest import Tokens

PREFIX = "/api/v1"
MARIA = {"id": "maria", "name": "María López", "phone": "+12025550101", "languages": ["en", "es"]}


def test_add_change_and_remove_a_counselor(api: FlaskClient, tokens: Tokens) -> None:
    admin = tokens.header("admin")
    added = api.post(PREFIX + "/counselors", json=MARIA, headers=admin)
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["phone"] == "…0101"  # never the full number back
    assert api.get(PREFIX + "/counselors/maria", headers=admin).get_json()["name"] == "María López"
    changed = api.patch(PREFIX + "/counselors/maria", json={"languages": ["es"]}, headers=admin)
    assert changed.status_code == 200
    assert changed.get_json()["languages"] == ["es"]
    assert changed.get_json()["phone"] == "…0101"  # kept when not given
    assert api.delete(PREFIX + "/counselors/maria", headers=admin).status_code == 204
    assert api.get(PREFIX + "/counselors/maria", headers=admin).status_code == 404


def test_a_number_written_as_dialled_is_kept_in_e164(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    from ivr.roster.store import RosterStore

    admin = tokens.header("admin")
    added = api.post(
        PREFIX + "/counselors", json={**MARIA, "phone": "(202) 555-0101"}, headers=admin
    )
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["phone"] == "…0101"
    changed = api.patch(
        PREFIX + "/counselors/maria", json={"phone": "+1 202 555 0109"}, headers=admin
    )
    assert changed.status_code == 200, changed.get_json()
    roster = RosterStore(redis_client).load()
    assert roster is not None
    assert roster.by_id["maria"].phone == "+12025550109"
    refused = api.patch(PREFIX + "/counselors/maria", json={"phone": "555-0109"}, headers=admin)
    assert refused.status_code == 422
    [problem] = refused.get_json()["error"]["fields"]
    assert problem["field"] == "phone"
    assert "(202) 555-0101" in problem["message"]  # how to write it, said beside the field


def test_refusals_name_the_field(api: FlaskClient, tokens: Tokens) -> None:
    admin = tokens.header("admin")
    bad_phone = api.post(PREFIX + "/counselors", json={**MARIA, "phone": "555"}, headers=admin)
    assert bad_phone.status_code == 422
    assert "phone" in [f["field"] for f in bad_phone.get_json()["error"]["fields"]]
    bad_shift = {"counselor": "alex", "days": ["mon"], "start": "25:00", "end": "06:00"}
    answer = api.post(PREFIX + "/shifts", json=bad_shift, headers=admin)
    assert answer.status_code == 422
    assert [f["field"] for f in answer.get_json()["error"]["fields"]] == ["start"]
    zone = {"counselor": "alex", "days": ["mon"], "start": "22:00", "end": "06:00",
            "timezone": "Mars/Olympus"}  # fmt: skip
    answer = api.post(PREFIX + "/shifts", json=zone, headers=admin)
    assert answer.status_code == 422
    assert "timezone" in [f["field"] for f in answer.get_json()["error"]["fields"]]
    nobody = {"counselor": "nobody", "days": ["mon"], "start": "22:00", "end": "06:00"}
    answer = api.post(PREFIX + "/shifts", json=nobody, headers=admin)
    assert answer.status_code == 422
    assert "counselor" in [f["field"] for f in answer.get_json()["error"]["fields"]]
    duplicate = api.post(PREFIX + "/counselors", json={**MARIA, "id": "alex"}, headers=admin)
    assert duplicate.status_code in (409, 422)
    not_json = api.post(PREFIX + "/counselors", data="id=maria", headers=admin)
    assert not_json.status_code == 400


def test_a_counselor_with_shifts_is_not_removed(api: FlaskClient, tokens: Tokens) -> None:
    answer = api.delete(PREFIX + "/counselors/alex", headers=tokens.header("admin"))
    assert answer.status_code == 409
    assert "shift" in answer.get_json()["error"]["message"]


def test_shifts_and_overrides_change_who_is_on_call(
    api: FlaskClient,
    tokens: Tokens,
) -> None:
    admin = tokens.header("admin")
    api.post(PREFIX + "/counselors", json=MARIA, headers=admin)
    at = "2026-12-01T23:00:00-05:00"  # a Tuesday night in New York
    before = api.get(PREFIX + "/oncall", query_string={"at": at}, headers=admin).get_json()
    assert "maria" not in [c["id"] for c in before["counselors"]]
    shift = {"counselor": "maria", "days": ["tue"], "start": "22:00", "end": "06:00"}
    made = api.post(PREFIX + "/shifts", json=shift, headers=admin)
    assert made.status_code == 201, made.get_json()
    shift_id = made.get_json()["id"]
    during = api.get(PREFIX + "/oncall", query_string={"at": at}, headers=admin).get_json()
    assert "maria" in [c["id"] for c in during["counselors"]]
    override = {"counselor": "maria", "start": "2026-12-24T18:00", "end": "2026-12-25T08:00",
                "replaces": ["alex"], "note": "Christmas Eve"}  # fmt: skip
    made = api.post(PREFIX + "/overrides", json=override, headers=admin)
    assert made.status_code == 201, made.get_json()
    eve = api.get(PREFIX + "/oncall", query_string={"at": "2026-12-24T20:00:00-05:00"},
                  headers=admin).get_json()  # fmt: skip
    # alex is replaced for the evening; blanca's shift stands; maria's override adds her.
    assert [c["id"] for c in eve["counselors"]] == ["blanca", "maria"]
    assert api.delete(PREFIX + f"/shifts/{shift_id}", headers=admin).status_code == 204
    assert api.get(PREFIX + f"/shifts/{shift_id}", headers=admin).status_code == 404


def test_gaps_close_when_a_shift_covers_them(
    api: FlaskClient,
    tokens: Tokens,
    redis_client: redis.Redis,
) -> None:
    admin = tokens.header("admin")
    for shift in api.get(PREFIX + "/shifts", headers=admin).get_json():
        if shift["counselor"] == "blanca":
            assert api.delete(PREFIX + f"/shifts/{shift['id']}", headers=admin).status_code == 204
    start = {"start": "2026-12-07T00:00:00-05:00", "days": 7}
    gaps = api.get(PREFIX + "/gaps", query_string=start, headers=admin).get_json()
    assert {g["requirement"] for g in gaps} == {"es"}  # nobody speaks Spanish any more
    whole_week = {"counselor": "blanca", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                  "start": "00:00", "end": "24:00"}  # fmt: skip
    assert api.post(PREFIX + "/shifts", json=whole_week, headers=admin).status_code == 201
    assert api.get(PREFIX + "/gaps", query_string=start, headers=admin).get_json() == []


def test_each_change_is_audited_with_before_and_after(
    api: FlaskClient,
    tokens: Tokens,
    redis_client: redis.Redis,
) -> None:
    admin = tokens.header("admin")
    api.post(PREFIX + "/counselors", json=MARIA, headers=admin)
    api.patch(PREFIX + "/counselors/maria", json={"name": "María L."}, headers=admin)
    entries = AuditLog(redis_client).recent(10)
    change = entries[0]
    assert change.who.startswith("api:ada (token ")  # which of her tokens, too
    assert change.target == "maria"
    assert change.before["name"] == "María López"
    assert change.after["name"] == "María L."
    assert "+12025550101" not in repr(entries)  # numbers masked in the log
    listed = api.get(PREFIX + "/audit", headers=tokens.header("viewer")).get_json()
    assert [e["action"] for e in listed][:2] == [entries[0].action, entries[1].action]


def test_opt_out_lookup_matches_by_hash(
    api: FlaskClient,
    tokens: Tokens,
    redis_client: redis.Redis,
    settings: Settings,
) -> None:
    from ivr.sms.optout import OptOuts

    OptOuts(redis_client, settings.secret_key).opt_out("+12025550177", "STOP")
    admin = tokens.header("admin")
    found = api.post(PREFIX + "/optouts/lookup", json={"number": "(202) 555-0177"}, headers=admin)
    assert found.get_json() == {"opted_out": True}
    other = api.post(PREFIX + "/optouts/lookup", json={"number": "+12025550178"}, headers=admin)
    assert other.get_json() == {"opted_out": False}
    junk = api.post(PREFIX + "/optouts/lookup", json={"number": "not a number"}, headers=admin)
    assert junk.status_code == 422
    assert not any(b"2025550177" in k for k in redis_client.keys("*"))


def test_callbacks_are_listed_masked_and_marked_done(
    api: FlaskClient,
    tokens: Tokens,
    redis_client: redis.Redis,
    settings: Settings,
) -> None:
    from ivr.callbacks.requests import Callbacks

    reference = Callbacks(redis_client, settings.secret_key, 3600).create(
        "+12025550188", "en", "sms"
    )
    listed = api.get(PREFIX + "/callbacks", headers=tokens.header("viewer")).get_json()
    assert [(c["reference"], c["caller"]) for c in listed] == [(reference, "…0188")]
    revealed = api.post(PREFIX + f"/callbacks/{reference}/number", headers=tokens.header("admin"))
    assert revealed.get_json()["number"] == "+12025550188"
    done = api.post(PREFIX + f"/callbacks/{reference}/status", json={"status": "done"},
                    headers=tokens.header("admin"))  # fmt: skip
    assert done.status_code == 200
    assert done.get_json()["status"] == "done"
    assert api.get(PREFIX + "/callbacks", headers=tokens.header("viewer")).get_json() == []
    actions = [e.action for e in AuditLog(redis_client).recent(5)]
    assert actions[:2] == ["callback.status", "callback.reveal"]
