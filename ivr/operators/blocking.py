"""Blocking and unblocking a number, audited the same way from every surface
(the API, the pages and the CLI call these): the action names, the target
(the block's id, a keyed hash) and the number, masked, in before and after.

Who may: admins. Blocks are listed to viewers too, numbers masked."""

from __future__ import annotations

from datetime import datetime

from ivr.callers.blocklist import Block
from ivr.operators.desk import Desk


def block_number(
    desk: Desk,
    who: str,
    number: str,
    reason: str,
    *,
    seconds: float | None = None,
    until: datetime | None = None,
) -> Block:
    """Block NUMBER (or change its block); raises BlockError on a bad field."""
    before, after = desk.blocklist.block(number, reason, by=who, seconds=seconds, until=until)
    desk.audit.record(
        who, "block.add", after.id, before.audited() if before else None, after.audited()
    )
    return after


def unblock_number(desk: Desk, who: str, number: str) -> Block | None:
    """Lift the block on NUMBER; None when it was not blocked. BlockError on a bad number."""
    return _audited(desk, who, desk.blocklist.unblock(number))


def unblock_id(desk: Desk, who: str, block_id: str) -> Block | None:
    """Lift a block by its id (as listed); None when there is no such block."""
    return _audited(desk, who, desk.blocklist.remove(block_id))


def _audited(desk: Desk, who: str, removed: Block | None) -> Block | None:
    if removed is not None:
        desk.audit.record(who, "block.remove", removed.id, removed.audited(), None)
    return removed
