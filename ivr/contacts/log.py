"""The contact log's filter (issue 20): which contacts a page, an export or
a report shows — by date range, channel, language, outcome, counselor and
disposition. Every field is optional; an empty filter is every contact in
the range."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.contacts.records import Contact, Contacts


@dataclass(frozen=True)
class ContactFilter:
    start: float
    end: float
    channel: str = ""
    language: str = ""
    outcome: str = ""
    counselor: str = ""
    disposition: str = ""

    def matches(self, contact: Contact) -> bool:
        return (
            (not self.channel or contact.channel == self.channel)
            and (not self.language or contact.language == self.language)
            and (not self.outcome or contact.outcome == self.outcome)
            and (not self.counselor or contact.counselor == self.counselor)
            and (not self.disposition or self.disposition in contact.dispositions)
        )


def contact_log(contacts: Contacts, wanted: ContactFilter) -> list[Contact]:
    """The contacts WANTED, oldest first."""
    return [c for c in contacts.between(wanted.start, wanted.end) if wanted.matches(c)]
