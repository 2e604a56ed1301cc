"""Tokens and a small roster for the operator API tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import redis
from flask.testing import FlaskClient

from ivr.operators.accounts import Accounts
from tests.rosters import store_always_on_call


@dataclass(frozen=True)
class Tokens:
    admin: str
    viewer: str

    def header(self, which: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, which)}"}


@pytest.fixture
def tokens(redis_client: redis.Redis) -> Tokens:
    accounts = Accounts(redis_client)
    _, admin = accounts.create_token("ada", "admin")
    _, viewer = accounts.create_token("vic", "viewer")
    return Tokens(admin=admin, viewer=viewer)


@pytest.fixture
def api(client: FlaskClient, tokens: Tokens, redis_client: redis.Redis) -> FlaskClient:
    store_always_on_call(redis_client)
    return client
