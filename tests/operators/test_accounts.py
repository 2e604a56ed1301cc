"""Operator accounts against a real Redis: tokens verify until revoked and
nothing else verifies, passwords refuse weak choices and unknown names cost a
hash check, a changed password ends the sessions of the old one, and the login
throttle locks out and backs off (on a test clock) per name from one address
and per address."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import cast

import pytest
import redis
from werkzeug.security import check_password_hash

from ivr.operators import accounts as accounts_module
from ivr.operators.accounts import Accounts, LoginThrottle, Operator
from tests.raw_replies import RawHash

STRONG = "correct horse battery staple"


@pytest.fixture
def accounts(redis_client: redis.Redis) -> Accounts:
    return Accounts(redis_client)


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(redis_client: redis.Redis, clock: Clock) -> LoginThrottle:
    return LoginThrottle(redis_client, clock=clock)


# --- tokens ---


@pytest.mark.parametrize(("role", "can_change"), [("viewer", False), ("admin", True)])
def test_a_new_token_verifies_as_its_operator(
    accounts: Accounts, role: str, can_change: bool
) -> None:
    info, token = accounts.create_token("alice", role)
    assert token.startswith(f"hl_{info.id}_")
    operator = accounts.verify_token(token)
    assert operator == Operator("alice", role, f"token:{info.id}")
    assert operator.can_change is can_change


def test_only_the_tokens_hash_is_stored(accounts: Accounts, redis_client: redis.Redis) -> None:
    info, token = accounts.create_token("alice", "viewer")
    record = cast(RawHash, redis_client.hgetall(f"operator:token:{info.id}"))
    assert record[b"sha256"] == hashlib.sha256(token.encode()).hexdigest().encode()
    assert token.encode() not in b"".join(record.values())


def test_a_used_token_shows_when(accounts: Accounts) -> None:
    info, token = accounts.create_token("alice", "viewer")
    assert accounts.list_tokens()[0].last_used is None
    accounts.verify_token(token)
    [listed] = accounts.list_tokens()
    assert listed.last_used is not None
    assert (listed.id, listed.name, listed.role, listed.created) == (
        info.id,
        info.name,
        info.role,
        info.created,
    )


def test_tokens_are_listed_oldest_first(accounts: Accounts) -> None:
    first, _ = accounts.create_token("alice", "viewer")
    second, _ = accounts.create_token("bob", "admin")
    assert [t.id for t in accounts.list_tokens()] == [first.id, second.id]


def test_a_revoked_token_verifies_no_more(accounts: Accounts) -> None:
    info, token = accounts.create_token("alice", "admin")
    operator = accounts.verify_token(token)
    assert operator is not None
    assert accounts.revoke_token(info.id) is True
    assert accounts.verify_token(token) is None
    assert accounts.credential_valid(operator) is False
    assert accounts.list_tokens() == []
    assert accounts.revoke_token(info.id) is False


def test_revoking_one_token_leaves_the_others(accounts: Accounts) -> None:
    gone, _ = accounts.create_token("alice", "admin")
    _, kept = accounts.create_token("alice", "admin")
    accounts.revoke_token(gone.id)
    assert accounts.verify_token(kept) is not None


def _tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param(lambda token, other: "", id="empty"),
        pytest.param(lambda token, other: "hl_", id="prefix only"),
        pytest.param(lambda token, other: _tampered(token), id="one character changed"),
        pytest.param(lambda token, other: token + "x", id="one character more"),
        pytest.param(lambda token, other: token[:-1], id="one character less"),
        pytest.param(lambda token, other: "Bearer " + token, id="with the scheme"),
        pytest.param(lambda token, other: token.upper(), id="upper case"),
        pytest.param(
            lambda token, other: token[: len("hl_") + 13] + other[len("hl_") + 13 :],
            id="another token's secret under this id",
        ),
        pytest.param(
            lambda token, other: "hl_" + "0" * 12 + token[len("hl_") + 12 :],
            id="unknown id",
        ),
        pytest.param(lambda token, other: hashlib.sha256(token.encode()).hexdigest(), id="hash"),
    ],
)
def test_nothing_but_the_token_verifies(
    accounts: Accounts, presented: Callable[[str, str], str]
) -> None:
    _, token = accounts.create_token("alice", "admin")
    _, other = accounts.create_token("bob", "admin")
    assert accounts.verify_token(presented(token, other)) is None
    assert accounts.verify_token(token) is not None


@pytest.mark.parametrize(
    ("name", "role", "problem"),
    [
        ("alice", "root", "role"),
        ("alice", "", "role"),
        ("alice", "Admin", "role"),
        ("Alice", "viewer", "name"),
        ("", "viewer", "name"),
        ("a" * 65, "viewer", "name"),
        ("alice smith", "viewer", "name"),
        ("alice:admin", "viewer", "name"),
    ],
)
def test_a_bad_name_or_role_is_refused(
    accounts: Accounts, redis_client: redis.Redis, name: str, role: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        accounts.create_token(name, role)
    with pytest.raises(ValueError, match=problem):
        accounts.set_password(name, STRONG, role)
    assert redis_client.keys("operator:*") == []


# --- passwords ---


def test_a_password_verifies_as_its_operator(accounts: Accounts) -> None:
    accounts.set_password("dana", STRONG, "admin")
    operator = accounts.verify_password("dana", STRONG)
    assert operator == Operator("dana", "admin", "password")
    assert accounts.credential_valid(operator) is True


@pytest.mark.parametrize("weak", ["", "short", "elevenchars", " " * 20, "  eleven ch  "])
def test_a_weak_password_is_refused(
    accounts: Accounts, redis_client: redis.Redis, weak: str
) -> None:
    with pytest.raises(ValueError, match="at least 12 characters"):
        accounts.set_password("dana", weak, "viewer")
    assert redis_client.keys("operator:*") == []


@pytest.mark.line_password_hash
def test_the_password_is_stored_hashed(accounts: Accounts, redis_client: redis.Redis) -> None:
    accounts.set_password("dana", STRONG, "viewer")
    record = cast(RawHash, redis_client.hgetall("operator:password:dana"))
    assert record[b"hash"].startswith(b"scrypt:32768:8:1$")  # werkzeug's default cost
    assert accounts.verify_password("dana", STRONG) is not None
    assert STRONG.encode() not in b"".join(record.values())


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("dana", STRONG + "!"),
        ("dana", ""),
        ("dana", STRONG.upper()),
        ("nobody", STRONG),
        ("DANA", STRONG),
        ("", STRONG),
    ],
)
def test_a_wrong_name_or_password_verifies_as_no_one(
    accounts: Accounts, name: str, password: str
) -> None:
    accounts.set_password("dana", STRONG, "viewer")
    assert accounts.verify_password(name, password) is None


def test_an_unknown_name_still_costs_a_hash_check(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else how fast a refusal comes tells which names have accounts."""
    checked: list[str] = []
    real_check = check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        checked.append(stored)
        return real_check(stored, password)

    monkeypatch.setattr(accounts_module, "check_password_hash", counting_check)
    assert accounts.verify_password("nobody", STRONG) is None
    assert accounts.verify_password("Not A Name!", STRONG) is None
    assert len(checked) == 2
    assert all(stored.startswith("scrypt:") for stored in checked)


