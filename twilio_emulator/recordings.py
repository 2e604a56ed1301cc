"""What a `<Record>` made: the api v2010 Recording resource, and its audio.

Twilio keeps what the caller said; the emulator cannot, so the audio is a
soft 400 Hz tone as long as the recording (8 kHz, 16-bit mono PCM, as Twilio's
own WAV files are), made when asked for. Served by rest_recordings.py.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twilio_emulator.ids import API_VERSION, now, rfc2822

SAMPLE_RATE = 8000
TONE_HZ = 400  # a whole number of samples per cycle: one cycle, repeated
LOUDNESS = 0.2


@dataclass
class RecordingRecord:
    account_sid: str
    call_sid: str
    sid: str
    seconds: int
    source: str = "RecordVerb"
    date_created: datetime = field(default_factory=now)

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        created = rfc2822(self.date_created)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "conference_sid": None,
            "date_created": created,
            "date_updated": created,
            "start_time": created,
            "duration": str(self.seconds),
            "sid": self.sid,
            "price": None,
            "price_unit": "USD",
            "status": "completed",
            "channels": 1,
            "source": self.source,
            "error_code": None,
            "uri": self.uri,
            "encryption_details": None,
            "subresource_uris": {
                "add_on_results": self.uri.replace(".json", "/AddOnResults.json"),
                "transcriptions": self.uri.replace(".json", "/Transcriptions.json"),
            },
            "media_url": f"https://api.twilio.com{self.uri.removesuffix('.json')}",
        }


def wav(seconds: int) -> bytes:
    """SECONDS of a soft tone as a WAV file."""
    period = SAMPLE_RATE // TONE_HZ
    cycle = b"".join(
        struct.pack("<h", round(32767 * LOUDNESS * math.sin(2 * math.pi * n / period)))
        for n in range(period)
    )
    frames = cycle * (TONE_HZ * max(1, seconds))
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(SAMPLE_RATE)
        audio.writeframes(frames)
    return out.getvalue()
