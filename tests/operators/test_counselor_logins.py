"""A counselor's login (issue 19): linked to the roster counselor it is, it
opens the desk and nothing else — not the admin pages, not the operators'
API — and re-linking it ends its sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask.testing import FlaskClient

from ivr.cli.main import main
from ivr.operators.accounts import Accounts, Operator
from ivr.operators.sessions import Sessions
from tests.admin.login import PASSWORD, log_in
from tests.conftest import RedisServer, cli_environment
from tests.rosters import store_always_on_call


def test_a_counselor_login_names_its_roster_counselor(redis_client: redis.Redis) -> None:
    accounts = Accounts(redis_client)
    with pytest.raises(ValueError, match="--counselor"):
        accounts.set_password("alex", PASSWORD, "counselor")
    with pytest.raises(ValueError, match="only a counselor"):
        accounts.set_password("sam", PASSWORD, "admin", counselor="alex")
    accounts.set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    found = accounts.verify_password("alex.r", PASSWORD)
    assert found is not None
    assert (found.role, found.counselor, found.is_staff, found.can_change) == (
        "counselor",
        "alex",
        False,
        False,
    )
    _, token = accounts.create_token("alex.r", "counselor", counselor="alex")
    assert accounts.verify_token(token) == Operator(
        "alex.r", "counselor", f"token:{token.split('_')[1]}", counselor="alex"
    )


def test_relinking_a_counselor_login_ends_its_sessions(redis_client: redis.Redis) -> None:
    accounts = Accounts(redis_client)
    accounts.set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    operator = accounts.verify_password("alex.r", PASSWORD)
    assert operator is not None
    sessions = Sessions(redis_client, accounts)
    session_id = sessions.open(operator)
    assert sessions.find(session_id) == operator
    accounts.set_password("alex.r", PASSWORD, "counselor", counselor="blanca")
    assert sessions.find(session_id) is None


def test_a_counselor_is_refused_the_admin_pages_and_the_api(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    store_always_on_call(redis_client)
    accounts = Accounts(redis_client)
    accounts.set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    _, token = accounts.create_token("alex.r", "counselor", counselor="alex")
    assert log_in(client, "alex.r") == 302
    for path in ("/admin/", "/admin/callbacks", "/admin/roster"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "counselor" in page.get_data(as_text=True)
    answer = client.get("/api/v1/counselors", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "counselor"


def test_the_cli_links_a_counselor_login_to_someone_on_the_roster(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    store_always_on_call(redis_client)
    env = {**cli_environment(redis_server.url, tmp_path), "LOGNAME": "dana"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), input=f"{PASSWORD}\n", env=env)
        return result.exit_code, result.output

    code, said = run("password", "set", "x", "--role", "counselor", "--counselor", "nobody",
                     "--password-stdin")  # fmt: skip
    assert code != 0
    assert "no counselor 'nobody' on the roster" in said
    code, said = run("password", "set", "alex.r", "--role", "counselor", "--counselor", "alex",
                     "--password-stdin")  # fmt: skip
    assert code == 0, said
    assert Accounts(redis_client).verify_password("alex.r", PASSWORD) is not None
