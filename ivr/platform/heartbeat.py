"""Workers say they are alive; /healthz asks how many said so just now.

RQ's own worker registry cannot answer that: a worker killed with SIGKILL
stays registered until its key expires, and an idle RQ worker renews it only
every few minutes. So each `helpline worker` process writes a heartbeat from
its sweeper thread, every few seconds: its name, scored with Redis's clock, in
one sorted set. Redis's clock, not the hosts': a web and a worker on machines a
few seconds apart would otherwise call a live worker dead (or a dead one live).
"""

from __future__ import annotations

import os
import socket

import redis

KEY = "workers:heartbeat"
FRESH_SECONDS = 10  # the sweeper beats every 2 s: five missed beats is a dead worker
FORGET_SECONDS = 60  # beats older than this are pruned (the set stays small)

# One round trip each; TIME inside the script is Redis's clock (scripts
# replicate their effects, so the write after TIME is allowed).
_BEAT = """
local heartbeats = KEYS[1]
local worker, forget_seconds = ARGV[1], ARGV[2]
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', heartbeats, t, worker)
redis.call('ZREMRANGEBYSCORE', heartbeats, '-inf', t - tonumber(forget_seconds))
redis.call('EXPIRE', heartbeats, forget_seconds)
return 1
"""
_FRESH = """
local heartbeats = KEYS[1]
local within = tonumber(ARGV[1])
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
return redis.call('ZCOUNT', heartbeats, t - within, '+inf')
"""


def worker_name() -> str:
    """This process, as the heartbeat names it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(client: redis.Redis, name: str | None = None) -> None:
    client.eval(_BEAT, 1, KEY, name or worker_name(), FORGET_SECONDS)


def forget(client: redis.Redis, name: str | None = None) -> None:
    """A worker stopping on purpose: not alive from now on (not in 10 s)."""
    client.zrem(KEY, name or worker_name())


def alive(client: redis.Redis, within: float = FRESH_SECONDS) -> int:
    """How many workers beat within the last `within` seconds."""
    return int(client.eval(_FRESH, 1, KEY, within))
