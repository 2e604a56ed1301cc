"""How many SMS segments a text costs: GSM-7 when every character allows it,
otherwise UCS-2, where one accent or curly quote shrinks a segment from 160
characters to 70."""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38 default alphabet; the extension table's characters take two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    forced_by: str | None  # the first character that forced UCS-2


def count_segments(text: str) -> SegmentCount:
    forced_by = next((ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION), None)
    if forced_by is None:
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        segments = 1 if units <= 160 else math.ceil(units / 153)
        return SegmentCount("GSM-7", units, segments, None)
    units = len(text.encode("utf-16-le")) // 2
    segments = 1 if units <= 70 else math.ceil(units / 67)
    return SegmentCount("UCS-2", units, segments, forced_by)
