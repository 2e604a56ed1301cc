"""What the REST resources share (rest.py, rest_numbers.py, rest_queues.py):
Twilio's list paging, a created resource's answer, and which URLs a call or a
queue member may be sent to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, request

from twilio_emulator.errors import twilio_error

PAGING = ("PageSize", "Page", "PageToken")


def page(key: str, resources: list[dict[str, Any]]) -> Response:
    """The `Page` of `resources` asked for, `PageSize` long, as Twilio lists them."""
    try:
        size = max(1, min(1000, int(request.args.get("PageSize", "50"))))
        current = max(0, int(request.args.get("Page", "0")))
    except ValueError as error:
        raise twilio_error(20001, detail="PageSize and Page must be numbers") from error
    start = current * size
    chosen = resources[start : start + size]

    # The list's filters stay in every paging URI, as Twilio's do
    # ("Messages.json?To=%2B1…&PageSize=2&Page=1"): a next page without them
    # listed every number's messages (issue 18, item 5).
    filters = [(k, v) for k, v in request.args.items(multi=True) if k not in PAGING]

    def uri(number: int) -> str:
        return f"{request.path}?" + urlencode([*filters, ("PageSize", size), ("Page", number)])

    more = start + size < len(resources)
    return jsonify(
        {
            key: chosen,
            "end": start + max(len(chosen) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(current + 1) if more else None,
            "page": current,
            "page_size": size,
            "previous_page_uri": uri(current - 1) if current > 0 else None,
            "start": start,
            "uri": uri(current),
        }
    )


def created(resource: dict[str, Any]) -> Response:
    response = jsonify(resource)
    response.status_code = 201
    return response


def valid_url(url: str) -> bool:
    return url.startswith(("http://", "https://")) and len(url) > len("https://")
