"""Logging in to the admin pages from a test: the operators every such test
needs, a form's CSRF token, and a login as a given person from a given address."""

from __future__ import annotations

import re

import pytest
import redis
from flask.testing import FlaskClient

from ivr.operators.accounts import Accounts
from tests.rosters import store_always_on_call

PASSWORD = "correct horse battery staple"


@pytest.fixture
def people(redis_client: redis.Redis) -> Accounts:
    store_always_on_call(redis_client)
    accounts = Accounts(redis_client)
    accounts.set_password("sam", PASSWORD, "admin")
    accounts.set_password("val", PASSWORD, "viewer")
    return accounts


def csrf_in(page: str) -> str:
    """The CSRF token of the (first) form in a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def csrf(client: FlaskClient, path: str = "/admin/login") -> str:
    return csrf_in(client.get(path).get_data(as_text=True))


def log_in(
    client: FlaskClient,
    name: str,
    secret: str = PASSWORD,
    *,
    address: str = "127.0.0.1",
    forwarded_for: str | None = None,
) -> int:
    token = csrf(client)
    answer = client.post(
        "/admin/login",
        data={"name": name, "secret": secret, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        headers={"X-Forwarded-For": forwarded_for} if forwarded_for else {},
    )
    return answer.status_code