def test_setting_a_password_again_replaces_it(accounts: Accounts) -> None:
    accounts.set_password("dana", STRONG, "viewer")
    accounts.set_password("dana", "another long passphrase", "admin")
    assert accounts.verify_password("dana", STRONG) is None
    assert accounts.verify_password("dana", "another long passphrase") == Operator(
        "dana", "admin", "password"
    )
    assert accounts.password_role("dana") == "admin"


def test_a_removed_password_logs_in_no_more(accounts: Accounts) -> None:
    accounts.set_password("dana", STRONG, "admin")
    operator = accounts.verify_password("dana", STRONG)
    assert operator is not None
    assert accounts.remove_password("dana") is True
    assert accounts.verify_password("dana", STRONG) is None
    assert accounts.credential_valid(operator) is False
    assert accounts.remove_password("dana") is False
    assert accounts.password_role("dana") is None


def test_a_changed_password_ends_sessions_of_the_old_one(accounts: Accounts) -> None:
    """A reset after a password leaked must shut the thief out, same role or not."""
    accounts.set_password("dana", STRONG, "admin")
    stolen = accounts.verify_password("dana", STRONG)
    assert stolen is not None
    accounts.set_password("dana", "a new and longer passphrase", "admin")
    assert accounts.credential_valid(stolen) is False
    fresh = accounts.verify_password("dana", "a new and longer passphrase")
    assert fresh is not None
    assert accounts.credential_valid(fresh) is True


def test_setting_the_same_password_again_still_ends_old_sessions(accounts: Accounts) -> None:
    accounts.set_password("dana", STRONG, "admin")
    before = accounts.verify_password("dana", STRONG)
    assert before is not None
    accounts.set_password("dana", STRONG, "admin")
    assert accounts.credential_valid(before) is False


