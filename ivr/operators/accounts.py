"""Who may operate the line: API tokens and passwords (both made with the CLI),
and the throttle on failed logins.

Only hashes are kept. A token is `hl_<id>_<secret>`: the id finds its record
without a scan, the record holds the SHA-256 of the whole token (a 256-bit
random secret needs no slow hash), compared in constant time. Passwords are
chosen by people, so they get werkzeug's scrypt.

Each time a password is set it gets a new random generation, which a page
session opened with it carries: changing (or removing and setting again) a
password ends every session opened with the old one, including a thief's.

Redis keys:
    operator:tokens               set of token ids
    operator:token:<id>           hash: name, role, sha256, created, last_used, counselor
    operator:password:<name>      hash: hash, role, set_at, generation, counselor
    operator:throttle:<kind>:<h>  hash: failures, last, until  (ms; kind "pair" or
                                  "address", h = digest of (name, address) or address)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import redis
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.platform.redis_store import decoded

# viewer reads everything, admin changes it; a counselor sees only the desk:
# their own work and what is offered to them, as the roster counselor they
# are linked to (issue 19).
ROLES = ("viewer", "admin", "counselor")
STAFF_ROLES = ("viewer", "admin")  # who may open /admin and the operators' API
MIN_PASSWORD_LENGTH = 12
HASH_METHOD = "scrypt"

TOKEN_PREFIX = "hl_"  # noqa: S105 - a marker, not a secret
TOKEN_ID_BYTES = 6  # 12 hex digits: an id, not a secret
TOKEN_SECRET_BYTES = 32
GENERATION_BYTES = 8  # random, not counted: a removed and re-set password never repeats one

_NAME = re.compile(r"[a-z0-9._@-]{1,64}")
_TOKEN = re.compile(r"hl_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_TOKEN_ID = re.compile(r"[0-9a-f]{12}")

TOKENS_INDEX = "operator:tokens"
TOKEN_KEY_PREFIX = "operator:token:"  # noqa: S105 - a key name
PASSWORD_KEY_PREFIX = "operator:password:"  # noqa: S105 - a key name
_TOKENS = TOKENS_INDEX

# Records a token's last use only while it exists: a revoke racing a request
# must not leave a stray half record behind.
_TOUCH = """
local token, used_at = KEYS[1], ARGV[1]
if redis.call('EXISTS', token) == 1 then redis.call('HSET', token, 'last_used', used_at) end
"""


def _token_key(token_id: str) -> str:
    return TOKEN_KEY_PREFIX + token_id


def _password_key(name: str) -> str:
    return PASSWORD_KEY_PREFIX + name


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"name {name!r} must be 1 to 64 of lowercase letters, digits and . _ @ -")


def _check_role(role: str, counselor: str = "") -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if (role == "counselor") != bool(counselor):
        raise ValueError(
            "a counselor's login names the roster counselor it is (--counselor ID)"
            if role == "counselor"
            else f"only a counselor's login is linked to a roster counselor, not a {role}'s"
        )


@cache
def _decoy_password_hash() -> str:
    """A hash no password matches, checked for unknown names so that a wrong
    name costs as long as a wrong password (no oracle for who has an account)."""
    return generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


@dataclass(frozen=True)
class Operator:
    """Someone signed in, and by what: "token:<id>" or "password".

    For a password, `generation` says which setting of it they signed in with;
    a session keeps it, and it must still be the password's current one. It
    is not part of equality: the same person, role and kind of credential are
    the same operator, whichever password they typed last month."""

    name: str
    role: str
    credential: str
    generation: str = field(default="", compare=False, repr=False)
    counselor: str = ""  # the roster counselor a counselor's login is

    @property
    def can_change(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        """May open the admin pages and the operators' API (not a counselor)."""
        return self.role in STAFF_ROLES

    @property
    def token_id(self) -> str | None:
        """The id of the token they signed in with; None for a password."""
        token_id = self.credential.removeprefix("token:")
        if token_id == self.credential or not _TOKEN_ID.fullmatch(token_id):
            return None
        return token_id

    @property
    def audit_name(self) -> str:
        """Who they are for the audit log, naming the token when it was one
        ("alice (token 1a2b3c4d5e6f)"): one person's tokens are told apart, and
        a leaked one is traced to its id. Just the name for a password."""
        token_id = self.token_id
        return self.name if token_id is None else f"{self.name} (token {token_id})"


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    role: str
    created: float
    last_used: float | None
    counselor: str = ""


