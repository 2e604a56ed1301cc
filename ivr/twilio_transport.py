"""The one way this line talks to Twilio's REST API.

The official client, with a timeout (it has none by default), pointed at
HELPLINE_TWILIO_API_URL when set (the local emulator in development and tests),
and with its request/response logging kept off: those logs would carry phone
numbers and message bodies.
"""

from __future__ import annotations

import logging
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.config import Settings

TWILIO_API = "https://api.twilio.com"
REST_TIMEOUT_SECONDS = 5.0

_quiet = logging.getLogger("helpline.twilio_http")
_quiet.setLevel(logging.WARNING)


class RoutedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends what the client addresses to api.twilio.com to another base URL."""

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self.base_url = base_url.rstrip("/") if base_url else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client(settings: Settings, timeout: float = REST_TIMEOUT_SECONDS) -> Client:
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=RoutedHttpClient(settings.twilio_api_url, timeout),
    )