def test_removing_and_setting_again_revives_no_session(accounts: Accounts) -> None:
    accounts.set_password("dana", STRONG, "admin")
    old = accounts.verify_password("dana", STRONG)
    assert old is not None
    accounts.remove_password("dana")
    accounts.set_password("dana", STRONG, "admin")
    assert accounts.credential_valid(old) is False


def test_each_setting_of_a_password_has_its_own_generation(
    accounts: Accounts, redis_client: redis.Redis
) -> None:
    seen = set()
    for _ in range(3):
        accounts.set_password("dana", STRONG, "admin")
        generation = redis_client.hget("operator:password:dana", "generation")
        assert generation
        seen.add(generation)
    assert len(seen) == 3


def test_a_password_credential_without_its_generation_is_not_valid(accounts: Accounts) -> None:
    """Sessions opened before generations were kept end: they may be a thief's."""
    accounts.set_password("dana", STRONG, "admin")
    assert accounts.credential_valid(Operator("dana", "admin", "password")) is False
    wrong = Operator("dana", "admin", "password", generation="0" * 16)
    assert accounts.credential_valid(wrong) is False


def test_a_password_set_before_generations_stands_until_changed(
    accounts: Accounts, redis_client: redis.Redis
) -> None:
    accounts.set_password("dana", STRONG, "admin")
    redis_client.hdel("operator:password:dana", "generation")  # as an older release left it
    operator = accounts.verify_password("dana", STRONG)
    assert operator is not None
    assert accounts.credential_valid(operator) is True
    accounts.set_password("dana", STRONG, "admin")
    assert accounts.credential_valid(operator) is False


def test_a_changed_role_ends_sessions_of_the_old_one(accounts: Accounts) -> None:
    accounts.set_password("dana", STRONG, "admin")
    operator = accounts.verify_password("dana", STRONG)
    assert operator is not None
    accounts.set_password("dana", STRONG, "viewer")
    assert accounts.credential_valid(operator) is False


@pytest.mark.parametrize(
    "credential", ["", "token:", "token:../../x", "token:0123456789ab", "session", "Password"]
)
def test_an_unknown_credential_is_not_valid(accounts: Accounts, credential: str) -> None:
    accounts.set_password("dana", STRONG, "admin")
    assert accounts.credential_valid(Operator("dana", "admin", credential)) is False


@pytest.mark.parametrize("token_id", ["", "../x", "0123456789AB", "0123456789abc", "*"])
def test_a_token_id_that_is_no_id_finds_nothing(accounts: Accounts, token_id: str) -> None:
    accounts.create_token("alice", "viewer")
    assert accounts.token(token_id) is None


def test_the_audit_name_names_the_token(accounts: Accounts) -> None:
    """One person's tokens told apart in the audit log; a leaked one traced."""
    info, token = accounts.create_token("alice", "admin")
    operator = accounts.verify_token(token)
    assert operator is not None
    assert operator.token_id == info.id
    assert operator.audit_name == f"alice (token {info.id})"
    accounts.set_password("dana", STRONG, "admin")
    by_password = accounts.verify_password("dana", STRONG)
    assert by_password is not None
    assert (by_password.token_id, by_password.audit_name) == (None, "dana")
    assert Operator("eve", "admin", "token:not-an-id").audit_name == "eve"


def test_a_token_credential_must_match_its_operator(accounts: Accounts) -> None:
    info, _ = accounts.create_token("alice", "viewer")
    assert accounts.credential_valid(Operator("alice", "viewer", f"token:{info.id}")) is True
    assert accounts.credential_valid(Operator("alice", "admin", f"token:{info.id}")) is False
    assert accounts.credential_valid(Operator("bob", "viewer", f"token:{info.id}")) is False


# --- the login throttle ---

FREE = LoginThrottle.NAME_FREE_FAILURES


def _fail(
    throttle: LoginThrottle, times: int, name: str = "dana", address: str = "198.51.100.7"
) -> None:
    for _ in range(times):
        throttle.failed(name, address)


def test_a_few_failures_do_not_lock(throttle: LoginThrottle) -> None:
    _fail(throttle, FREE - 1)
    assert throttle.wait_seconds("dana", "198.51.100.7") == 0


