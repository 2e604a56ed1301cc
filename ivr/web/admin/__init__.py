"""The operators' pages: one blueprint (guard.py), its pages in the modules below."""

from ivr.web.admin import (
    blocked_pages,
    contact_pages,
    login,
    pages,
    report_pages,
    roster_pages,
)
from ivr.web.admin.guard import admin
from ivr.web.admin.guard import configure as configure_admin

__all__ = [
    "admin",
    "blocked_pages",
    "configure_admin",
    "contact_pages",
    "login",
    "pages",
    "report_pages",
    "roster_pages",
]
