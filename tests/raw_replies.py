"""The types of the tests' Redis replies, which mypy cannot see.

The fixtures connect with redis.Redis.from_url(url), without decode_responses,
so every reply is bytes; redis-py types them bytes | str, since that setting
is only known at run time. A test that relies on bytes casts a reply to one of
these."""

from __future__ import annotations

from typing import TypeAlias

RawHash: TypeAlias = dict[bytes, bytes]
RawList: TypeAlias = list[bytes]
RawScored: TypeAlias = list[tuple[bytes, float]]
RawStream: TypeAlias = list[tuple[bytes, dict[bytes, bytes]]]