def test_repeated_failures_lock_the_name_from_that_address(throttle: LoginThrottle) -> None:
    _fail(throttle, FREE)
    assert throttle.wait_seconds("dana", "198.51.100.7") == LoginThrottle.FIRST_LOCK_SECONDS
    assert throttle.wait_seconds("DANA ", "198.51.100.7") == LoginThrottle.FIRST_LOCK_SECONDS
    assert throttle.wait_seconds("erin", "198.51.100.7") == 0


def test_a_stranger_cannot_lock_a_name_out_everywhere(
    throttle: LoginThrottle, clock: Clock
) -> None:
    """Knowing an admin's name must not let anyone keep them out mid-shift."""
    for _ in range(FREE + 20):
        _fail(throttle, 1, address="203.0.113.66")
        clock.advance(throttle.wait_seconds("dana", "203.0.113.66"))
    assert throttle.wait_seconds("dana", "203.0.113.66") == 0  # waited out; the next fails:
    _fail(throttle, 1, address="203.0.113.66")
    assert throttle.wait_seconds("dana", "203.0.113.66") == LoginThrottle.LONGEST_LOCK_SECONDS
    assert throttle.wait_seconds("dana", "198.51.100.7") == 0


def test_names_and_addresses_do_not_run_together(throttle: LoginThrottle) -> None:
    _fail(throttle, FREE, name="dana", address="10.0.0.1")
    assert throttle.wait_seconds("dana", "10.0.0.10") == 0
    assert throttle.wait_seconds("dana1", "0.0.0.1") == 0


def test_the_lock_ends_and_each_further_failure_doubles_it(
    throttle: LoginThrottle, clock: Clock
) -> None:
    _fail(throttle, FREE)
    clock.advance(LoginThrottle.FIRST_LOCK_SECONDS - 10)
    assert throttle.wait_seconds("dana", "198.51.100.7") == 10
    clock.advance(10)
    assert throttle.wait_seconds("dana", "198.51.100.7") == 0
    waits = []
    for _ in range(4):
        _fail(throttle, 1)
        waits.append(throttle.wait_seconds("dana", "198.51.100.7"))
        clock.advance(waits[-1])
    first = LoginThrottle.FIRST_LOCK_SECONDS
    assert waits == [2 * first, 4 * first, 8 * first, 16 * first]


def test_the_lock_never_exceeds_the_longest(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(FREE + 40):
        _fail(throttle, 1)
        clock.advance(throttle.wait_seconds("dana", "198.51.100.7"))
    _fail(throttle, 1)
    assert throttle.wait_seconds("dana", "198.51.100.7") == LoginThrottle.LONGEST_LOCK_SECONDS


def test_a_success_clears_only_that_addresss_failures_for_the_name(
    throttle: LoginThrottle,
) -> None:
    _fail(throttle, FREE, address="203.0.113.66")
    throttle.succeeded("dana", "198.51.100.7")
    assert throttle.wait_seconds("dana", "203.0.113.66") == LoginThrottle.FIRST_LOCK_SECONDS


def test_a_success_clears_the_names_failures(throttle: LoginThrottle) -> None:
    _fail(throttle, FREE - 1)
    throttle.succeeded("dana", "198.51.100.7")
    _fail(throttle, FREE - 1)
    assert throttle.wait_seconds("dana", "198.51.100.7") == 0


def test_failures_are_forgotten_after_a_quiet_hour(throttle: LoginThrottle, clock: Clock) -> None:
    _fail(throttle, FREE - 1)
    clock.advance(LoginThrottle.FORGET_AFTER_SECONDS + 1)
    _fail(throttle, 1)
    assert throttle.wait_seconds("dana", "198.51.100.7") == 0


def test_one_address_trying_many_names_is_locked(throttle: LoginThrottle) -> None:
    for attempt in range(LoginThrottle.ADDRESS_FREE_FAILURES):
        _fail(throttle, 1, name=f"guess{attempt}")
    assert throttle.wait_seconds("someone-new", "198.51.100.7") > 0
    assert throttle.wait_seconds("someone-new", "203.0.113.9") == 0


def test_a_success_does_not_clear_the_addresss_failures(throttle: LoginThrottle) -> None:
    """One account known to an attacker must not reset their guessing of others."""
    for attempt in range(LoginThrottle.ADDRESS_FREE_FAILURES - 1):
        _fail(throttle, 1, name=f"guess{attempt}")
    throttle.succeeded("mallory", "198.51.100.7")
    _fail(throttle, 1, name="another-guess")
    assert throttle.wait_seconds("someone-new", "198.51.100.7") > 0
