"""On-call rosters: who the counselors are, when they work, who is on call at
an instant, and where cover is short. Core code: no web imports.

The file format is described in docs/roster-format.md.
"""

from ivr.platform.problems import Problem
from ivr.roster.export import dump_yaml, to_data
from ivr.roster.model import Counselor, Coverage, Override, Roster, Shift
from ivr.roster.oncall import Gap, coverage_gaps, prefer_language, who_is_on_call
from ivr.roster.parse import RosterError, check_roster_file, load_roster_file, parse_roster
from ivr.roster.store import RosterStore, StoredRoster

__all__ = [
    "Counselor",
    "Coverage",
    "Gap",
    "Override",
    "Problem",
    "Roster",
    "RosterError",
    "RosterStore",
    "Shift",
    "StoredRoster",
    "check_roster_file",
    "coverage_gaps",
    "dump_yaml",
    "load_roster_file",
    "parse_roster",
    "prefer_language",
    "to_data",
    "who_is_on_call",
]
