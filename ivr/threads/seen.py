"""What the counselor holding a conversation has been shown of it, so the desk
can mark the texter's words they have not read yet (issue 19: a counselor
holding two conversations sees which one has new words, not only the one
open in front of them).

Keys (expiring with the retention period, as the thread's own do):
    thread:<id>:seen    hash counselor -> the sequence of the last message
                        they were shown
"""

from __future__ import annotations

from ivr.threads.store import TEXTER, Threads

# Forward only: a slower poll from a second tab never marks words unread again.
# KEYS: the seen hash. ARGV: counselor, sequence, ttl.
_MARK = """
local seen = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > seen then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class Seen:
    def __init__(self, threads: Threads, retention_seconds: int) -> None:
        self._threads = threads
        self._ttl = retention_seconds
        self._mark = threads.redis.register_script(_MARK)

    @staticmethod
    def _key(thread_id: str) -> str:
        return f"thread:{thread_id}:seen"

    def mark(self, thread_id: str, counselor: str, seq: int) -> None:
        """COUNSELOR was shown the thread's messages up to SEQ."""
        self._mark(keys=[self._key(thread_id)], args=[counselor, seq, self._ttl])

    def last(self, thread_id: str, counselor: str) -> int:
        found = self._threads.redis.hget(self._key(thread_id), counselor)
        return int(found) if found is not None else -1

    def unread(self, thread_id: str, counselor: str) -> int:
        """The texter's messages COUNSELOR has not been shown yet."""
        after = self.last(thread_id, counselor)
        return sum(1 for m in self._threads.messages(thread_id, after=after) if m.sender == TEXTER)
