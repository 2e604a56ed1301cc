"""Hostile input on every operator route: the admin pages and the JSON API,
enumerated from the URL map, with arbitrary path segments, query strings,
form fields, bodies and Authorization headers, as a stranger, a viewer and an
admin. Whatever arrives, the answer is never a 5xx and never a traceback, and
a stranger or a viewer changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypedDict

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.operators.accounts import Accounts
from ivr.roster.store import RosterStore
from tests.admin.login import PASSWORD, csrf

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as hostile as a form can carry: control characters, markup, long runs.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8).map(lambda t: t * 500),
    st.sampled_from(
        ["", " ", "\x00", "<script>alert(1)</script>", "../../etc/passwd", "%00", "9" * 400,
         "+12025550101", "'; DROP TABLE x;--", "\u202e\u0000\ufeff", "24:00", "0001-01-01"]
    ),
)  # fmt: skip
segment = st.one_of(
    st.sampled_from(["x", "alex", "s-0", "CB-ABCDEF", "..", "%2e%2e", "a" * 300]),
    st.text(alphabet="abcXYZ019-_.~%", min_size=1, max_size=30),
)


class _Body(TypedDict, total=False):
    """A request body, as keywords of the test client's open."""

    json: object
    data: object
    content_type: str


def _rules(app: Flask, prefix: str) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix) and rule.endpoint != "admin.static":
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((method, rule.rule))
    return sorted(found)


def _fill(rule: str, parts: list[str]) -> str:
    values = iter(parts)
    return re.sub(r"<[^>]+>", lambda _: next(values, "x").replace("/", "_") or "x", rule)


def _logged_in(app: Flask, name: str | None) -> Iterator[FlaskClient]:
    client = app.test_client()
    if name is not None:
        token = csrf(client)
        client.post("/admin/login", data={"name": name, "secret": PASSWORD, "csrf_token": token})
    yield client


def _sane(response_status: int, body: str) -> None:
    assert response_status < 500, body[:300]
    assert "Traceback" not in body


def _submit(
    client: FlaskClient,
    route: tuple[str, str],
    parts: list[str],
    query: dict[str, str],
    form: dict[str, str],
    token: str,
) -> int:
    """One hostile request to ROUTE (method, rule) with its path PARTS filled
    in, the form carrying the CSRF TOKEN when there is one: sane, never a 5xx
    or a traceback. Its status."""
    method, rule = route
    data = {**form, "csrf_token": token} if token else form
    response = client.open(_fill(rule, parts), method=method, query_string=query, data=data)
    _sane(response.status_code, response.get_data(as_text=True))
    return response.status_code


@pytest.mark.parametrize("who", [None, "val", "sam"])
def test_the_pages_survive_anything(
    app: Flask, people: Accounts, redis_client: redis.Redis, who: str | None
) -> None:
    client = next(_logged_in(app, who))
    token = csrf(client) if who else ""
    # Logging out would leave the rest of the run a stranger's (test_pages covers it).
    rules = [r for r in _rules(app, "/admin") if r[1] != "/admin/logout"]
    version = RosterStore(redis_client).version()

    @FUZZ
    @given(
        pick=st.integers(min_value=0, max_value=len(rules) - 1),
        parts=st.lists(segment, min_size=2, max_size=2),
        query=st.dictionaries(st.sampled_from(["week", "tz", "days", "next", "x"]), hostile_text),
        form=st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "phone",
                    "languages",
                    "priority",
                    "active",
                    "counselor",
                    "days",
                    "start",
                    "end",
                    "timezone",
                    "valid_from",
                    "valid_until",
                    "replaces",
                    "note",
                    "was",
                    "secret",
                    "next",
                ]
            ),
            hostile_text,
        ),
        with_csrf=st.booleans(),
    )
    def attempt(
        pick: int, parts: list[str], query: dict[str, str], form: dict[str, str], with_csrf: bool
    ) -> None:
        status = _submit(client, rules[pick], parts, query, form, token if with_csrf else "")
        seen[status // 100] = seen.get(status // 100, 0) + 1

    seen: dict[int, int] = {}
    attempt()
    if who is not None:  # the session held: the fuzz reached the pages, not only the login
        assert seen.get(2, 0) > 5, seen
    if who != "sam":  # only an admin may have changed the roster
        assert RosterStore(redis_client).version() == version


@pytest.mark.parametrize("credential", ["none", "garbage", "viewer", "admin"])
def test_the_api_survives_anything(
    app: Flask, people: Accounts, redis_client: redis.Redis, credential: str
) -> None:
    client = app.test_client()
    headers = {
        "none": {},
        "garbage": {"Authorization": "Bearer hl_zz_\x00" + "A" * 300},
        "viewer": {"Authorization": f"Bearer {people.create_token('vic', 'viewer')[1]}"},
        "admin": {"Authorization": f"Bearer {people.create_token('ada', 'admin')[1]}"},
    }[credential]
    rules = _rules(app, "/api/v1")
    version = RosterStore(redis_client).version()
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4)
        ),
        max_leaves=12,
    )

    @FUZZ
    @given(
        pick=st.integers(min_value=0, max_value=len(rules) - 1),
        parts=st.lists(segment, min_size=2, max_size=2),
        query=st.dictionaries(hostile_text, hostile_text, max_size=3),
        body=st.one_of(
            json_values.map(lambda v: ("json", v)),
            st.binary(max_size=300).map(lambda b: ("raw", b)),
        ),
    )
    def attempt(
        pick: int, parts: list[str], query: dict[str, str], body: tuple[str, object]
    ) -> None:
        method, rule = rules[pick]
        kind, value = body
        options: _Body = (
            {"json": value}
            if kind == "json"
            else {"data": value, "content_type": "application/json"}
        )
        response = client.open(
            _fill(rule, parts), method=method, query_string=query, headers=headers, **options
        )
        _sane(response.status_code, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.is_json, (method, rule, response.status_code)

    attempt()
    if credential != "admin":
        assert RosterStore(redis_client).version() == version


@pytest.mark.parametrize("who", [None, "val", "alex.r", "sam"])
def test_the_desk_survives_anything(
    app: Flask, people: Accounts, redis_client: redis.Redis, who: str | None
) -> None:
    """The counselor's desk, as a stranger, a viewer, a counselor and an
    admin, with hostile paths, queries and form fields: never a 5xx."""
    people.set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    client = next(_logged_in(app, who))
    token = csrf(client) if who else ""
    rules = [r for r in _rules(app, "/desk") if not r[1].startswith("/desk/static")]
    assert rules

    @FUZZ
    @given(
        pick=st.integers(min_value=0, max_value=len(rules) - 1),
        parts=st.lists(st.one_of(segment, st.just("TX-AAAAAA")), min_size=2, max_size=2),
        query=st.dictionaries(st.sampled_from(["after", "x"]), hostile_text),
        form=st.dictionaries(st.sampled_from(["body", "to", "x"]), hostile_text),
        with_csrf=st.booleans(),
    )
    def attempt(
        pick: int, parts: list[str], query: dict[str, str], form: dict[str, str], with_csrf: bool
    ) -> None:
        _submit(client, rules[pick], parts, query, form, token if with_csrf else "")

    attempt()
