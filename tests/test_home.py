"""The public pages: `/` says what this service is and where to go, and
`/api/v1/docs` is the API's own OpenAPI document made readable — both open
to anyone, built from nothing secret, and served while Redis is down."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.app import create_app
from ivr.content.model import Content
from ivr.operators.accounts import Accounts
from ivr.platform.config import Settings
from ivr.web.api.docs import readable, type_words
from ivr.web.api.registry import OPERATIONS, openapi_document
from ivr.web.api.routes import PREFIX, VERSION
from tests.admin.login import log_in
from tests.conftest import RedisServer, make_settings


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("href"):
            self.hrefs.append(str(found["href"]))
        if found.get("src"):
            self.srcs.append(str(found["src"]))


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def secrets_of(settings: Settings) -> list[str]:
    return [settings.secret_key, settings.twilio_auth_token, settings.twilio_account_sid]


def test_the_home_page_says_what_this_is_and_links_admin_and_the_api_docs(
    client: FlaskClient, settings: Settings
) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert "The Benzo Support Line" in page
    assert "helpline" in page
    assert "Twilio" in page
    found = links(page)
    assert "/admin/" in found.hrefs
    assert f"{PREFIX}/docs" in found.hrefs
    assert f"{PREFIX}/openapi.json" in found.hrefs
    assert 'name="viewport"' in page  # readable on a phone
    # Someone looking for help finds it here too: the line, 911 and 988.
    assert "+1 888-555-0100" in page
    assert "911" in page
    assert "988" in page


@pytest.mark.parametrize("path", ["/", f"{PREFIX}/docs"])
def test_the_public_pages_need_no_login_and_reveal_no_secret(
    client: FlaskClient, settings: Settings, path: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 200  # not a redirect to a login
    page = answer.get_data(as_text=True)
    for secret in secrets_of(settings):
        assert secret not in page
    assert str(settings.var_dir) not in page
    assert settings.backup_number not in page
    # Nothing is fetched from elsewhere: no scripts, no stylesheets, no fonts.
    found = links(page)
    assert not found.srcs
    assert not re.search(r"https?://", " ".join(found.hrefs))
    assert "<script" not in page


def test_the_api_docs_show_every_operation_with_its_method_path_and_summary(
    client: FlaskClient,
) -> None:
    page = client.get(f"{PREFIX}/docs").get_data(as_text=True)
    for operation in OPERATIONS:
        assert f'id="{operation.name}"' in page
        assert f"<code>{PREFIX}{operation.path}</code>" in page
        assert operation.summary.replace("'", "&#39;") in page
    assert 'id="schema-Counselor"' in page
    assert 'href="#schema-Counselor"' in page  # an answer links its schema
    assert "Admins only." in page
    assert "Authorization: Bearer" in page


def test_the_api_docs_read_the_served_document() -> None:
    docs = readable(openapi_document(PREFIX, VERSION))
    assert docs.version == VERSION
    operations = {op.anchor: op for group in docs.groups for op in group.operations}
    assert set(operations) == {op.name for op in OPERATIONS}
    adding = operations["add_counselor"]
    assert adding.method == "POST"
    assert adding.body == (("CounselorIn", "CounselorIn"),)
    assert ("201", "OK", (("Counselor", "Counselor"),)) in [
        (a.status, a.description, a.type) for a in adding.answers
    ]
    blocks = {schema.name: schema for schema in docs.schemas}["BlockIn"]
    number = next(f for f in blocks.fields if f.name == "number")
    assert number.required
    assert "1 to 32 characters" in number.notes


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ({"type": "string", "format": "date-time"}, "string (date-time)"),
        ({"type": "array", "items": {"$ref": "#/components/schemas/Shift"}}, "list of Shift"),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer or null"),
        ({"enum": ["admin", "viewer"]}, 'one of "admin", "viewer"'),
        ({}, "any"),
    ],
)
def test_a_schema_type_reads_as_words(schema: dict[str, object], words: str) -> None:
    assert "".join(text for text, _ in type_words(schema)) == words


def test_the_admin_pages_link_the_api_docs(client: FlaskClient, people: Accounts) -> None:
    assert log_in(client, "val") == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert f'href="{PREFIX}/docs"' in page


def test_the_public_pages_answer_while_redis_is_down(tmp_path: Path, content: Content) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    app: Flask = create_app(make_settings(server.url, tmp_path), content)
    server.stop()
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get(f"{PREFIX}/docs").status_code == 200
