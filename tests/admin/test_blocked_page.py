"""The Blocked page: everyone logged in sees the blocks (numbers masked);
admins block and unblock with the CSRF token every form carries; viewers are
refused; every change is audited with the number masked."""

from __future__ import annotations

import re

import redis
from flask.testing import FlaskClient

from ivr.callers.blocklist import Blocklist
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.platform.config import Settings
from tests.admin.login import csrf, log_in

NUMBER = "+12025550177"


def add(client: FlaskClient, **form: str) -> tuple[int, str]:
    data = {"number": "(202) 555-0177", "reason": "threats to counselors", "days": "7", **form}
    answer = client.post(
        "/admin/blocked",
        data={"csrf_token": csrf(client, "/admin/blocked"), **data},
        follow_redirects=True,
    )
    return answer.status_code, answer.get_data(as_text=True)


def test_an_admin_blocks_and_unblocks_from_the_page(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    assert log_in(client, "sam") == 302
    page = client.get("/admin/blocked").get_data(as_text=True)
    assert 'id="add-block"' in page
    assert 'id="no-blocks"' in page
    status, page = add(client)
    assert status == 200
    assert "…0177 blocked until" in page
    assert "threats to counselors" in page
    assert "2025550177" not in page
    assert "555-0177" not in page.split('id="add-block"')[0]  # the list shows the mask only
    blocklist = Blocklist(redis_client, settings.secret_key)
    assert blocklist.is_blocked(NUMBER)
    (block,) = blocklist.list()
    assert 6.9 < (block.until - block.created).total_seconds() / 86400 <= 7
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("web:sam", "block.add", block.id)
    assert entry.after["number"] == "…0177"

    answer = client.post(
        f"/admin/blocked/{block.id}/remove",
        data={"csrf_token": csrf(client, "/admin/blocked")},
        follow_redirects=True,
    )
    assert "…0177 unblocked" in answer.get_data(as_text=True)
    assert not blocklist.is_blocked(NUMBER)
    assert AuditLog(redis_client).recent(1)[0].action == "block.remove"


def test_a_bad_field_is_named_and_nothing_is_blocked(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    assert log_in(client, "sam") == 302
    for form, field in (
        ({"number": "hello"}, "number"),
        ({"reason": "  "}, "reason"),
        ({"days": "3"}, "days"),  # not one of the lengths offered
        ({"days": ""}, "days"),
    ):
        status, page = add(client, **form)
        assert status == 422, form
        # Said beside the field, which points at it.
        assert re.search(rf'<span class="field-problem" id="add-block-{field}-problem">', page)
        assert re.search(
            rf'id="add-block-{field}"[^>]* aria-invalid="true"[^>]*'
            rf'aria-describedby="add-block-{field}-problem"',
            page,
        ), form
    assert Blocklist(redis_client, settings.secret_key).list() == []
    assert AuditLog(redis_client).recent(10)[0].action == "login"


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    assert log_in(client, "sam") == 302
    answer = client.post("/admin/blocked", data={"number": NUMBER, "reason": "x", "days": "7"})
    assert answer.status_code == 400
    _, block = Blocklist(redis_client, settings.secret_key).block(NUMBER, "x", by="cli:dana")
    answer = client.post(f"/admin/blocked/{block.id}/remove", data={"csrf_token": "forged"})
    assert answer.status_code == 400
    assert Blocklist(redis_client, settings.secret_key).is_blocked(NUMBER)


def test_a_viewer_sees_the_list_but_cannot_change_it(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    blocklist = Blocklist(redis_client, settings.secret_key)
    _, block = blocklist.block(NUMBER, "prank calls", by="cli:dana")
    assert log_in(client, "val") == 302
    page = client.get("/admin/blocked").get_data(as_text=True)
    assert "…0177" in page
    assert "prank calls" in page
    assert 'id="add-block"' not in page
    assert "Unblock" not in page
    token = csrf(client, "/admin/")
    refused = client.post(
        "/admin/blocked", data={"csrf_token": token, "number": "+12025550178", "reason": "x",
                                "days": "7"},
    )  # fmt: skip
    assert refused.status_code == 403
    refused = client.post(f"/admin/blocked/{block.id}/remove", data={"csrf_token": token})
    assert refused.status_code == 403
    assert [b.id for b in blocklist.list()] == [block.id]


def test_crisis_texts_while_blocked_show_on_the_page(
    client: FlaskClient, people: Accounts, redis_client: redis.Redis, settings: Settings
) -> None:
    blocklist = Blocklist(redis_client, settings.secret_key)
    blocklist.block(NUMBER, "abusive texts", by="cli:dana")
    blocklist.note_crisis(NUMBER)
    assert log_in(client, "val") == 302
    page = client.get("/admin/blocked").get_data(as_text=True)
    assert '<span class="badge busy">1</span> last' in page
    assert 'href="/admin/blocked"' in client.get("/admin/").get_data(as_text=True)  # in the nav
