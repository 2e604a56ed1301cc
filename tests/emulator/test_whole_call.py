"""A whole call through the emulator against the real line: a caller rings the
line, hears the crisis numbers, presses 4 then 1 ("text me this"), hangs up;
the worker runs the job; the texts arrive at the caller's phone."""

from __future__ import annotations

import requests

from ivr.content.model import Content
from ivr.content.render import fill
from tests.conftest import PUBLIC_URL
from tests.emulator.conftest import CALLER, LINE_NUMBER
from tests.live import LiveLine
from twilio_emulator import hangup, press


def test_text_me_this_from_the_phone_menu_reaches_the_callers_phone(
    live_line: LiveLine, content: Content
) -> None:
    network = live_line.network
    network.phone(CALLER, press("4"), press("1"), hangup())
    call = network.wait_for_call(network.call_line(CALLER).sid)

    assert call.errors == []
    first = call.fetches[0]
    assert first.url == f"{PUBLIC_URL}/voice/incoming"
    assert (first.status, first.params["CallStatus"]) == (200, "ringing")
    assert all(fetch.status == 200 for fetch in call.fetches)
    spoken = [h["text"] for h in call.heard if h["kind"] == "say"]
    assert "9 1 1" in spoken[0]
    assert "9 8 8" in spoken[0]
    assert [h["text"] for h in call.heard if h["kind"] == "pressed"] == ["4", "1"]
    assert call.status == "completed"

    assert network.sent_messages() == []  # never from inside a webhook
    live_line.run_jobs()

    sent = network.sent_messages(to=CALLER)
    expected = [
        fill(content, part.text("en"), "en", "sms") for part in content.texts["about_klonopin"]
    ]
    assert [m.body for m in sent] == expected
    assert {m.from_ for m in sent} == {LINE_NUMBER}
    assert network.wait_until(lambda: all(m.status == "delivered" for m in sent))
    creates = [r for r in network.requests if r["method"] == "POST"]
    assert [r["status"] for r in creates] == [201] * len(expected)
    # The delivery reports reach the line's /sms/status, signed, and are accepted.
    assert network.wait_until(
        lambda: (
            sum(
                d.url.split("?")[0] == f"{PUBLIC_URL}/sms/status" and d.status in (200, 204)
                for d in network.webhooks.log()
            )
            == 3 * len(expected)
        )
    )


def test_the_lines_signature_check_accepts_the_emulator_and_refuses_a_tampered_copy(
    live_line: LiveLine,
) -> None:
    network = live_line.network
    network.phone(CALLER, hangup())
    network.wait_for_call(network.call_line(CALLER).sid)
    status = network.wait_until(
        lambda: any(d.url.endswith("/voice/status") for d in network.webhooks.log())
    )
    assert status
    delivered = next(d for d in network.webhooks.log() if d.url.endswith("/voice/status"))
    assert delivered.status == 204
    tampered = {**delivered.params, "CallStatus": "in-progress"}
    local = network.config.line_url + "/voice/status"
    refused = requests.post(
        local, data=tampered, headers={"X-Twilio-Signature": delivered.signature}, timeout=5
    )
    assert refused.status_code == 403
