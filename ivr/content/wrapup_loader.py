"""Parse `flows/wrapup.yaml`: what a counselor records after a contact
(issue 19) — the dispositions, the risk levels (in order, lowest first) and
the referrals they may pick, each with its label in every language."""

from __future__ import annotations

import re

from ivr.content.model import Prompt, WrapUpContent
from ivr.content.reader import Reader
from ivr.content.yamlsrc import SourceMap

WRAPUP_FILE = "wrapup.yaml"
LISTS = ("dispositions", "risks", "referrals")
# A code is stored with the contact and joined with commas: letters, digits, _.
_CODE = re.compile(r"[a-z0-9_]{1,40}")


def read_wrapup(reader: Reader, data: SourceMap) -> WrapUpContent | None:
    reader.fields(data, WRAPUP_FILE, set(LISTS), set())
    lists: dict[str, dict[str, Prompt]] = {}
    for name in LISTS:
        raw = reader.mapping(data.get(name), data.at(name), name)
        if raw is None:
            return None
        codes: dict[str, Prompt] = {}
        for code in raw:
            where = raw.at(code)
            if not _CODE.fullmatch(str(code)):
                reader.problem(where, f"{name}: code '{code}' must be 1 to 40 of a-z, 0-9 and _")
                continue
            label = reader.prompt(raw, code, f"{name} '{code}'")
            if label is not None:
                codes[str(code)] = label
        if not codes:
            reader.problem(data.at(name), f"{name}: give at least one")
        lists[name] = codes
    return WrapUpContent(lists["dispositions"], tuple(lists["risks"].items()), lists["referrals"])
