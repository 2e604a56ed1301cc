"""The operator API's blocked numbers: viewers list them (masked), admins
block and unblock, every change audited. A number only ever travels in a
JSON body, never in a path or query string (those end up in access logs);
a listed block can also be named by its id, a keyed hash of the number."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ivr.callers.blocklist import MAX_REASON, Block, BlockError
from ivr.operators.accounts import Operator
from ivr.operators.blocking import block_number, unblock_id, unblock_number
from ivr.web.api import schemas as s
from ivr.web.api.registry import ApiError, endpoint
from ivr.web.api.routes import api, authenticate, desk, who

MAX_DAYS = 365
BlockId = Annotated[str, Field(min_length=1, max_length=40, examples=["n_0123456789abcdef"])]


class BlockIn(s.Strict):
    """Give `days` or `until`, not both; neither blocks for 30 days."""

    number: s.Phone
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON)]
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    until: datetime | None = Field(
        None, description="When the block ends, with its offset; at most 365 days ahead."
    )


class BlockRemoveIn(s.Strict):
    """Name the block by `number` or by `id` (as listed), not both."""

    number: s.Phone | None = None
    id: BlockId | None = None


class BlockOut(BaseModel):
    id: str = Field(description="A keyed hash of the number: names the block, reveals nothing.")
    number: str = Field(description="Masked: the last four digits.")
    reason: str
    by: str
    created: datetime
    until: datetime = Field(description="The block ends by itself then.")
    crisis_texts: int = Field(
        description="Texts from this number that read as a crisis since it was blocked: "
        "each was answered with the 911/988 guidance, and no counselor was alerted."
    )
    last_crisis: datetime | None = None


def _shown(block: Block) -> BlockOut:
    return BlockOut.model_validate(vars(block))


def _refused(error: BlockError, duration_field: str = "days") -> ApiError:
    field = duration_field if error.field == "duration" else error.field
    return ApiError(
        422, "invalid", f"{field}: {error}", [s.FieldError(field=field, message=str(error))]
    )


@endpoint(api, authenticate, "GET", "/blocks", summary="Blocked numbers, the soonest to end first",
          tag="blocks", response=list[BlockOut])  # fmt: skip
def list_blocks(operator: Operator) -> list[BlockOut]:
    return [_shown(b) for b in desk().blocklist.list()]


@endpoint(
    api, authenticate, "POST", "/blocks", summary="Block a number for a while, or change its block",
    tag="blocks", role="admin", body=BlockIn, response=BlockOut, status=201,
)  # fmt: skip
def add_block(operator: Operator, body: BlockIn) -> BlockOut:
    if body.days is not None and body.until is not None:
        raise ApiError(422, "invalid", "give days or until, not both", [
            s.FieldError(field="until", message="give days or until, not both")
        ])  # fmt: skip
    seconds = None if body.days is None else body.days * 86400
    try:
        block = block_number(
            desk(), who(operator), body.number, body.reason, seconds=seconds, until=body.until
        )
    except BlockError as error:
        raise _refused(error, "until" if body.until is not None else "days") from None
    return _shown(block)


@endpoint(
    api, authenticate, "POST", "/blocks/remove",
    summary="Unblock a number, named by the number or by the block's id (in the body)",
    tag="blocks", role="admin", body=BlockRemoveIn, response=BlockOut, errors=(404,),
)  # fmt: skip
def remove_block(operator: Operator, body: BlockRemoveIn) -> BlockOut:
    if (body.number is None) == (body.id is None):
        message = "give the number or the block's id, one of the two"
        raise ApiError(422, "invalid", message, [s.FieldError(field="number", message=message)])
    try:
        if body.number is not None:
            removed = unblock_number(desk(), who(operator), body.number)
        else:
            removed = unblock_id(desk(), who(operator), body.id or "")
    except BlockError as error:
        raise _refused(error) from None
    if removed is None:
        raise ApiError(404, "not_found", "that number is not blocked")
    return _shown(removed)
