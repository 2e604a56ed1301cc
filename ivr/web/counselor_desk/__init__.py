"""The counselor's desk (/desk, issue 19): what is offered to me, my open
conversations, my wrap-ups; readable on a 390 px phone. Server-rendered like
/admin, sharing its login, sessions and CSRF; kept live by short polling
(desk.js asks every second: a new texter message shows within 2 s)."""

from ivr.web.counselor_desk import pages
from ivr.web.counselor_desk.door import desk_pages

__all__ = ["desk_pages", "pages"]
