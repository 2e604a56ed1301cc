"""Twilio's webhook connection overrides for the line's two front doors.

Twilio waits up to 10 s to connect and 15 s in all for a webhook before it
tries the number's fallback URL (errors 11205/11200). For a caller in crisis
that is 15 s of silence when the service is down. Overrides in the URL
fragment shorten it (twilio.com/docs/usage/webhooks/webhooks-connection-overrides):

- `ct` connect timeout (ms; Twilio allows 100–10000, default 5000): ours
  2000. A healthy server connects in well under a second; 2 s allows one
  lost SYN (re-sent after 1 s).
- `rt` read timeout (ms, for the first byte and between packets; 100–15000,
  default 15000): ours 3000. The webhooks answer in milliseconds
  (docs/benchmarks.md): 3 s is a hung service, not a slow one.
- `tt` total time for every try (ms; 100–15000, default 15000): ours 5000,
  the most a caller waits before the fallback, whatever happens.
- `rc` retry count (0–5, default 1): ours 1, one more try.
- `rp` retry policy (what is retried: `ct`, `rt`, `5xx`, `all`, …): ours
  `ct`, only a connection that never opened, which cannot have reached us.
  A read timeout is not retried: the service is hung, the fallback helps
  sooner.

So a service that refuses connections fails over in well under a second, an
unreachable host in about 4 s (two connect tries), a hung one in 3 s, and
nothing takes longer than 5 s.

The fragment is never sent over HTTP (RFC 3986: it stays with the client),
so the line cannot see it. Twilio's documentation does not say whether the
signature covers it; `ivr.web.signature` accepts a signature over the URL with
or without this fragment, so either way real requests pass.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

CONNECT_TIMEOUT_MS = 2000
READ_TIMEOUT_MS = 3000
TOTAL_TIMEOUT_MS = 5000
RETRY_COUNT = 1
RETRY_POLICY = "ct"

# Key order as Twilio's documentation lists them.
OVERRIDES = (
    f"ct={CONNECT_TIMEOUT_MS}&rt={READ_TIMEOUT_MS}&tt={TOTAL_TIMEOUT_MS}"
    f"&rc={RETRY_COUNT}&rp={RETRY_POLICY}"
)

# The paths whose URLs carry the overrides: the number's Voice and SMS URLs.
OVERRIDDEN_PATHS = ("/voice/incoming", "/sms/incoming")


def with_overrides(url: str) -> str:
    """`url` with the line's connection overrides as its fragment (any
    fragment it had is replaced)."""
    return urlunsplit(urlsplit(url)._replace(fragment=OVERRIDES))
