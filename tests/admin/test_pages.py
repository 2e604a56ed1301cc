"""The admin pages' door, with Flask's test client: a login for every page,
CSRF on every form post (each one enumerated from the URL map), viewers read
but never change, logins back off (per client behind a trusted proxy), a
logout, a revoked token or a changed password ends the session on the server,
failed logins are logged apart and never with what was typed, and callers'
numbers stay masked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from ivr.callbacks.requests import Callbacks
from ivr.content.model import Content
from ivr.operators.accounts import Accounts
from ivr.operators.audit import LOGINS_STREAM, STREAM, AuditLog
from ivr.platform.config import ConfigError, Settings
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import Dispatches
from tests.admin.login import PASSWORD, csrf, log_in
from tests.conftest import RedisServer, make_settings
from tests.raw_replies import RawStream


def _admin_posts(app: Flask) -> list[str]:
    """Every form target in the pages, with made-up ids filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "POST" in (rule.methods or ()):
            found.append(re.sub(r"<[^>]+>", "x", rule.rule))
    return sorted(found)


def test_every_page_needs_a_login(client: FlaskClient, people: Accounts, app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and rule.endpoint not in (
            "admin.login",
            "admin.static",
        ):
            path = re.sub(r"<[^>]+>", "x", rule.rule)
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                answer = client.open(path, method=method)
                # The login comes before anything else, CSRF included.
                assert answer.status_code == 302, (method, path)
                assert "/admin/login" in answer.headers["Location"]


def test_a_form_post_without_its_csrf_token_is_refused(
    client: FlaskClient, people: Accounts, app: Flask, redis_client: redis.Redis
) -> None:
    assert log_in(client, "sam") == 302
    version = RosterStore(redis_client).version()
    posts = _admin_posts(app)
    assert "/admin/roster/counselors" in posts
    for path in posts:
        answer = client.post(path, data={"id": "maria", "name": "M", "phone": "+12025550101"})
        assert answer.status_code == 400, path
        assert "expired or was not ours" in answer.get_data(as_text=True)
        wrong = client.post(path, data={"csrf_token": "forged"})
        assert wrong.status_code == 400, path
    assert RosterStore(redis_client).version() == version
    # The login form itself is protected too (no login CSRF).
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    answer = client.post("/admin/login", data={"name": "sam", "secret": PASSWORD})
    assert answer.status_code == 400


def test_viewers_read_and_never_change(
    client: FlaskClient, people: Accounts, app: Flask, redis_client: redis.Redis
) -> None:
    assert log_in(client, "val") == 302
    for path in ("/admin/", "/admin/roster", "/admin/callbacks", "/admin/figures", "/admin/audit"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'id="add-counselor"' not in page.get_data(as_text=True)
    token = csrf(client, "/admin/")
    version = RosterStore(redis_client).version()
    changes = [p for p in _admin_posts(app) if p not in ("/admin/login", "/admin/logout")]
    for path in changes:
        answer = client.post(path, data={"csrf_token": token, "id": "maria"})
        assert answer.status_code == 403, path
    assert RosterStore(redis_client).version() == version


def test_bad_input_is_refused_with_the_field_named(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis
) -> None:
    assert log_in(client, "sam") == 302
    token = csrf(client, "/admin/roster")
    version = RosterStore(redis_client).version()
    form = {"csrf_token": token, "id": "maria", "name": "María", "phone": "12345",
            "languages": "en", "active": "on"}  # fmt: skip
    answer = client.post("/admin/roster/counselors", data=form)
    assert answer.status_code == 422
    assert "phone" in answer.get_data(as_text=True)
    shift = {"csrf_token": token, "counselor": "alex", "start": "09:00", "end": "17:00"}
    answer = client.post("/admin/roster/shifts", data=shift)  # no days ticked
    assert answer.status_code == 422
    assert "days" in answer.get_data(as_text=True)
    answer = client.post("/admin/roster/counselors/alex/delete", data={"csrf_token": token})
    assert answer.status_code == 409  # alex still has shifts
    assert RosterStore(redis_client).version() == version


def test_a_supervisor_is_added_from_the_roster_page_and_a_bad_role_refused(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis
) -> None:
    assert log_in(client, "sam") == 302
    token = csrf(client, "/admin/roster")
    form = {"csrf_token": token, "id": "rosa", "name": "Rosa", "phone": "+12025550120",
            "languages": "es, en", "active": "on", "role": "boss"}  # fmt: skip
    refused = client.post("/admin/roster/counselors", data=form)
    assert refused.status_code == 422
    assert "role" in refused.get_data(as_text=True)
    assert client.post(
        "/admin/roster/counselors", data=form | {"role": "supervisor"}
    ).status_code in (
        302,
        303,
    )
    roster = RosterStore(redis_client).load()
    assert roster is not None
    assert roster.by_id["rosa"].supervises
    assert "supervisor</span>" in client.get("/admin/roster").get_data(as_text=True)


def test_failed_logins_back_off(client: FlaskClient, people: Accounts) -> None:
    statuses = [log_in(client, "sam", "wrong password!") for _ in range(6)]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert log_in(client, "sam") == 429  # even the right password waits its turn
    assert log_in(client, "val") == 302  # another person is not locked out


def test_a_stranger_cannot_lock_a_name_out_from_elsewhere(
    client: FlaskClient, people: Accounts
) -> None:
    statuses = [log_in(client, "sam", "wrong password!", address="203.0.113.66") for _ in range(6)]
    assert statuses[-1] == 429
    assert log_in(client, "sam", address="198.51.100.7") == 302  # sam, at the desk


def _make_app(
    redis_server: RedisServer, tmp_path: Path, content: Content, **overrides: str
) -> Flask:
    from ivr.app import create_app

    return create_app(make_settings(redis_server.url, tmp_path, **overrides), content)


def _guess_tokens(client: FlaskClient, times: int, **where: str) -> list[int]:
    """Failed token logins, each for a different (made-up) token id: fast, and
    counted against the address only."""
    return [log_in(client, "", f"hl_guess{n}_x", **where) for n in range(times)]


def test_behind_a_trusted_proxy_each_client_backs_off_alone(
    redis_client: redis.Redis,
    tmp_path: Path,
    content: Content,
    redis_server: RedisServer,
    people: Accounts,
) -> None:
    """Else twenty failures from anyone would lock out everyone behind the proxy."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = _make_app(redis_server, tmp_path, content, HELPLINE_TRUSTED_PROXIES="1")
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto) == (1, 1)
    client = app.test_client()
    proxy = {"address": "10.0.0.2"}
    statuses = _guess_tokens(client, 21, forwarded_for="203.0.113.66", **proxy)
    assert statuses[-1] == 429
    assert log_in(client, "sam", forwarded_for="198.51.100.7", **proxy) == 302
    assert AuditLog(redis_client).logins(1)[0].target == "203.0.113.66"
    # A client cannot dodge its lock by sending an address of its own first.
    spoofed = "198.51.100.99, 203.0.113.66"
    assert log_in(client, "val", forwarded_for=spoofed, **proxy) == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(
    client: FlaskClient, people: Accounts, app: Flask, redis_client: redis.Redis
) -> None:
    """Anyone can send the header: believed, it would dodge the address lock."""
    statuses = [
        log_in(client, "", f"hl_guess{n}_x", forwarded_for=f"198.51.100.{n}") for n in range(21)
    ]
    assert statuses[-1] == 429
    assert {e.target for e in AuditLog(redis_client).logins(100)} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("value", "proxies"), [(None, 0), ("0", 0), ("2", 2), ("x", None), ("-1", None), ("9", None)]
)
def test_trusted_proxies_is_a_small_count(
    tmp_path: Path, redis_server: RedisServer, value: str | None, proxies: int | None
) -> None:
    overrides = {} if value is None else {"HELPLINE_TRUSTED_PROXIES": value}
    if proxies is None:
        with pytest.raises(ConfigError, match="HELPLINE_TRUSTED_PROXIES"):
            make_settings(redis_server.url, tmp_path, **overrides)
    else:
        assert make_settings(redis_server.url, tmp_path, **overrides).trusted_proxies == proxies


def test_logout_ends_the_session_on_the_server(client: FlaskClient, people: Accounts) -> None:
    assert log_in(client, "sam") == 302
    cookie = client.get_cookie("helpline_session")
    assert cookie is not None
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    assert client.get("/admin/").status_code == 302
    client.set_cookie("helpline_session", cookie.value)  # replaying the old cookie
    assert client.get("/admin/").status_code == 302


def test_a_revoked_token_ends_its_sessions(client: FlaskClient, people: Accounts) -> None:
    info, token = people.create_token("tia", "admin")
    assert log_in(client, "", token) == 302
    assert client.get("/admin/").status_code == 200
    people.revoke_token(info.id)
    assert client.get("/admin/").status_code == 302


def test_a_changed_password_ends_its_sessions(client: FlaskClient, people: Accounts) -> None:
    """Resetting a leaked password must shut out whoever used it."""
    assert log_in(client, "sam") == 302
    assert client.get("/admin/").status_code == 200
    people.set_password("sam", "a brand new passphrase", "admin")
    assert client.get("/admin/").status_code == 302
    assert log_in(client, "sam", "a brand new passphrase") == 302
    people.remove_password("sam")
    people.set_password("sam", "a brand new passphrase", "admin")  # the same, set again
    assert client.get("/admin/").status_code == 302


def test_a_failed_login_never_records_what_was_typed(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis
) -> None:
    """Viewers read the audit log: a number or a password typed into the
    Name field must not be there for them."""
    info, _ = people.create_token("tia", "admin")
    attempts = [
        ("+12025550101", PASSWORD),  # a caller's number, in the wrong field
        ("correct horse battery staple", "x"),  # the password, in the wrong field
        ("nobody", PASSWORD),  # a name, but no account
        ("sam", "wrong password!"),  # an account, the wrong password
        ("", f"hl_{info.id}_" + "A" * 43),  # a real token's id, a wrong secret
        ("", "hl_not-a-token"),
    ]
    for name, secret in attempts:
        assert log_in(client, name, secret) == 401, name
    failed = AuditLog(redis_client).logins(10)
    assert [(e.who, e.action, e.target) for e in reversed(failed)] == [
        ("web:(unknown name)", "login.failed", "127.0.0.1"),
        ("web:(unknown name)", "login.failed", "127.0.0.1"),
        ("web:(unknown name)", "login.failed", "127.0.0.1"),
        ("web:sam", "login.failed", "127.0.0.1"),
        (f"web:tia (token {info.id})", "login.failed", "127.0.0.1"),
        ("web:(unknown token)", "login.failed", "127.0.0.1"),
    ]
    assert AuditLog(redis_client).recent(10) == []  # the change history is untouched
    stored = b"".join(
        value
        for stream in (STREAM, LOGINS_STREAM)
        for _, fields in cast(RawStream, redis_client.xrange(stream))
        for value in fields.values()
    )
    for typed in (b"2025550101", b"horse", b"nobody", b"not-a-token"):
        assert typed not in stored


def test_a_token_login_is_audited_with_the_token(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis
) -> None:
    info, token = people.create_token("tia", "viewer")
    assert log_in(client, "", token) == 302
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == (
        f"web:tia (token {info.id})",
        "login",
        "token",
    )


def test_login_never_redirects_off_the_site(client: FlaskClient, people: Accounts) -> None:
    token = csrf(client)
    for target in ("https://evil.example/admin", "//evil.example/admin", "/\\evil.example"):
        answer = client.post(
            "/admin/login",
            data={"name": "sam", "secret": PASSWORD, "csrf_token": token, "next": target},
        )
        assert answer.headers["Location"] == "/admin/", target
        client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
        token = csrf(client)


def test_cookies_and_headers_keep_the_pages_private(
    client: FlaskClient, people: Accounts, settings: Settings
) -> None:
    token = csrf(client)
    answer = client.post(
        "/admin/login", data={"name": "sam", "secret": PASSWORD, "csrf_token": token}
    )
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    page = client.get("/admin/")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_secure_flag_is_set_when_the_line_is_public_over_https(
    redis_client: redis.Redis, tmp_path: Path, content: Content, redis_server: RedisServer
) -> None:
    from ivr.app import create_app

    settings = make_settings(redis_server.url, tmp_path, HELPLINE_PUBLIC_URL="https://line.example")
    assert create_app(settings, content).config["SESSION_COOKIE_SECURE"] is True


def test_now_shows_waiting_and_connected_callers_masked(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    dispatches = Dispatches(redis_client, 3600)
    waiting, _ = dispatches.open_for_call("CA" + "1" * 32, "+12025550161", "es", "counselor")
    talking, _ = dispatches.open_for_call("CA" + "2" * 32, "+12025550162", "en", "counselor")
    leg = dispatches.add_leg(talking.id, "alex", 1)
    assert leg is not None
    assert dispatches.claim(talking.id, leg) == "won"
    assert log_in(client, "val") == 302
    panel = client.get("/admin/now/panel").get_data(as_text=True)
    assert "…0161" in panel
    assert "…0162" in panel
    assert "2025550161" not in panel
    assert 'id="waiting-count">1<' in panel
    assert 'id="connected-count">1<' in panel
    assert "on a call" in panel  # alex is busy: not rung for another
    dispatches.conversation_over(talking.id, "alex")
    dispatches.finish(waiting.id, "abandoned")
    panel = client.get("/admin/now/panel").get_data(as_text=True)
    assert 'id="waiting-count">0<' in panel
    assert 'id="connected-count">0<' in panel


def test_only_an_admin_opening_a_callback_sees_the_number(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    reference = Callbacks(redis_client, settings.secret_key, 3600).create(
        "+12025550188", "en", "voicemail"
    )
    assert log_in(client, "sam") == 302
    listing = client.get("/admin/callbacks").get_data(as_text=True)
    assert "…0188" in listing
    assert "2025550188" not in listing
    shown = client.post(
        f"/admin/callbacks/{reference}/number", data={"csrf_token": csrf(client, "/admin/")}
    )
    assert "+12025550188" in shown.get_data(as_text=True)
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("web:sam", "callback.reveal", reference)
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "2025550188" not in audit_page


def test_urgent_work_heads_the_now_page_and_an_admin_takes_it(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    import time

    from ivr.callbacks.urgent import UrgentItems

    reference = Callbacks(redis_client, settings.secret_key, 3600).create(
        "+12025550188", "es", "crisis text", urgent=True
    )
    items = UrgentItems(redis_client, 3600)
    items.open(reference, "crisis", "es", time.time() + 300)
    assert log_in(client, "val") == 302  # a viewer sees it, without the button
    panel = client.get("/admin/now/panel").get_data(as_text=True)
    assert 'id="urgent"' in panel
    assert reference in panel
    assert "Take it" not in panel
    assert "2025550188" not in panel
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    assert log_in(client, "sam") == 302
    assert "Take it" in client.get("/admin/now/panel").get_data(as_text=True)
    taken = client.post(
        f"/admin/urgent/{reference}/claim", data={"csrf_token": csrf(client, "/admin/")}
    )
    assert taken.status_code == 302
    item = items.get(reference)
    assert item is not None
    assert item.claimed_by
    assert 'id="urgent"' not in client.get("/admin/now/panel").get_data(as_text=True)
