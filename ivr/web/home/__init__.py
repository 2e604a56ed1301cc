"""The line's public pages, open to anyone and made of nothing secret: `/`,
what this service is and where to go from here; and `/api/v1/docs`, the
operator API's OpenAPI document as a page people can read. Neither touches
Redis: they answer while it is down."""

from __future__ import annotations

import phonenumbers
from flask import Blueprint, Response, render_template

from ivr.content.render import fill
from ivr.web.api.docs import readable
from ivr.web.api.registry import openapi_document
from ivr.web.api.routes import PREFIX, VERSION
from ivr.web.current import helpline

home = Blueprint("home", __name__, template_folder="templates")


def _readable_number(number: str) -> str:
    """+18885550100 as people write it: +1 888-555-0100."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _page(html: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@home.get("/")
def index() -> Response:
    line = helpline()
    content = line.content
    resources = content.resources
    return _page(
        render_template(
            "home/index.html",
            name=fill(content, "{line_name}", "en", "sms"),
            line_number=_readable_number(line.settings.line_number),
            # `flows check` refuses content without these two (CRISIS_RESOURCES).
            emergency=resources["emergency"].text,
            crisis=resources["crisis"].text,
            api_prefix=PREFIX,
        )
    )


@home.get(PREFIX + "/docs")
def api_docs() -> Response:
    """No auth, as the document itself: it describes, it does not reveal."""
    return _page(
        render_template(
            "home/api_docs.html", docs=readable(openapi_document(PREFIX, VERSION)), prefix=PREFIX
        )
    )
