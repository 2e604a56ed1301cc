"""The one way this line talks to Twilio's REST API.

The official client, with a timeout (it has none by default), pointed at
HELPLINE_TWILIO_API_URL when set (the local emulator in development and tests),
and with its request/response logging kept off: those logs would carry phone
numbers and message bodies. urllib3's request lines (DEBUG) keep their path
and lose their query string, for the same reason.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.platform.config import Settings

TWILIO_API = "https://api.twilio.com"
REST_TIMEOUT_SECONDS = 5.0
MEDIA_TIMEOUT_SECONDS = 10.0  # connect, and then between any two pieces of the audio
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")

_quiet = logging.getLogger("helpline.twilio_http")
_quiet.setLevel(logging.WARNING)
# And a filter, which holds even when someone turns every logger to DEBUG.
_quiet.addFilter(lambda record: record.levelno >= logging.WARNING)


class _PathOnly(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included; a
    message list asks Twilio by number (`?To=%2B1…&From=…`). A filter, not a
    level: it holds whatever level someone sets for debugging."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) for arg in record.args)
        return True


def _path_only(value: object) -> object:
    if not isinstance(value, str) or "?" not in value:
        return value
    return value.partition("?")[0] + "?…"


logging.getLogger("urllib3.connectionpool").addFilter(_PathOnly())


class RoutedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends what the client addresses to api.twilio.com to another base URL."""

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_quiet)
        self.base_url = base_url.rstrip("/") if base_url else None

    def routed(self, url: str) -> str:
        if self.base_url and url.startswith(TWILIO_API):
            return self.base_url + url[len(TWILIO_API) :]
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, self.routed(url), *args, **kwargs)

    def media(self, url: str, auth: tuple[str, str], timeout: float) -> requests.Response:
        """GET a media URL (a recording's audio) as a stream to be closed by
        the caller. Not `request`: it reads every body as text, which spoils
        audio. Redirects are followed (Twilio may send media from storage),
        and requests drops the credentials when one leaves Twilio's host."""
        session = self.session or requests.Session()
        return session.get(
            self.routed(url), auth=auth, timeout=timeout, stream=True, proxies=self.proxy
        )


class _Clients(threading.local):
    """Each thread's clients, newest last, one per configuration."""

    def __init__(self) -> None:
        self.by_config: OrderedDict[tuple[str, str, str | None, float], Client] = OrderedDict()


_clients = _Clients()
CLIENTS_PER_THREAD = 4  # a worker uses one; tests switch between a few emulators


def twilio_client(settings: Settings, timeout: float = REST_TIMEOUT_SECONDS) -> Client:
    """The client for these settings, kept per thread: a worker's jobs reuse its
    kept-alive connection instead of opening one (a TCP, and with Twilio a TLS,
    handshake) for every request, which cost a ring or a text milliseconds.
    Per thread because a requests Session is not made to be shared between
    threads; a thread's jobs run one at a time."""
    key = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_api_url,
        timeout,
    )
    kept = _clients.by_config
    client = kept.get(key)
    if client is not None:
        kept.move_to_end(key)
        return client
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=RoutedHttpClient(settings.twilio_api_url, timeout),
    )
    kept[key] = client
    while len(kept) > CLIENTS_PER_THREAD:
        _, oldest = kept.popitem(last=False)
        oldest.http_client.session.close()  # its pooled connections; still usable after
    return client


# Twilio error codes that will fail the same way however often they are tried.
PERMANENT_CODES = frozenset(
    {
        21211,  # invalid To
        21408,  # no permission for the region
        21610,  # the recipient replied STOP
        21612,  # cannot route to this number
        21614,  # not a mobile number
        21617,  # body too long
        30004,
        30005,
        30006,
        30007,  # blocked, unknown, landline, carrier-filtered
        30032,  # toll-free number not verified
        30450,  # SMS pumping protection
    }
)
UNSUBSCRIBED = 21610


class TransportError(Exception):
    """A Twilio call that failed; `permanent` says whether trying again can help."""

    def __init__(
        self, message: str, *, permanent: bool, code: int | None = None, ambiguous: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        # The request may have reached Twilio (a timeout, a dropped connection):
        # whether it took effect must be checked before trying again.
        self.ambiguous = ambiguous


def transport_error(error: Exception) -> TransportError:
    """Map what the twilio client raised onto permanent or transient."""
    from requests import ConnectionError as RequestsConnectionError
    from requests import Timeout
    from twilio.base.exceptions import TwilioRestException

    if isinstance(error, TwilioRestException):
        code = int(error.code) if error.code is not None else None
        status = int(error.status or 0)
        transient = status == 429 or status >= 500 or code == 20429
        permanent = not transient and (code in PERMANENT_CODES or 400 <= status < 500)
        return TransportError(
            f"Twilio error {code} (HTTP {status})", permanent=permanent, code=code
        )
    if isinstance(error, Timeout | RequestsConnectionError):
        return TransportError(
            f"Twilio unreachable: {type(error).__name__}", permanent=False, ambiguous=True
        )
    return TransportError(f"unexpected: {type(error).__name__}", permanent=False, ambiguous=True)


def open_recording(settings: Settings, recording_sid: str) -> requests.Response:
    """A recording's audio (WAV), from Twilio or from what HELPLINE_TWILIO_API_URL
    points at (the emulator), with the line's credentials: Twilio may be set
    to ask for them on media. A stream the caller must close. The URL is made
    from the SID and the line's own account, never taken from a stored URL.
    ValueError for what is not a recording's SID; TransportError when the
    audio cannot be had."""
    if not RECORDING_SID.fullmatch(recording_sid):
        raise ValueError("not a recording SID")
    client = twilio_client(settings)
    http = client.http_client
    if not isinstance(http, RoutedHttpClient):  # twilio_client always builds one
        raise TypeError(f"unexpected Twilio HTTP client {type(http).__name__}")
    url = (
        f"{TWILIO_API}/2010-04-01/Accounts/{settings.twilio_account_sid}"
        f"/Recordings/{recording_sid}.wav"
    )
    auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    try:
        response = http.media(url, auth, MEDIA_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise transport_error(error) from error
    if response.status_code != 200:
        status = response.status_code
        response.close()
        permanent = 400 <= status < 500 and status != 429
        raise TransportError(f"recording: HTTP {status}", permanent=permanent)
    return response