class Accounts:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._touch = client.register_script(_TOUCH)

    # --- tokens ---

    def create_token(self, name: str, role: str, counselor: str = "") -> tuple[TokenInfo, str]:
        """A new token; the returned secret is not kept and cannot be shown again.
        COUNSELOR: the roster counselor a counselor's token acts as."""
        _check_name(name)
        _check_role(role, counselor)
        token_id = secrets.token_hex(TOKEN_ID_BYTES)
        token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"
        created = time.time()
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                _token_key(token_id),
                mapping={
                    "name": name,
                    "role": role,
                    "sha256": _digest(token),
                    "created": created,
                    "counselor": counselor,
                },
            )
            pipe.sadd(_TOKENS, token_id)
            pipe.execute()
        return TokenInfo(token_id, name, role, created, None, counselor), token

    def list_tokens(self) -> list[TokenInfo]:
        """Every live token, oldest first."""
        ids = sorted(_text(raw) for raw in self._redis.smembers(_TOKENS))
        with self._redis.pipeline(transaction=False) as pipe:
            for token_id in ids:
                pipe.hgetall(_token_key(token_id))
            records = pipe.execute()
        found = [_token_info(i, decoded(r)) for i, r in zip(ids, records, strict=True) if r]
        return sorted(found, key=lambda info: (info.created, info.id))

    def revoke_token(self, token_id: str) -> bool:
        """False when there was no such token."""
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_token_key(token_id))
            pipe.srem(_TOKENS, token_id)
            deleted, _ = pipe.execute()
        return bool(deleted)

    def token(self, token_id: str) -> TokenInfo | None:
        """The token with this id; None for no such token, or for anything typed
        that is no token id at all."""
        if not _TOKEN_ID.fullmatch(token_id):
            return None
        record = decoded(self._redis.hgetall(_token_key(token_id)))
        return _token_info(token_id, record) if record else None

    def verify_token(self, token: str) -> Operator | None:
        """The operator a presented token stands for; None for a malformed,
        unknown or revoked one."""
        match = _TOKEN.fullmatch(token)
        token_id = match.group(1) if match else ""
        record = decoded(self._redis.hgetall(_token_key(token_id))) if match else {}
        # Always one constant-time compare, so a bad id answers like a bad secret.
        expected = record.get("sha256", "0" * 64)
        if not hmac.compare_digest(_digest(token), expected) or not record:
            return None
        self._touch(keys=[_token_key(token_id)], args=[repr(time.time())])
        return Operator(
            record["name"],
            record["role"],
            f"token:{token_id}",
            counselor=record.get("counselor", ""),
        )

    # --- passwords ---

    def set_password(self, name: str, password: str, role: str, counselor: str = "") -> None:
        """Set or replace NAME's password (and role; COUNSELOR: the roster
        counselor a counselor's login is). ValueError, saying why, for a bad
        name or role or a password too weak to keep."""
        _check_name(name)
        _check_role(role, counselor)
        if len(password.strip()) < MIN_PASSWORD_LENGTH:
            raise ValueError(
                f"password too short: use at least {MIN_PASSWORD_LENGTH} characters "
                "(a few unrelated words work well)"
            )
        self._redis.hset(
            _password_key(name),
            mapping={
                "hash": generate_password_hash(password, method=HASH_METHOD),
                "role": role,
                "set_at": time.time(),
                "generation": secrets.token_hex(GENERATION_BYTES),
                "counselor": counselor,
            },
        )

    def password_role(self, name: str) -> str | None:
        """NAME's role if NAME has a password, else None."""
        if not _NAME.fullmatch(name):
            return None
        role = self._redis.hget(_password_key(name), "role")
        return None if role is None else _text(role)

    def verify_password(self, name: str, password: str) -> Operator | None:
        record = decoded(self._redis.hgetall(_password_key(name))) if _NAME.fullmatch(name) else {}
        stored = record.get("hash") or _decoy_password_hash()
        if not check_password_hash(stored, password) or not record:
            return None
        return Operator(
            name,
            record["role"],
            "password",
            _generation(record),
            counselor=record.get("counselor", ""),
        )

    def remove_password(self, name: str) -> bool:
        """False when NAME had no password."""
        if not _NAME.fullmatch(name):
            return False
        return bool(self._redis.delete(_password_key(name)))

    # --- sessions ---

    def credential_valid(self, operator: Operator) -> bool:
        """Whether what OPERATOR signed in with still stands, with the same role
        (and, for a counselor, the same roster counselor): a revoked token, or a
        password changed, re-roled, re-linked or removed (even if set again
        since, to the same words) ends their sessions."""
        if operator.credential.startswith("token:"):
            info = self.token(operator.token_id or "")
            return info is not None and (info.name, info.role, info.counselor) == (
                operator.name,
                operator.role,
                operator.counselor,
            )
        if operator.credential == "password" and _NAME.fullmatch(operator.name):
            record = decoded(self._redis.hgetall(_password_key(operator.name)))
            current = _generation(record) if record else ""
            return (
                bool(current and operator.generation)
                and hmac.compare_digest(current, operator.generation)
                and record["role"] == operator.role
                and record.get("counselor", "") == operator.counselor
            )
        return False


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _generation(record: dict[str, str]) -> str:
    """Which setting of a password RECORD is. One set before generations were
    kept stands on its set_at until next changed."""
    return record.get("generation") or (f"set_at:{record['set_at']}" if "set_at" in record else "")


