"""The emulator's outgoing requests: every webhook it sends is signed with the
account's auth token exactly as Twilio signs (`RequestValidator.compute_signature`
over the URL Twilio was given and the form it posts), then delivered.

URLs under the line's public base URL are delivered to where the line really
listens (`line_url`), as a tunnel or proxy would; the signature still covers
the public URL, which is what the line checks. Twilio's connection overrides in
the URL fragment (`#ct=…&rt=…&tt=…`) set the timeouts and are not sent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.request_validator import RequestValidator

from twilio_emulator.ids import now, rfc2822

CONNECT_TIMEOUT = 10.0  # Twilio's defaults: 10 s to connect, 15 s for the whole answer
READ_TIMEOUT = 15.0
LOG_LIMIT = 5000
# The Content-Types Twilio reads as TwiML (docs/emulator.md, "Content-Type").
XML_TYPES = frozenset({"text/xml", "application/xml"})


def media_type(content_type: str) -> str:
    """`text/xml; charset=utf-8` -> `text/xml`."""
    return content_type.split(";", 1)[0].strip().lower()


@dataclass
class Delivery:
    """One webhook as sent, and what came back (status None: no answer)."""

    url: str
    method: str
    params: dict[str, str]
    signature: str
    status: int | None = None
    body: str = ""
    content_type: str = ""
    error: str | None = None
    at: datetime = field(default_factory=now)
    # Real seconds from sending the request to having the whole answer (or the
    # failure): the line's response time as Twilio would see it.
    seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def reply_problem(self) -> str | None:
        """Twilio's error code when this answer to an incoming text gives no
        reply document: no answer (11205 on a timeout, else 11200), an error
        status (11200), or a reply that is not XML (12300, Twilio's help center:
        "Twilio requires TwiML in XML format for incoming call and incoming SMS
        webhook responses"). An empty answer is no reply, not an error: Twilio
        documents nothing else for it."""
        if self.status is None:
            return "11205" if "Timeout" in (self.error or "") else "11200"
        if not self.ok:
            return "11200"
        if self.body.strip() and media_type(self.content_type) not in XML_TYPES:
            return "12300"
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "error": self.error,
            "response": self.body[:4000],
            "at": rfc2822(self.at),
            "elapsed_ms": None if self.seconds is None else round(self.seconds * 1000, 1),
        }


def _timeouts(fragment: str, connect: float, read: float) -> tuple[float, float]:
    """Twilio's `#ct=`/`#rt=`/`#tt=` overrides, in milliseconds, within its limits."""
    overrides = dict(parse_qsl(fragment))

    def millis(name: str, low: int, high: int) -> float | None:
        value = overrides.get(name, "")
        return min(max(int(value), low), high) / 1000 if value.isdigit() else None

    connect = millis("ct", 100, 10000) or connect
    read = millis("rt", 100, 15000) or read
    total = millis("tt", 100, 15000)
    if total is not None:
        connect, read = min(connect, total), min(read, total)
    return connect, read


class Webhooks:
    def __init__(
        self,
        auth_token: str,
        public_url: str,
        line_url: str,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        log_limit: int = LOG_LIMIT,
        pool_size: int = 10,
    ) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")
        self.line_url = line_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._session = requests.Session()
        # Many call legs ask the line at once: without room for a connection each,
        # urllib3 opens and throws away a new one per request beyond ten.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, pool_size))
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._lock = threading.Lock()
        self._log: deque[Delivery] = deque(maxlen=log_limit)

    def _route(self, url: str) -> str:
        if url == self.public_url or url.startswith(self.public_url + "/"):
            return self.line_url + url[len(self.public_url) :]
        return url

    def send(self, url: str, params: dict[str, str], method: str = "POST") -> Delivery:
        """Sign and deliver one webhook; network failures come back as a Delivery
        without a status, never as an exception."""
        parts = urlsplit(url)
        signed_url = urlunsplit(parts._replace(fragment=""))
        timeouts = _timeouts(parts.fragment, self.connect_timeout, self.read_timeout)
        method = "GET" if method.upper() == "GET" else "POST"
        if method == "GET":
            # Twilio puts the fields in the query string and signs the whole URL.
            joiner = "&" if parts.query else ""
            signed_url = urlunsplit(
                parts._replace(query=parts.query + joiner + urlencode(params), fragment="")
            )
            signature = self.validator.compute_signature(signed_url, {})
        else:
            signature = self.validator.compute_signature(signed_url, params)
        delivery = Delivery(signed_url, method, dict(params), signature)
        started = time.perf_counter()
        try:
            response = self._session.request(
                method,
                self._route(signed_url),
                data=params if method == "POST" else None,
                headers={
                    "X-Twilio-Signature": signature,
                    "User-Agent": "TwilioProxy/1.1 (helpline emulator)",
                },
                timeout=timeouts,
                allow_redirects=False,
            )
            delivery.status = response.status_code
            delivery.body = response.text
            delivery.content_type = response.headers.get("Content-Type", "")
        except requests.RequestException as error:
            delivery.error = f"{type(error).__name__}: {error}"
        delivery.seconds = time.perf_counter() - started
        with self._lock:
            self._log.append(delivery)
        return delivery

    def log(self) -> list[Delivery]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()
