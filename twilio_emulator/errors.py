"""Twilio's REST errors: the code, the HTTP status it comes with, and the JSON
body `{code, message, more_info, status}` the official client turns into a
`TwilioRestException`.

Codes and statuses checked against Twilio's error dictionary
(https://www.twilio.com/docs/api/errors/<code>) and the api v2010 description
in twilio/twilio-oai (spec/json/twilio_api_v2010.json): the Call update enum is
`canceled|completed`, a Message's `error_code` is an integer.
"""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, message). Messages read like Twilio's; `{…}` are filled in.
CATALOG: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter: {detail}"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20404: (404, "The requested resource {path} was not found"),
    # Twilio's "Conflict" (docs/api/errors/20409): "The resource is not in a state
    # that allows this modification". Used for deleting a queue with callers in it,
    # where Twilio documents the refusal ("Only empty queues are deletable") but not
    # the code it answers with.
    20409: (409, "Conflict: {detail}"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21201: (400, "No 'To' number is specified"),
    21205: (400, "Url is not a valid URL: {url}"),
    21210: (
        400,
        "The source phone number provided, {from_}, is not yet verified for your account.",
    ),
    21211: (400, "Invalid 'To' Phone Number: {to}"),
    21212: (400, "Invalid From Number (caller ID): {from_}"),
    21213: (400, "Caller phone number is required"),
    21220: (400, "Call is not in-progress. Cannot redirect."),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the "
        "'To' number: {to}.",
    ),
    21602: (400, "Message body is required."),
    21606: (
        400,
        "The From phone number {from_} is not a valid, SMS-capable inbound phone number "
        "or short code for your account.",
    ),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}

# Delivery errors: reported by status callback and on the Message, never at create.
DELIVERY_ERRORS: dict[int, str] = {
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30032: "Toll-Free Number Has Not Been Verified",
    30450: "Message delivery blocked (SMS pumping protection)",
}
# These end `failed` (Twilio never handed the message to a carrier); the rest `undelivered`.
FAILED_DELIVERY = frozenset({30032, 30450})


class TwilioError(Exception):
    """An error the REST API answers with instead of a resource."""

    def __init__(self, code: int, status: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def twilio_error(code: int, status: int | None = None, **details: str) -> TwilioError:
    """The error for `code`, with Twilio's status unless one is forced (faults)."""
    known_status, template = CATALOG.get(code, (status or 400, "Error {code}"))
    message = template.format_map(_Blank(code=str(code), **details))
    return TwilioError(code, status or known_status, message)


def delivery_status(code: int) -> str:
    return "failed" if code in FAILED_DELIVERY else "undelivered"
