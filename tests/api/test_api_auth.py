"""Every API operation, enumerated from the same list the OpenAPI document is
written from: no token and a wrong token are refused with 401, a viewer's
token may read but every change is refused with 403, and nothing changes."""

from __future__ import annotations

import re
from typing import cast

import pytest
import redis
from flask.testing import FlaskClient

from ivr.roster.store import RosterStore
from ivr.web.api.registry import OPERATIONS, Operation
from tests.api.conftest import Tokens
from tests.raw_replies import RawList

PREFIX = "/api/v1"
WRONG = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic YWRhOnNlY3JldA=="},
    {"Authorization": "Bearer hl_000000000000_" + "A" * 43},
    {"Authorization": "Bearer not-a-token"},
]


def _path(operation: Operation) -> str:
    return PREFIX + re.sub(r"{\w+}", "x", operation.path)


def _call(client: FlaskClient, operation: Operation, headers: dict[str, str]) -> int:
    body: dict[str, object] | None = {} if operation.body is not None else None
    return client.open(
        _path(operation), method=operation.method, json=body, headers=headers
    ).status_code


def _state(redis_client: redis.Redis) -> tuple[int, list[bytes]]:
    return RosterStore(redis_client).version(), sorted(
        cast(RawList, redis_client.keys("callback*"))
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: f"{o.method} {o.path}")
def test_no_token_or_a_wrong_one_is_refused(
    api: FlaskClient,
    operation: Operation,
    redis_client: redis.Redis,
) -> None:
    before = _state(redis_client)
    for headers in WRONG:
        response = api.open(
            _path(operation), method=operation.method,
            json={} if operation.body is not None else None, headers=headers,
        )  # fmt: skip
        assert response.status_code == 401, (headers, response.get_data(as_text=True))
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"]["message"]
    assert _state(redis_client) == before


@pytest.mark.parametrize(
    "operation", [o for o in OPERATIONS if o.role == "admin"], ids=lambda o: f"{o.method} {o.path}"
)
def test_a_viewer_may_not_change_anything(
    api: FlaskClient,
    tokens: Tokens,
    operation: Operation,
    redis_client: redis.Redis,
) -> None:
    before = _state(redis_client)
    response = api.open(
        _path(operation), method=operation.method,
        json={} if operation.body is not None else None, headers=tokens.header("viewer"),
    )  # fmt: skip
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "read_only"
    assert _state(redis_client) == before


def test_every_change_needs_an_admin_and_every_read_a_viewer() -> None:
    """But a counselor's own work (a conversation, a contact and its wrap-up):
    their token or an admin's; and the desk's lists, which any token reads but
    a counselor's only narrowed to their own work and what is offered to them."""
    for operation in OPERATIONS:
        if operation.role == "counselor":
            assert operation.path.startswith(("/contacts/", "/conversations/")), operation
            continue
        if operation.role == "anyone":
            listed = (operation.method, operation.path)
            assert listed in {("GET", "/conversations"), ("GET", "/contacts")}, operation
            assert operation.scope.startswith("a counselor's, only "), operation
            continue
        changes = operation.method in ("POST", "PUT", "PATCH", "DELETE")
        assert (operation.role == "admin") == changes, operation


@pytest.mark.parametrize(
    "operation", [o for o in OPERATIONS if o.role == "viewer"], ids=lambda o: f"{o.method} {o.path}"
)
def test_a_viewer_may_read(api: FlaskClient, tokens: Tokens, operation: Operation) -> None:
    status = _call(api, operation, tokens.header("viewer"))
    assert status in (200, 404), operation


def test_a_revoked_token_stops_working(api: FlaskClient, redis_client: redis.Redis) -> None:
    from ivr.operators.accounts import Accounts

    accounts = Accounts(redis_client)
    info, token = accounts.create_token("temp", "admin")
    assert api.get(PREFIX + "/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    accounts.revoke_token(info.id)
    assert api.get(PREFIX + "/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_document_needs_no_token_and_lists_every_operation(client: FlaskClient) -> None:
    document = client.get(PREFIX + "/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    listed = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert listed == {(o.method, PREFIX + o.path) for o in OPERATIONS}


def test_unknown_paths_and_methods_answer_in_json(api: FlaskClient, tokens: Tokens) -> None:
    missing = api.get(PREFIX + "/nothing-here", headers=tokens.header("admin"))
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = api.put(PREFIX + "/me", headers=tokens.header("admin"))
    assert wrong.status_code == 405
    assert "error" in wrong.get_json()