def _token_info(token_id: str, record: dict[str, str]) -> TokenInfo:
    last_used = record.get("last_used")
    return TokenInfo(
        id=token_id,
        name=record["name"],
        role=record["role"],
        created=float(record["created"]),
        last_used=float(last_used) if last_used else None,
        counselor=record.get("counselor", ""),
    )


# KEYS[1] the throttle record. ARGV: now (ms), free failures, first lock (ms),
# longest lock (ms), quiet time after which failures are forgotten (ms).
# Counts one failure; from the free allowance on, each failure locks the key
# for twice as long as the one before, up to the longest lock.
_FAIL = """
local throttle = KEYS[1]
local now, free = tonumber(ARGV[1]), tonumber(ARGV[2])
local first, longest, forget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', throttle, 'last') or '0')
local failures = tonumber(redis.call('HGET', throttle, 'failures') or '0')
if now - last > forget then failures = 0 end
failures = failures + 1
local locked = 0
if failures >= free then
  locked = now + math.min(longest, first * 2 ^ math.min(failures - free, 30))
end
redis.call('HSET', throttle, 'failures', failures, 'last', now, 'until', locked)
redis.call('PEXPIRE', throttle, forget + longest)
return failures
"""


class LoginThrottle:
    """Lockout with backoff after repeated failed logins, counted per name from
    one address (a guessed account) and per client address (one machine trying
    many names).

    A name is locked, from the address that failed, from its 5th failure in a
    row, for 30 s, doubling with each further failure up to 15 minutes; an
    address gets more room (shared offices, NAT) before the same for every
    name. Failures are forgotten after an hour without one. Call `failed` only
    for attempts that were checked, not for those refused because
    `wait_seconds` was positive. ("Name" is whatever the caller counts by: the
    login form uses the token id for a token login.)

    The trade-off: the name counter is per (name, address) pair, not per name
    alone. Counted per name alone, anyone who knows an admin's name could keep
    them locked out indefinitely from one machine, during a crisis shift. Per
    pair, a stranger only ever locks out their own address. The cost is that
    guessing one account from many addresses (a botnet) gets 5 tries per
    address before backoff instead of 5 in all; what stands against that is
    scrypt, the 12-character minimum, the per-address counter, and the failed
    logins log that shows it happening. Behind a proxy the address must be the
    client's (HELPLINE_TRUSTED_PROXIES), or every client shares the proxy's."""

    NAME_FREE_FAILURES = 5
    ADDRESS_FREE_FAILURES = 20
    FIRST_LOCK_SECONDS = 30
    LONGEST_LOCK_SECONDS = 15 * 60
    FORGET_AFTER_SECONDS = 3600

    def __init__(self, client: redis.Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._clock = clock
        self._fail = client.register_script(_FAIL)

    def wait_seconds(self, name: str, address: str) -> int:
        """Seconds until NAME may try again from ADDRESS; 0: go ahead."""
        now_ms = self._now_ms()
        with self._redis.pipeline(transaction=False) as pipe:
            for key in self._keys(name, address):
                pipe.hget(key, "until")
            ends = pipe.execute()
        longest = max((int(_text(end)) - now_ms for end in ends if end is not None), default=0)
        return math.ceil(longest / 1000) if longest > 0 else 0

    def failed(self, name: str, address: str) -> None:
        pair_key, address_key = self._keys(name, address)
        for key, free in (
            (pair_key, self.NAME_FREE_FAILURES),
            (address_key, self.ADDRESS_FREE_FAILURES),
        ):
            self._fail(
                keys=[key],
                args=[
                    self._now_ms(),
                    free,
                    self.FIRST_LOCK_SECONDS * 1000,
                    self.LONGEST_LOCK_SECONDS * 1000,
                    self.FORGET_AFTER_SECONDS * 1000,
                ],
            )

    def succeeded(self, name: str, address: str) -> None:
        """Clears the name's failures from this address. The address keeps its
        count: one account known to an attacker must not reset their guessing
        of the others."""
        self._redis.delete(self._keys(name, address)[0])

    def _keys(self, name: str, address: str) -> tuple[str, str]:
        # Digests: login forms send anything, and keys should stay short. The
        # pair as JSON, so no name and address run together into another's.
        def key(kind: str, value: str) -> str:
            return f"operator:throttle:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

        pair = json.dumps([name.strip().lower(), address])
        return key("pair", pair), key("address", address)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
