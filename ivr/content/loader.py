"""Parse `flows/` into a `Content`, collecting every problem with its place.

Shape errors (a missing field, a wrong type, an unknown field, a missing
translation) are found here; graph errors (unknown or unreachable nodes, dead
ends, menus without a person) are found by `ivr.content.check`.

Each file has its own loader, all reading through one `Reader`
(`ivr.content.reader`): `line_loader` (read first: it sets the languages),
`voice_loader`, `texts_loader`, `sms_loader`, `wrapup_loader`, and `crisis_loader` for
`flows/crisis/`. This module only puts them together.
"""

from __future__ import annotations

from pathlib import Path

from ivr.content.crisis_loader import read_crisis
from ivr.content.line_loader import LINE_FILE, read_line
from ivr.content.model import Content
from ivr.content.reader import Reader
from ivr.content.sms_loader import SMS_FILE, read_sms
from ivr.content.texts_loader import TEXTS_FILE, read_texts
from ivr.content.voice_loader import VOICE_FILE, read_voice
from ivr.content.wrapup_loader import WRAPUP_FILE, read_wrapup
from ivr.content.yamlsrc import SourceMap, Where, YamlProblem, load_yaml
from ivr.platform.problems import FileProblems, Problem


class ContentError(FileProblems):
    """Content that cannot be used: every problem, each with its place."""


def _file(directory: Path, name: str, reader: Reader) -> SourceMap | None:
    path = directory / name
    if not path.is_file():
        reader.problem(Where(name, 1), f"missing content file {name}")
        return None
    try:
        data = load_yaml(path, name)
    except YamlProblem as problem:
        reader.problem(problem.where, problem.message)
        return None
    return reader.mapping(data, Where(name, 1), name)


def read_content(directory: Path) -> tuple[Content | None, list[Problem]]:
    """Everything that could be parsed, and every problem found on the way."""
    reader = Reader()
    line_data = _file(directory, LINE_FILE, reader)
    voice_data = _file(directory, VOICE_FILE, reader)
    texts_data = _file(directory, TEXTS_FILE, reader)
    sms_data = _file(directory, SMS_FILE, reader)
    wrapup_data = _file(directory, WRAPUP_FILE, reader)
    line = read_line(reader, line_data) if line_data is not None else None
    voice = read_voice(reader, voice_data) if voice_data is not None else None
    texts = read_texts(reader, texts_data) if texts_data is not None else None
    sms = read_sms(reader, sms_data) if sms_data is not None else None
    wrapup = read_wrapup(reader, wrapup_data) if wrapup_data is not None else None
    crisis, crisis_problems = read_crisis(directory)
    reader.problems += crisis_problems
    if (
        line is None
        or voice is None
        or texts is None
        or sms is None
        or crisis is None
        or wrapup is None
        or (line["navigation"] is None)
    ):
        return None, sorted(reader.problems)
    content = Content(
        languages=reader.languages,
        voice=voice,
        texts=texts,
        sms=sms,
        crisis=crisis,
        wrapup=wrapup,
        files=(LINE_FILE, VOICE_FILE, TEXTS_FILE, SMS_FILE, WRAPUP_FILE),
        **line,
    )
    return content, sorted(reader.problems)
